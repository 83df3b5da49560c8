# GPU parity of the attention and rotary kernels (kernels/cuda/attention.cu, rotary.cu)
# against their CPU references. Built only with the CUDA backend; exits 77 (skipped,
# visibly) on a machine without a GPU.
if(BIRDIE_CUDA)
  birdie_test_suite(cuda_attention_tests
    SOURCES cuda_attention_tests.cpp cuda_test_support.cpp
    LIBS birdie_kernels)
endif()
