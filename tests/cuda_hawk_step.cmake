# Hawk's recurrent generation on the GPU (kernels/rglru_step.h, model/hawk/hawk_decoder.h)
# against the CPU; built only with the CUDA backend, exits 77 (skipped, visibly) without a
# GPU, like tests/cuda.cmake.
if(BIRDIE_CUDA)
  birdie_test_suite(cuda_hawk_step_tests
    SOURCES cuda_hawk_step_tests.cpp cuda_test_support.cpp
    LIBS birdie_model)
endif()
