# apps/step_bench: one whole training step (forward, backward, AdamW) of a model
# configuration: tokens/s, MFU and peak device memory. Runs on the CPU or a GPU.
add_executable(step_bench ${CMAKE_CURRENT_LIST_DIR}/step_bench.cpp)
target_link_libraries(step_bench PRIVATE birdie_apps_common)
