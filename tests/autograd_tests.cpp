// autograd/: the tape's bookkeeping: fan-out accumulation, reuse, no-grad, tape reset,
// parameters in one flat buffer, and the AdamW optimizer on top of it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "autograd/adamw.h"
#include "autograd/ops.h"
#include "autograd/parameters.h"
#include "autograd/tape.h"
#include "engine/random.h"
#include "kernels/reduce.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;
namespace ag = birdie::autograd;

TEST_CASE("a tensor used twice gets both contributions") {
  Tensor x = Tensor::from_values<double>({1.0, 2.0, 3.0}, {3});
  x.set_requires_grad(true);
  // y = Σ (x·x + 3x): dy/dx = 2x + 3.
  ag::backward(ag::sum(ag::add(ag::mul(x, x), ag::scale(x, 3.0))));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{5, 7, 9});
  // A second backward accumulates on top (like micro-batches) until zeroed.
  ag::backward(ag::sum(x));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{6, 8, 10});
}

TEST_CASE("reusing an intermediate result sums the paths through it") {
  Tensor x = Tensor::from_values<double>({0.5, -1.0}, {2});
  x.set_requires_grad(true);
  Tensor s = ag::sigmoid(x);
  // L = Σ (s + s·s): dL/dx = (1 + 2s)·s(1-s).
  ag::backward(ag::sum(ag::add(s, ag::mul(s, s))));
  const auto sv = s.to_vector<double>(), g = x.grad().to_vector<double>();
  for (int i = 0; i < 2; ++i) CHECK(g[i] == doctest::Approx((1 + 2 * sv[i]) * sv[i] * (1 - sv[i])));
  CHECK_FALSE(s.grad().defined());  // intermediate gradients are released
}

TEST_CASE("a gradient handed on unchanged is adopted, never shared with the caller's") {
  Tensor x = Tensor::from_values<double>({1.0, 2.0}, {2});
  x.set_requires_grad(true);
  // The residual path hands d out on to x, and the second use of x then adds into it:
  // the caller's gradient must not change, and x's is the sum.
  const Tensor out = ag::add(x, ag::scale(x, 3.0));
  const Tensor seed = Tensor::from_values<double>({10.0, 20.0}, {2});
  ag::backward(out, seed);
  CHECK(seed.to_vector<double>() == std::vector<double>{10, 20});
  CHECK(x.grad().to_vector<double>() == std::vector<double>{40, 80});
  CHECK(x.grad().raw_data() != seed.raw_data());
  // Inside the pass an intermediate's gradient is taken over without a copy.
  Tensor y = Tensor::from_values<double>({1.0, 2.0}, {2});
  y.set_requires_grad(true);
  const Tensor h = ag::mul(y, y);
  ag::backward(ag::sum(ag::add(ag::reshape(h, {2, 1}), ag::reshape(y, {2, 1}))));
  CHECK(y.grad().to_vector<double>() == std::vector<double>{3, 5});
}

TEST_CASE("the tape records only what needs a gradient and is cleared by backward") {
  Tensor constant = Tensor::from_values<double>({1, 2}, {2});
  Tensor x = Tensor::from_values<double>({3, 4}, {2});
  (void)ag::gelu(constant);
  CHECK(ag::tape().size() == 0);  // nothing requires a gradient
  x.set_requires_grad(true);
  Tensor y = ag::mul(ag::gelu(x), constant);
  CHECK(ag::tape().size() == 2);
  CHECK(y.requires_grad());
  ag::backward(ag::sum(y));
  CHECK(ag::tape().size() == 0);
  CHECK_FALSE(constant.grad().defined());
}

TEST_CASE("NoGradGuard stops recording and restores the previous mode") {
  Tensor x = Tensor::from_values<double>({1, 2}, {2});
  x.set_requires_grad(true);
  {
    ag::NoGradGuard guard;
    CHECK_FALSE(ag::grad_enabled());
    {
      ag::NoGradGuard nested;
    }
    CHECK_FALSE(ag::grad_enabled());
    Tensor y = ag::scale(x, 2.0);
    CHECK_FALSE(y.requires_grad());
    CHECK(ag::tape().size() == 0);
  }
  CHECK(ag::grad_enabled());
}

TEST_CASE("backward refuses losses it cannot differentiate, and still clears the tape") {
  Tensor x = Tensor::from_values<double>({1, 2}, {2});
  x.set_requires_grad(true);
  Tensor y = ag::scale(x, 2.0);
  CHECK_THROWS_WITH_AS(ag::backward(y), doctest::Contains("the loss must have one element"), Error);
  Tensor c = Tensor::from_values<double>({1}, {1});
  CHECK_THROWS_WITH_AS(ag::backward(c), doctest::Contains("does not depend on anything"), Error);
  ag::tape().clear();
}

TEST_CASE("backward's seed is recognized, so a rule can skip multiplying by it") {
  Tensor x = Tensor::from_values<double>({1.0, -2.0}, {2});
  x.set_requires_grad(true);
  // sum's rule skips the multiplication only for the seed: both paths give the same values.
  ag::backward(ag::sum(x));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{1, 1});
  ag::backward(ag::scale(ag::sum(x), -3.0));  // the upstream is -3, a device scalar
  CHECK(x.grad().to_vector<double>() == std::vector<double>{-2, -2});
  CHECK_FALSE(ag::is_backward_seed(Tensor::full({1}, 1.0, DType::f64)));
}

TEST_CASE("nodes recorded in a RegionScope carry its backward range name") {
  Tensor x = Tensor::from_values<double>({1.0}, {1});
  x.set_requires_grad(true);
  Tensor y;
  {
    ag::RegionScope outer("block 2");
    y = ag::scale(x, 2.0);
    {
      ag::RegionScope inner("head");
      y = ag::scale(y, 3.0);
    }
    y = ag::scale(y, 4.0);
  }
  y = ag::scale(y, 5.0);
  const auto& nodes = ag::tape().nodes();
  REQUIRE(nodes.size() == 4);
  CHECK(*nodes[0].region == "block 2.backward");
  CHECK(*nodes[1].region == "head.backward");
  CHECK(*nodes[2].region == "block 2.backward");
  CHECK(nodes[3].region == nullptr);
  ag::backward(ag::sum(y));
  CHECK(x.grad().item() == 120.0);
}

TEST_CASE("parameters live in one flat buffer; their gradients in another") {
  ag::ParameterSet params({{"a.weight", {2, 3}, true}, {"a.bias", {3}, false}, {"b.weight", {4}, true}},
                          DType::f64, Device::cpu);
  CHECK(params.count() == 13);
  CHECK(params.offset_of("a.bias") == 6);
  CHECK(params["b.weight"].shape() == Shape{4});
  CHECK(params["a.bias"].shares_storage_with(params.values()));
  CHECK_THROWS_WITH_AS(params["c"], doctest::Contains("no parameter named 'c'"), Error);
  CHECK_THROWS_WITH_AS(ag::ParameterSet({{"x", {1}, true}, {"x", {2}, true}}, DType::f32, Device::cpu),
                       doctest::Contains("'x' is used twice"), Error);
  params.values().data<double>()[6] = 1.0;  // a.bias[0] through the flat buffer
  CHECK(params["a.bias"].item(0) == 1.0);
  // Gradients accumulate straight into the flat gradient buffer.
  ag::backward(ag::sum(ag::mul(params["a.bias"], params["a.bias"])));
  CHECK(params.gradients().item(6) == 2.0);
  CHECK(params["a.bias"].grad().shares_storage_with(params.gradients()));
  params.zero_grad();
  CHECK(params.gradients().item(6) == 0.0);
  const auto segments = params.decay_segments();
  REQUIRE(segments.size() == 3);
  CHECK((segments[1].offset == 6 && segments[1].length == 3 && !segments[1].decay));
}

TEST_CASE("decay segments exempt the forget-gate rows of a fused projection") {
  // A fused [i; f; z; o] weight with state 2 and input 3: rows 2-3 are the forget gate.
  ag::ParameterSpec fused{"in_proj.weight", {8, 3}, true, 2, 4};
  ag::ParameterSet params({fused, {"norm.weight", {3}, false}}, DType::f32, Device::cpu);
  const auto s = params.decay_segments();
  REQUIRE(s.size() == 4);
  CHECK((s[0].offset == 0 && s[0].length == 6 && s[0].decay));
  CHECK((s[1].offset == 6 && s[1].length == 6 && !s[1].decay));
  CHECK((s[2].offset == 12 && s[2].length == 12 && s[2].decay));
  CHECK((s[3].offset == 24 && s[3].length == 3 && !s[3].decay));
}

TEST_CASE("AdamW optimizer: clips, updates, and skips a non-finite step") {
  ag::ParameterSet params({{"w", {2}, true}}, DType::f64, Device::cpu);
  params.values().data<double>()[0] = 1.0;
  params.values().data<double>()[1] = -1.0;
  ag::AdamW optimizer(params, {0.9, 0.95, 1e-8, 0.0, 1.0});
  params.gradients().data<double>()[0] = 30.0;
  params.gradients().data<double>()[1] = 40.0;
  const auto report = optimizer.step(0.1);
  CHECK(report.grad_norm == doctest::Approx(50.0));
  CHECK_FALSE(report.skipped);
  CHECK(params.gradients().item(0) == 30.0);  // clipping happens inside the update
  // First Adam step moves each weight by lr against the sign of its gradient.
  CHECK(params["w"].item(0) == doctest::Approx(0.9));
  CHECK(params["w"].item(1) == doctest::Approx(-1.1));
  const std::vector<double> moments[2] = {optimizer.first_moment().to_vector<double>(),
                                          optimizer.second_moment().to_vector<double>()};
  params.gradients().data<double>()[0] = NAN;
  const auto skipped = optimizer.step(0.1);
  CHECK(skipped.skipped);
  CHECK(skipped.steps_taken == 1);
  CHECK(optimizer.steps_taken() == 1);
  CHECK(params["w"].item(0) == doctest::Approx(0.9));
  CHECK(optimizer.first_moment().to_vector<double>() == moments[0]);
  CHECK(optimizer.second_moment().to_vector<double>() == moments[1]);
  // A finite gradient with a non-finite loss is skipped too, and reports that loss.
  params.gradients().data<double>()[0] = 30.0;
  const auto nan_loss = optimizer.queue_step(0.1, Tensor::full({1}, INFINITY, DType::f64)).get();
  CHECK((nan_loss.skipped && std::isinf(nan_loss.loss) && nan_loss.grad_norm == doctest::Approx(50.0)));
  CHECK(optimizer.steps_taken() == 1);
  CHECK(params["w"].item(1) == doctest::Approx(-1.1));
  const auto second = optimizer.queue_step(0.1, Tensor::full({1}, 2.5, DType::f64)).get();
  CHECK((!second.skipped && second.loss == 2.5 && second.steps_taken == 2));
}

// The decision AdamW makes on the parameters' device (norm, skip, clip factor, step count)
// against the same decision made on the host, as the optimizer made it before the device
// took it over: read Σ g², skip when the norm is not finite, else count the step and pass
// the clip factor to the update. The same bits, steps skipped, clipped and not clipped, in
// f32 with a bf16 compute copy and decay segments.
TEST_CASE("AdamW's device-side step decision gives the bits of the host's") {
  const std::vector<ag::ParameterSpec> specs{{"a", {37}, true}, {"b", {5}, false}, {"c", {4, 6}, true, 1, 2}};
  ag::ParameterSet params(specs, DType::f32, Device::cpu);
  ag::ParameterSet reference(specs, DType::f32, Device::cpu);
  RandomGenerator rng(3);
  std::vector<float> initial(static_cast<std::size_t>(params.count()));
  for (auto& x : initial) x = static_cast<float>(rng.uniform() * 2 - 1);
  for (ag::ParameterSet* p : {&params, &reference}) {
    p->values().copy_from(Tensor::from_values<float>(initial, {p->count()}));
    p->add_compute_copy(DType::bf16);
  }
  const ag::AdamWConfig config{0.9, 0.95, 1e-8, 0.1, 1.0};
  ag::AdamW optimizer(params, config);
  Tensor m = Tensor::zeros({reference.count()}, DType::f32), v = Tensor::zeros({reference.count()}, DType::f32);
  std::int64_t steps = 0;
  // Gradient scales: clipped (norm ≫ 1), not clipped (norm < 1), not finite (skipped).
  const double scales[] = {3.0, 0.01, NAN, 5.0, INFINITY, 0.02, 1.0};
  for (double scale : scales) {
    CAPTURE(scale);
    std::vector<float> g(initial.size());
    for (auto& x : g) x = static_cast<float>((rng.uniform() * 2 - 1) * scale);
    if (!std::isnan(scale)) g[3] = static_cast<float>(scale);  // inf stays inf
    for (ag::ParameterSet* p : {&params, &reference}) p->gradients().copy_from(Tensor::from_values<float>(g, {p->count()}));
    const ag::StepReport report = optimizer.step(1e-2);
    // The host's decision.
    const double norm = std::sqrt(kernels::sum_of_squares(reference.gradients()));
    const bool skip = !std::isfinite(norm);
    if (!skip) {
      ++steps;
      kernels::AdamWHyper hyper{1e-2, config.beta1, config.beta2, config.eps, config.weight_decay, steps,
                                norm > config.clip_norm ? config.clip_norm / norm : 1.0};
      kernels::adamw_step(reference.values(), reference.gradients(), m, v, reference.decay_segments(), hyper,
                          &reference.compute_values());
    }
    CHECK(report.skipped == skip);
    CHECK(std::memcmp(&report.grad_norm, &norm, sizeof norm) == 0);
    CHECK(report.steps_taken == steps);
    CHECK(optimizer.steps_taken() == steps);
    CHECK(std::memcmp(params.values().raw_data(), reference.values().raw_data(), params.values().nbytes()) == 0);
    CHECK(std::memcmp(params.compute_values().raw_data(), reference.compute_values().raw_data(),
                      params.compute_values().nbytes()) == 0);
    CHECK(std::memcmp(optimizer.first_moment().raw_data(), m.raw_data(), m.nbytes()) == 0);
    CHECK(std::memcmp(optimizer.second_moment().raw_data(), v.raw_data(), v.nbytes()) == 0);
  }
  CHECK(steps == 5);
}

TEST_CASE("AdamW's step count survives set_steps_taken and state/restore") {
  ag::ParameterSet params({{"w", {3}, true}}, DType::f32, Device::cpu);
  ag::AdamW optimizer(params, {});
  optimizer.set_steps_taken(41);
  params.gradients().fill_zero();
  CHECK(optimizer.step(1e-3).steps_taken == 42);
  const ag::OptimizerState state = optimizer.state();
  CHECK(state.steps == 42);
  ag::AdamW restored(params, {});
  restored.restore(state);
  CHECK(restored.steps_taken() == 42);
}

TEST_CASE("AdamW's bucketed reduction covers the buffer once, whatever was marked") {
  ag::ParameterSet params({{"a", {4}, true}, {"b", {6}, true}, {"c", {5}, true}}, DType::f32, Device::cpu);
  ag::AdamW optimizer(params, {});
  // Alone (world size 1) nothing is summed, but the bookkeeping runs as on several ranks.
  optimizer.begin_reduction();
  optimizer.gradients_final({10, 15});
  optimizer.gradients_final({4, 10});
  CHECK_NOTHROW(optimizer.finish_reduction());
  optimizer.begin_reduction();
  optimizer.gradients_final({4, 10});
  optimizer.gradients_final({4, 10});
  CHECK_THROWS_WITH_AS(optimizer.finish_reduction(), doctest::Contains("marked final twice"), Error);
  optimizer.begin_reduction();
  CHECK_THROWS_WITH_AS(optimizer.gradients_final({10, 16}), doctest::Contains("outside the 15 parameters"), Error);
  CHECK_THROWS_WITH_AS(optimizer.begin_reduction(), doctest::Contains("was not finished"), Error);
}
