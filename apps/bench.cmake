# apps/bench: kernel benchmarks (GB/s, TFLOP/s against the measured copy bandwidth and
# peak bf16 GEMM rate). Built with or without CUDA; without a GPU it says so and exits 0.
add_executable(bench ${CMAKE_CURRENT_SOURCE_DIR}/bench.cpp)
target_link_libraries(bench PRIVATE birdie_command_line birdie_kernels)
