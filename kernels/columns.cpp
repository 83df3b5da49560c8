#include "kernels/columns.h"

#include <cstring>

#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#endif

namespace birdie::kernels {

void copy_columns(const Tensor& src, std::int64_t src_begin, Tensor& dst, std::int64_t dst_begin,
                  std::int64_t width) {
  require_same_device("copy_columns", {&src, &dst});
  check_dtype(dst, src.dtype(), "copy_columns destination");
  BIRDIE_CHECK(src.rank() >= 1 && dst.rank() >= 1, "copy_columns: tensors of rank 0");
  const std::int64_t src_width = src.dim(src.rank() - 1), dst_width = dst.dim(dst.rank() - 1);
  BIRDIE_CHECK(width >= 0 && src_begin >= 0 && dst_begin >= 0 && src_begin + width <= src_width &&
                   dst_begin + width <= dst_width,
               "copy_columns: columns [", src_begin, ", ", src_begin + width, ") of ", src.describe(),
               " to [", dst_begin, ", ", dst_begin + width, ") of ", dst.describe());
  if (width == 0) return;  // both widths are then positive
  const std::int64_t rows = src.numel() / src_width;
  BIRDIE_CHECK(dst.numel() / dst_width == rows, "copy_columns: ", src.describe(), " and ", dst.describe(),
               " differ in rows");
  if (rows == 0) return;
  const std::size_t element = dtype_size(src.dtype());
  const auto* from = static_cast<const char*>(src.raw_data()) + src_begin * element;
  auto* to = static_cast<char*>(dst.raw_data()) + dst_begin * element;
  if (src.is_cpu()) {
    for (std::int64_t r = 0; r < rows; ++r)
      std::memcpy(to + r * dst_width * element, from + r * src_width * element, width * element);
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_CUDA_CHECK(cudaMemcpy2DAsync(to, dst_width * element, from, src_width * element, width * element,
                                      static_cast<std::size_t>(rows), cudaMemcpyDeviceToDevice,
                                      current_stream()));
#else
  no_cuda_kernel("copy_columns");
#endif
}

}  // namespace birdie::kernels
