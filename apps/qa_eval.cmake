add_executable(qa_eval ${CMAKE_CURRENT_LIST_DIR}/qa_eval.cpp)
target_link_libraries(qa_eval PRIVATE birdie_apps_common)
