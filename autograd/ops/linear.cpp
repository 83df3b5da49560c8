#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/matmul.h"

namespace birdie::autograd {

namespace {

// x's gradient Σ_k dy_k · W_k (terms: the [rows, out_k] dy_k and the [out_k, in] W_k),
// summed inside the products: into x's gradient with β = 1 when x already has one (an input
// used twice, as Hawk's convolution output or a Transformer's normed input: no temporary,
// no addition pass), else into a fresh tensor that x adopts.
void add_input_gradient(const Tensor& x, std::int64_t in, const std::vector<std::pair<Tensor, Tensor>>& terms) {
  if (!x.requires_grad() || terms.empty()) return;
  const Tensor existing = x.grad();
  const bool fresh = !existing.defined();
  const Tensor dx = fresh ? empty_like(x) : existing;
  Tensor dx2 = dx.reshape({-1, in});
  for (std::size_t k = 0; k < terms.size(); ++k)
    kernels::matmul(terms[k].first, false, terms[k].second, false, dx2, 1.0, fresh && k == 0 ? 0.0 : 1.0);
  if (fresh) accumulate_fresh_grad(x, dx);
}

// residual + x·weightᵀ + bias as one node and one product: the bias and the residual
// ride in the product's epilogue (kernels::matmul_fused), and the backward's weight
// gradient carries the bias gradient (Σ over rows of dy) in its own epilogue. Neither the
// forward nor the backward makes a pass of its own over the activations.
Tensor linear_node(const Tensor& residual, const Tensor& x, const Tensor& weight,
                   const Tensor& bias) {
  BIRDIE_CHECK(weight.rank() == 2 && x.rank() >= 1 && x.dim(-1) == weight.dim(1),
               "linear: input ", x.describe(), " does not match weight ", weight.describe(),
               " (expected [out, in] with in = the input's last dimension)");
  const std::int64_t in = weight.dim(1), out = weight.dim(0);
  Tensor y = Tensor::empty(with_last(x.shape(), out), x.dtype(), x.device());
  if (bias.defined())
    BIRDIE_CHECK(bias.rank() == 1 && bias.dim(0) == out && bias.dtype() == x.dtype(),
                 "linear: bias ", bias.describe(), " does not match weight ", weight.describe(),
                 " and input ", x.describe(), " (expected [out] of the input's dtype)");
  if (residual.defined())
    BIRDIE_CHECK(residual.shape() == y.shape() && residual.dtype() == x.dtype(),
                 "add_linear: residual ", residual.describe(), " does not match the product ",
                 y.describe());
  const Tensor x2 = x.reshape({-1, in});
  Tensor y2 = y.reshape({-1, out});
  kernels::matmul_fused(x2, false, weight, true, y2,
                        {bias, {}, residual.defined() ? residual.reshape({-1, out}) : Tensor()},
                        1.0, residual.defined() ? 1.0 : 0.0);
  if (!needs_grad({&residual, &x, &weight, &bias})) return y;
  std::vector<Tensor> inputs{x, weight};
  for (const Tensor* t : {&bias, &residual})
    if (t->defined()) inputs.push_back(*t);
  record(residual.defined() ? "add_linear" : "linear", std::move(inputs), {y},
         [residual, x, x2, weight, bias, in, out](const std::vector<Tensor>& grads) {
    const Tensor& dy = grads[0];
    const Tensor dy2 = dy.reshape({-1, out});
    add_input_gradient(x, in, {{dy2, weight}});
    Tensor dweight = grad_buffer(weight);
    const bool wants_bias = bias.defined() && bias.requires_grad();
    // The bias gradient rides on the weight gradient's product when it can take the
    // weight gradient's dtype (the fp32 master gradients of a bf16 model both are).
    const bool bias_in_epilogue =
        wants_bias && dweight.defined() &&
        (bias.grad().defined() ? bias.grad().dtype() : bias.dtype()) == dweight.dtype();
    if (bias_in_epilogue) {
      Tensor dbias = Tensor::empty({out}, dweight.dtype(), dweight.device());
      kernels::matmul_fused(dy2, true, x2, false, dweight, {{}, dbias}, 1.0, 1.0);
      accumulate_fresh_grad(bias, dbias);
    } else {
      if (dweight.defined()) kernels::matmul(dy2, true, x2, false, dweight, 1.0, 1.0);
      if (wants_bias) accumulate_grad(bias, reduce_to(dy2, bias));
    }
    accumulate_output_grad(residual, dy);
  });
  return y;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return linear_node(Tensor(), x, weight, bias);
}

Tensor add_linear(const Tensor& residual, const Tensor& x, const Tensor& weight) {
  return linear_node(residual, x, weight, Tensor());
}

// One product per part, on the weight's rows for it (contiguous views), so each part is
// written where it lives: no column copies either way. The backward sums the parts' input
// gradients inside the products (β = 1 after the first) and writes each part's weight
// gradient into its rows of the weight's.
std::vector<Tensor> linear_parts(const Tensor& x, const Tensor& weight, const std::vector<std::int64_t>& widths) {
  BIRDIE_CHECK(weight.rank() == 2 && x.rank() >= 1 && x.dim(-1) == weight.dim(1),
               "linear_parts: input ", x.describe(), " does not match weight ", weight.describe(),
               " (expected [out, in] with in = the input's last dimension)");
  std::vector<std::int64_t> begins;
  std::int64_t total = 0;
  for (std::int64_t w : widths) {
    BIRDIE_CHECK(w > 0, "linear_parts: width ", w, " (each part needs at least one output feature)");
    begins.push_back(total);
    total += w;
  }
  BIRDIE_CHECK(total == weight.dim(0), "linear_parts: widths sum to ", total, ", not the ", weight.dim(0),
               " output features of weight ", weight.describe());
  const std::int64_t in = weight.dim(1);
  const Tensor x2 = x.reshape({-1, in});
  std::vector<Tensor> parts;
  for (std::size_t k = 0; k < widths.size(); ++k) {
    Tensor part = Tensor::empty(with_last(x.shape(), widths[k]), x.dtype(), x.device());
    Tensor part2 = part.reshape({-1, widths[k]});
    kernels::matmul(x2, false, weight.slice(begins[k], begins[k] + widths[k]), true, part2);
    parts.push_back(part);
  }
  if (!needs_grad({&x, &weight})) return parts;
  record("linear_parts", {x, weight}, parts, [x, x2, weight, widths, begins, in](const std::vector<Tensor>& grads) {
    std::vector<std::pair<Tensor, Tensor>> terms;
    Tensor dweight = grad_buffer(weight);
    for (std::size_t k = 0; k < widths.size(); ++k) {
      if (!grads[k].defined()) continue;
      const Tensor dy2 = grads[k].reshape({-1, widths[k]});
      terms.emplace_back(dy2, weight.slice(begins[k], begins[k] + widths[k]));
      if (dweight.defined()) {
        Tensor rows = dweight.slice(begins[k], begins[k] + widths[k]);
        kernels::matmul(dy2, true, x2, false, rows, 1.0, 1.0);
      }
    }
    add_input_gradient(x, in, terms);
  });
  return parts;
}

}  // namespace birdie::autograd
