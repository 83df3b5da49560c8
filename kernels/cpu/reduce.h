#pragma once
#include "engine/tensor.h"
namespace birdie::kernels::cpu {
double sum_of_squares(const Tensor& x);
double sum(const Tensor& x);
}  // namespace birdie::kernels::cpu
