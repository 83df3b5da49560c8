# GPU parity suites: every CUDA kernel against its CPU reference. Built only with the
# CUDA backend; each exits 77 (skipped, visibly) on a machine without a GPU. (cuda_ops_tests,
# cuda_matmul_tests, cuda_scan_tests, cuda_attention_tests, cuda_hawk_kernels_tests and
# cuda_autograd_tests, the GPU cases of the per-op files tests/ops/<op>_tests.cpp, are
# defined in tests/ops.cmake.)
#
# Test cases whose name contains "[large]" (cuda_scan_tests: the scan at the model's real
# shape, B=2 T=4096 N=2560; cuda_ops_tests: conversion, scaling and the Philox fill over
# 2^31 + 2^20 + 6 elements, 17 GB of GPU memory) run in the plain runs: seconds each.
# Under compute-sanitizer, skip them with doctest's filter (quoted, so the shell leaves the
# brackets alone):
#     compute-sanitizer --tool memcheck build/tests/cuda_ops_tests '--test-case-exclude=*[large]*'
if(BIRDIE_CUDA)
  foreach(suite mixed_precision generation)
    birdie_test_suite(cuda_${suite}_tests
      SOURCES cuda_${suite}_tests.cpp cuda_test_support.cpp
      LIBS birdie_model)
  endforeach()
endif()
