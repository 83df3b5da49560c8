# CPU checks of the kernels-level functions added with the CUDA backend (fused matmul
# epilogues, residual-fused RMSNorm, dtype conversion, device-aware fills, the AdamW
# compute copy): their CPU paths are the references the GPU suites compare against.
birdie_test_suite(kernels_interface_tests
  SOURCES kernels_interface_tests.cpp
  LIBS birdie_kernels)
