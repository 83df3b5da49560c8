#include "autograd/parameters.h"

namespace birdie::autograd {

ParameterSet::ParameterSet(std::vector<ParameterSpec> specs, DType dtype, Device device)
    : specs_(std::move(specs)) {
  std::int64_t total = 0;
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const ParameterSpec& spec = specs_[i];
    BIRDIE_CHECK(!spec.name.empty(), "ParameterSet: parameter ", i, " has no name");
    BIRDIE_CHECK(index_.emplace(spec.name, i).second, "ParameterSet: the name '", spec.name,
                 "' is used twice");
    offsets_.push_back(total);
    total += shape_numel(spec.shape);
  }
  values_ = Tensor::zeros({total}, dtype, device);
  grads_ = Tensor::zeros({total}, dtype, device);
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const std::int64_t begin = offsets_[i], end = begin + shape_numel(specs_[i].shape);
    Tensor value = values_.slice(begin, end).reshape(specs_[i].shape);
    value.set_requires_grad(true);
    value.set_grad(grads_.slice(begin, end).reshape(specs_[i].shape));
    tensors_.push_back(value);
  }
}

const Tensor& ParameterSet::operator[](const std::string& name) const {
  auto it = index_.find(name);
  BIRDIE_CHECK(it != index_.end(), "no parameter named '", name, "'");
  return tensors_[it->second];
}

std::int64_t ParameterSet::offset_of(const std::string& name) const {
  auto it = index_.find(name);
  BIRDIE_CHECK(it != index_.end(), "no parameter named '", name, "'");
  return offsets_[it->second];
}

std::vector<kernels::DecaySegment> ParameterSet::decay_segments() const {
  std::vector<kernels::DecaySegment> segments;
  for (std::size_t i = 0; i < specs_.size(); ++i)
    segments.push_back({offsets_[i], shape_numel(specs_[i].shape), specs_[i].decay});
  return segments;
}

}  // namespace birdie::autograd
