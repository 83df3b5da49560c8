# Every test of one op lives in tests/ops/<op>_tests.cpp (the harness: tests/ops/op_harness.h).
# The files are compiled twice: ops_tests runs their CPU checks (the formula, the
# finite-difference gradients, bf16 on the CPU backend); with the CUDA backend, the GPU
# suites below run their GPU cases against the CPU references and exit 77 (skipped,
# visibly) on a machine without a GPU. Their "[large]" test cases: see tests/cuda.cmake.
file(GLOB birdie_op_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/ops/*_tests.cpp)
birdie_test_suite(ops_tests SOURCES ${birdie_op_tests} ops/op_harness.cpp LIBS birdie_autograd)
# The GPU suite of an op file's GPU cases: cuda_ops_tests, except for the files named here,
# whose GPU cases keep the suites scripts/gpu_check.sh runs (and sanitizes) by name, each
# under its own time cap.
function(birdie_op_gpu_suite name)
  birdie_test_suite(${name} SOURCES ${ARGN} ops/op_harness.cpp cuda_test_support.cpp LIBS birdie_autograd)
  target_compile_definitions(${name} PRIVATE BIRDIE_OPS_GPU=1)
endfunction()
if(BIRDIE_CUDA)
  set(birdie_op_gpu_tests ${birdie_op_tests})
  foreach(entry matmul:matmul scan:scan attention:attention conv1d_rglru:hawk_kernels block:autograd)
    string(REPLACE ":" ";" entry ${entry})
    list(GET entry 0 op)
    list(GET entry 1 suite)
    birdie_op_gpu_suite(cuda_${suite}_tests ops/${op}_tests.cpp)
    list(REMOVE_ITEM birdie_op_gpu_tests ${CMAKE_CURRENT_SOURCE_DIR}/ops/${op}_tests.cpp)
  endforeach()
  birdie_op_gpu_suite(cuda_ops_tests ${birdie_op_gpu_tests})
endif()
