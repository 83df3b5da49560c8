add_executable(experiment ${CMAKE_CURRENT_LIST_DIR}/experiment.cpp)
target_link_libraries(experiment PRIVATE birdie_apps_common)
