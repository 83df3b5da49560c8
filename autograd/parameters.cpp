#include "autograd/parameters.h"

#include <algorithm>

#include "kernels/convert.h"

namespace birdie::autograd {

ParameterSet::ParameterSet(std::vector<ParameterSpec> specs, DType dtype, Device device)
    : specs_(std::move(specs)) {
  std::int64_t total = 0;
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const ParameterSpec& spec = specs_[i];
    BIRDIE_CHECK(!spec.name.empty(), "ParameterSet: parameter ", i, " has no name");
    BIRDIE_CHECK(index_.emplace(spec.name, i).second, "ParameterSet: the name '", spec.name,
                 "' is used twice");
    BIRDIE_CHECK(0 <= spec.no_decay_row_begin && spec.no_decay_row_begin <= spec.no_decay_row_end &&
                     (spec.no_decay_row_end == 0 || (!spec.shape.empty() && spec.no_decay_row_end <= spec.shape[0])),
                 "ParameterSet: parameter '", spec.name, "' has an invalid no-decay row range");
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

std::size_t ParameterSet::index_of(const std::string& name) const {
  auto it = index_.find(name);
  BIRDIE_CHECK(it != index_.end(), "no parameter named '", name, "'");
  return it->second;
}

const Tensor& ParameterSet::operator[](const std::string& name) const { return tensors_[index_of(name)]; }

std::int64_t ParameterSet::offset_of(const std::string& name) const { return offsets_[index_of(name)]; }

ParameterRange ParameterSet::range_of(const std::string& prefix) const {
  std::size_t first = specs_.size(), last = 0;
  for (std::size_t i = 0; i < specs_.size(); ++i)
    if (specs_[i].name.starts_with(prefix)) {
      BIRDIE_CHECK(first == specs_.size() || last + 1 == i, "ParameterSet: the parameters named ", prefix,
                   "* are not contiguous (", specs_[i].name, " comes after others)");
      first = std::min(first, i);
      last = i;
    }
  BIRDIE_CHECK(first < specs_.size(), "ParameterSet: no parameter is named ", prefix, "*");
  return {offsets_[first], offsets_[last] + tensors_[last].numel()};
}

void ParameterSet::add_compute_copy(DType dtype) {
  BIRDIE_CHECK(!has_compute_copy(), "ParameterSet: the compute copy exists already");
  BIRDIE_CHECK(values_.defined(), "ParameterSet: no parameters to copy");
  BIRDIE_CHECK(dtype == DType::bf16 && values_.dtype() == DType::f32,
               "ParameterSet: a compute copy is bf16 over f32 master values, asked for ",
               dtype_name(dtype), " over ", values_.describe());
  compute_values_ = Tensor::empty(values_.shape(), dtype, values_.device());
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const std::int64_t begin = offsets_[i], end = begin + shape_numel(specs_[i].shape);
    Tensor view = compute_values_.slice(begin, end).reshape(specs_[i].shape);
    view.set_requires_grad(true);
    view.set_grad(tensors_[i].grad());
    compute_tensors_.push_back(view);
  }
  refresh_compute_copy();
}

const Tensor& ParameterSet::compute(const std::string& name) const {
  const std::size_t i = index_of(name);
  return has_compute_copy() ? compute_tensors_[i] : tensors_[i];
}

void ParameterSet::refresh_compute_copy() {
  if (has_compute_copy()) kernels::convert(values_, compute_values_);
}

std::vector<kernels::DecaySegment> ParameterSet::decay_segments() const {
  std::vector<kernels::DecaySegment> segments;
  auto append = [&](std::int64_t offset, std::int64_t length, bool decay) {
    if (length == 0) return;
    if (!segments.empty() && segments.back().decay == decay)
      segments.back().length += length;  // merge neighbours: fewer, longer runs
    else
      segments.push_back({offset, length, decay});
  };
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const ParameterSpec& spec = specs_[i];
    const std::int64_t size = shape_numel(spec.shape);
    const std::int64_t row = spec.shape.empty() || spec.shape[0] == 0 ? 0 : size / spec.shape[0];
    const std::int64_t begin = spec.no_decay_row_begin * row, end = spec.no_decay_row_end * row;
    append(offsets_[i], begin, spec.decay);
    append(offsets_[i] + begin, end - begin, false);
    append(offsets_[i] + end, size - end, spec.decay);
  }
  return segments;
}

}  // namespace birdie::autograd
