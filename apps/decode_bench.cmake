# apps/decode_bench: batched decoding tokens/s of a model configuration (batch 1, 8, 64...)
# against the weight-bandwidth bound; on a GPU the graph-captured and the plain step.
add_executable(decode_bench ${CMAKE_CURRENT_LIST_DIR}/decode_bench.cpp)
target_link_libraries(decode_bench PRIVATE birdie_apps_common)
