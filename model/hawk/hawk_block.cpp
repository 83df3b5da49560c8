#include "model/hawk/hawk_block.h"

#include <cmath>

#include "autograd/ops.h"

namespace birdie::model {

void append_hawk_block_specs(std::vector<autograd::ParameterSpec>& specs, const std::string& prefix,
                             const ModelConfig& config) {
  const std::int64_t D = config.dim, C = config.state, K = config.conv_width, M = config.mlp_hidden;
  specs.push_back({prefix + "temporal_norm.weight", {D}, false});
  specs.push_back({prefix + "temporal.in_proj.weight", {2 * C, D}, true});
  specs.push_back({prefix + "temporal.conv.weight", {K, C}, true});
  specs.push_back({prefix + "temporal.conv.bias", {C}, false});
  specs.push_back({prefix + "temporal.gates.weight", {2 * C, C}, true});
  specs.push_back({prefix + "temporal.gates.bias", {2 * C}, false});
  specs.push_back({prefix + "temporal.lambda", {C}, false});
  specs.push_back({prefix + "temporal.out_proj.weight", {D, C}, true});
  specs.push_back({prefix + "mlp_norm.weight", {D}, false});
  specs.push_back({prefix + "mlp.in_proj.weight", {2 * M, D}, true});
  specs.push_back({prefix + "mlp.out_proj.weight", {D, M}, true});
}

HawkBlockWeights hawk_block_weights(const autograd::ParameterSet& parameters, const std::string& prefix) {
  const auto get = [&](const char* name) { return parameters.compute(prefix + name); };
  HawkBlockWeights w{get("temporal_norm.weight"), get("temporal.in_proj.weight"), get("temporal.conv.weight"),
                     get("temporal.conv.bias"),   get("temporal.gates.weight"),   get("temporal.gates.bias"),
                     parameters[prefix + "temporal.lambda"],                      get("temporal.out_proj.weight"),
                     get("mlp_norm.weight"),      get("mlp.in_proj.weight"),      get("mlp.out_proj.weight")};
  w.state = w.lambda.dim(0);
  return w;
}

namespace {

// Λ with σ(Λ)^8 evenly spread over [0.9, 0.999] across each half of the C channels.
Tensor griffin_lambda(std::int64_t C) {
  return spread_over_halves(C, [](double u) {
    const double a = std::pow(0.9 + 0.099 * u, 1.0 / 8.0);  // σ(Λ)
    return std::log(a / (1.0 - a));
  });
}

}  // namespace

OwnInitialValues hawk_initial_values() {
  return [](const autograd::ParameterSpec& spec) -> std::optional<OwnInitialValue> {
    if (spec.name.ends_with("temporal.lambda")) return OwnInitialValue{griffin_lambda(spec.shape[0])};
    if (spec.name.ends_with("temporal.conv.weight"))
      return OwnInitialValue{Tensor(), 1.0 / std::sqrt(double(spec.shape[0]))};
    return std::nullopt;
  };
}

std::vector<Tensor> hawk_temporal_input(const HawkBlockWeights& w, const Tensor& x, double norm_eps) {
  return autograd::linear_parts(autograd::rmsnorm(x, w.temporal_norm, norm_eps), w.in_proj, {w.state, w.state});
}

Tensor hawk_gates(const HawkBlockWeights& w, const Tensor& c) {
  return autograd::linear(c, w.gates_weight, w.gates_bias);
}

Tensor hawk_temporal_output(const HawkBlockWeights& w, const Tensor& x, const Tensor& gated) {
  return autograd::add_linear(x, gated, w.out_proj);
}

Tensor hawk_mlp(const HawkBlockWeights& w, const Tensor& x, double norm_eps) {
  namespace ag = autograd;
  const Tensor up = ag::linear(ag::rmsnorm(x, w.mlp_norm, norm_eps), w.mlp_in_proj);
  return ag::add_linear(x, ag::geglu(up), w.mlp_out_proj);
}

Tensor hawk_block(const HawkBlockWeights& w, const Tensor& x, const Tensor& reset, kernels::ScanDirection direction,
                  double norm_eps) {
  const std::vector<Tensor> gz = hawk_temporal_input(w, x, norm_eps);
  const Tensor c = autograd::causal_conv1d(gz[1], w.conv_weight, w.conv_bias, reset, direction);
  const Tensor gated = autograd::rglru_scan(c, hawk_gates(w, c), w.lambda, reset, direction, gz[0]);
  return hawk_mlp(w, hawk_temporal_output(w, x, gated), norm_eps);
}

}  // namespace birdie::model
