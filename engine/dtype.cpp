#include "engine/dtype.h"

#include "engine/error.h"

namespace birdie {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::bf16: return 2;
    case DType::i32: return 4;
    case DType::f64: return 8;
  }
  throw Error("dtype_size: invalid dtype");
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::bf16: return "bf16";
    case DType::i32: return "i32";
    case DType::f64: return "f64";
  }
  return "invalid";
}

DType parse_dtype(std::string_view name) {
  for (DType d : {DType::f32, DType::bf16, DType::i32, DType::f64})
    if (dtype_name(d) == name) return d;
  throw Error(detail::concat("unknown dtype '", name, "': use f32, bf16, i32 or f64"));
}

}  // namespace birdie
