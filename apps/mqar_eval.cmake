add_executable(mqar_eval ${CMAKE_CURRENT_LIST_DIR}/mqar_eval.cpp)
target_link_libraries(mqar_eval PRIVATE birdie_apps_common)
