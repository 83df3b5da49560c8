add_executable(memory_plan ${CMAKE_CURRENT_LIST_DIR}/memory_plan.cpp)
target_link_libraries(memory_plan PRIVATE birdie_apps_common)
