add_executable(init_bench ${CMAKE_CURRENT_LIST_DIR}/init_bench.cpp)
target_link_libraries(init_bench PRIVATE birdie_command_line birdie_model OpenMP::OpenMP_CXX)
