#include "model/initialization.h"

#include <cmath>

namespace birdie::model {

Tensor spread_over_halves(std::int64_t n, const std::function<double(double u)>& value) {
  const std::int64_t half = n % 2 == 0 ? n / 2 : n;
  Tensor values = Tensor::empty({n}, DType::f64);
  double* v = values.data<double>();
  for (std::int64_t k = 0; k < n; ++k) v[k] = value(half > 1 ? double(k % half) / double(half - 1) : 0.0);
  return values;
}

void initialize_parameters(autograd::ParameterSet& parameters, std::int64_t layers, RandomGenerator& rng,
                           const OwnInitialValues& own) {
  const double output_scale = 1.0 / std::sqrt(2.0 * double(layers));
  // Weights are drawn straight into the flat buffer when it is an f32 or f64 CPU buffer;
  // otherwise (on the GPU, or bf16) into one reused CPU staging buffer, in f64 for f64
  // and f32 for the rest, which rounds to the same bits as rounding the f64 draw.
  Tensor staging;
  for (std::size_t i = 0; i < parameters.specs().size(); ++i) {
    const autograd::ParameterSpec& spec = parameters.specs()[i];
    const Tensor& target = parameters.tensors()[i];
    const std::optional<OwnInitialValue> mine = own ? own(spec) : std::nullopt;
    if (mine && mine->values.defined()) {
      check_shape(mine->values, spec.shape, spec.name.c_str());
      target.copy_from(mine->values.to(target.dtype()).to(target.device()));
      continue;
    }
    const bool is_norm = spec.name.ends_with("norm.weight");
    if (!mine && (is_norm || spec.name.ends_with(".bias"))) {
      target.copy_from(Tensor::full(spec.shape, is_norm ? 1.0 : 0.0, target.dtype(), target.device()));
      continue;
    }
    const bool is_matrix = spec.shape.size() == 2 && spec.name != "embedding.weight";
    double std = is_matrix ? 1.0 / std::sqrt(double(spec.shape[1])) : 1.0;
    if (spec.name.ends_with("out_proj.weight")) std *= output_scale;
    if (mine) std = mine->std;
    const DType fill_dtype = target.dtype() == DType::f64 ? DType::f64 : DType::f32;
    if (target.is_cpu() && target.dtype() == fill_dtype) {
      Tensor values = target;
      fill_truncated_normal(values, rng, std);
      continue;
    }
    if (!staging.defined() || staging.dtype() != fill_dtype || staging.numel() < target.numel())
      staging = Tensor::empty({target.numel()}, fill_dtype);
    Tensor values = staging.slice(0, target.numel()).reshape(spec.shape);
    fill_truncated_normal(values, rng, std);
    target.copy_from(values.dtype() == target.dtype() ? values : values.to(target.dtype()));
  }
}

}  // namespace birdie::model
