# GPU parity of the Transformer's decoding kernels (kernels/cuda/attention_decode.cu)
# against their CPU references, and the KV-cache decoder of a small model on the GPU
# against the CPU. Built only with the CUDA backend; exits 77 (skipped, visibly) on a
# machine without a GPU.
if(BIRDIE_CUDA)
  birdie_test_suite(cuda_transformer_tests
    SOURCES cuda_transformer_tests.cpp cuda_test_support.cpp
    LIBS birdie_model)
endif()
