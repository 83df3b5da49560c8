add_executable(choice_eval ${CMAKE_CURRENT_LIST_DIR}/choice_eval.cpp)
target_link_libraries(choice_eval PRIVATE birdie_apps_common)
