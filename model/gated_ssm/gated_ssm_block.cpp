#include "model/gated_ssm/gated_ssm_block.h"

#include <cmath>

#include "autograd/ops.h"

namespace birdie::model {

void append_gated_ssm_block_specs(std::vector<autograd::ParameterSpec>& specs,
                                  const std::string& prefix, std::int64_t dim, std::int64_t state) {
  specs.push_back({prefix + "norm.weight", {dim}, false});
  // Rows [N, 2N) are W_f: no weight decay on the forget gate (§5).
  specs.push_back({prefix + "in_proj.weight", {4 * state, dim}, true, state, 2 * state});
  specs.push_back({prefix + "in_proj.bias", {4 * state}, false});
  specs.push_back({prefix + "out_proj.weight", {dim, state}, true});
}

GatedSsmBlockWeights gated_ssm_block_weights(const autograd::ParameterSet& parameters,
                                             const std::string& prefix) {
  return {parameters.compute(prefix + "norm.weight"), parameters.compute(prefix + "in_proj.weight"),
          parameters.compute(prefix + "in_proj.bias"), parameters.compute(prefix + "out_proj.weight")};
}

namespace {

// ln(m − 1) with m log-uniform over [10, 1000] across each half of the N forget rows.
Tensor spread_forget_bias(std::int64_t state) {
  return spread_over_halves(state, [](double u) { return std::log(std::pow(10.0, 1.0 + 2.0 * u) - 1.0); });
}

}  // namespace

OwnInitialValues gated_ssm_initial_values(ForgetGateInit forget) {
  if (forget == ForgetGateInit::zero) return {};
  return [](const autograd::ParameterSpec& spec) -> std::optional<OwnInitialValue> {
    if (!spec.name.ends_with("in_proj.bias")) return std::nullopt;
    const std::int64_t state = spec.shape[0] / 4;
    Tensor bias = Tensor::zeros(spec.shape, DType::f64);
    bias.slice(state, 2 * state).copy_from(spread_forget_bias(state));
    return OwnInitialValue{bias};
  };
}

Tensor gated_ssm_block_projection(const GatedSsmBlockWeights& w, const Tensor& x, double norm_eps) {
  return autograd::linear(autograd::rmsnorm(x, w.norm, norm_eps), w.in_proj_weight, w.in_proj_bias);
}

Tensor gated_ssm_block_output(const GatedSsmBlockWeights& w, const Tensor& x, const Tensor& y) {
  return autograd::add_linear(x, y, w.out_proj_weight);
}

Tensor gated_ssm_block(const GatedSsmBlockWeights& w, const Tensor& x, const Tensor& reset,
                       kernels::ScanDirection direction, double norm_eps) {
  const Tensor proj = gated_ssm_block_projection(w, x, norm_eps);
  return gated_ssm_block_output(w, x, autograd::gated_scan(proj, reset, direction));
}

}  // namespace birdie::model
