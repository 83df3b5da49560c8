add_executable(generate ${CMAKE_CURRENT_LIST_DIR}/generate.cpp)
target_link_libraries(generate PRIVATE birdie_apps_common)
