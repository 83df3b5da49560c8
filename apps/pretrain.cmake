add_executable(pretrain ${CMAKE_CURRENT_LIST_DIR}/pretrain.cpp)
target_link_libraries(pretrain PRIVATE birdie_command_line birdie_training)
