# bf16 on the CPU backend (emulated, with the GPU's dtype rules): every op that takes
# bf16 on the GPU against the f64 reference on the same rounded inputs.
birdie_test_suite(kernels_bf16_tests SOURCES kernels_bf16_tests.cpp LIBS birdie_autograd)
