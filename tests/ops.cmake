# Every test of one op lives in tests/ops/<op>_tests.cpp (the harness: tests/ops/op_harness.h).
# The files are compiled twice: ops_tests runs their CPU checks (the formula, the
# finite-difference gradients, bf16 on the CPU backend); with the CUDA backend,
# cuda_ops_tests runs their GPU cases against the CPU references and exits 77 (skipped,
# visibly) on a machine without a GPU.
#
# Test cases whose name contains "[large]" (conversion, scaling and the Philox fill over
# 2^31 + 2^20 + 6 elements, 17 GB of GPU memory) run in the plain runs: seconds each. Under
# compute-sanitizer, skip them with doctest's filter (see tests/cuda.cmake).
file(GLOB birdie_op_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/ops/*_tests.cpp)
birdie_test_suite(ops_tests SOURCES ${birdie_op_tests} ops/op_harness.cpp LIBS birdie_autograd)
if(BIRDIE_CUDA)
  # An op whose GPU cases take long keeps a GPU suite of its own, cuda_<op>_tests, which
  # scripts/gpu_check.sh runs beside the others under its own time cap: the scan (the model's
  # real shape, every kernel variant) and attention (tensor-core kernels up to T = 2048).
  set(birdie_ops_with_own_gpu_suite scan attention)
  set(birdie_op_gpu_tests ${birdie_op_tests})
  foreach(op ${birdie_ops_with_own_gpu_suite})
    list(REMOVE_ITEM birdie_op_gpu_tests ${CMAKE_CURRENT_SOURCE_DIR}/ops/${op}_tests.cpp)
    birdie_test_suite(cuda_${op}_tests
      SOURCES ops/${op}_tests.cpp ops/op_harness.cpp cuda_test_support.cpp
      LIBS birdie_autograd)
    target_compile_definitions(cuda_${op}_tests PRIVATE BIRDIE_OPS_GPU=1)
  endforeach()
  birdie_test_suite(cuda_ops_tests
    SOURCES ${birdie_op_gpu_tests} ops/op_harness.cpp cuda_test_support.cpp
    LIBS birdie_autograd)
  target_compile_definitions(cuda_ops_tests PRIVATE BIRDIE_OPS_GPU=1)
endif()
