add_executable(cpu_bench ${CMAKE_CURRENT_LIST_DIR}/cpu_bench.cpp)
target_link_libraries(cpu_bench PRIVATE birdie_command_line birdie_model birdie_data)
