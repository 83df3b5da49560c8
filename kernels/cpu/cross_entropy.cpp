#include "kernels/cpu/cross_entropy.h"

#include <cmath>

#include "kernels/cpu/dispatch.h"
#include "kernels/cross_entropy.h"

namespace birdie::kernels::cpu {

void cross_entropy_forward_backward(const Tensor& logits, const Tensor& targets, double grad_scale,
                                    Tensor& row_loss, Tensor* dlogits) {
  const std::int64_t rows = logits.dim(0), V = logits.dim(1);
  const std::int32_t* pt = targets.data<std::int32_t>();
  count_targets(targets, V);  // throws, naming the row, on a target outside the vocabulary
  dispatch_floating(logits, "cross_entropy", [&](auto zero) {
    using T = decltype(zero);
    const T* pl = logits.data<T>();
    T* ploss = row_loss.data<T>();
    T* pd = dlogits ? dlogits->data<T>() : nullptr;
#pragma omp parallel for if (logits.numel() > parallel_threshold)
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* l = pl + r * V;
      T* d = pd ? pd + r * V : nullptr;
      if (pt[r] == ignore_index) {
        ploss[r] = 0;
        if (d) for (std::int64_t j = 0; j < V; ++j) d[j] = 0;
        continue;
      }
      T max = l[0];
      for (std::int64_t j = 1; j < V; ++j) max = std::max(max, l[j]);
      double sum = 0;
      for (std::int64_t j = 0; j < V; ++j) sum += std::exp(double(l[j] - max));
      ploss[r] = static_cast<T>(std::log(sum) + max - l[pt[r]]);
      if (!d) continue;
      for (std::int64_t j = 0; j < V; ++j)
        d[j] = static_cast<T>(std::exp(double(l[j] - max)) / sum * grad_scale);
      d[pt[r]] -= static_cast<T>(grad_scale);
    }
  });
}

}  // namespace birdie::kernels::cpu
