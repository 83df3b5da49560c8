# GPU parity of Hawk's kernels (conv1d, RG-LRU) against their CPU references; built only
# with the CUDA backend, exits 77 (skipped, visibly) without a GPU, like tests/cuda.cmake.
if(BIRDIE_CUDA)
  birdie_test_suite(cuda_hawk_kernels_tests
    SOURCES cuda_hawk_kernels_tests.cpp cuda_test_support.cpp
    LIBS birdie_kernels)
endif()
