add_executable(prepare_data ${CMAKE_CURRENT_LIST_DIR}/prepare_data.cpp)
target_link_libraries(prepare_data PRIVATE birdie_command_line birdie_data)
