# apps/bandit_bench: one evaluation's bandit work on the CPU (critic retraining + scoring).
add_executable(bandit_bench ${CMAKE_CURRENT_LIST_DIR}/bandit_bench.cpp)
target_link_libraries(bandit_bench PRIVATE birdie_command_line birdie_bandit)
