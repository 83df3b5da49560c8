# The reward-driven mixture (bandit/). Tests that are not about the critic's size or the
# candidate count use a small critic and fewer candidates (bandit/bandit_test_util.h).
birdie_test_suite(bandit_tests
  SOURCES
    bandit/reward_tests.cpp
    bandit/critic_tests.cpp
    bandit/selection_tests.cpp
    bandit/schedule_tests.cpp
    bandit/budget_tests.cpp
    bandit/policy_tests.cpp
    bandit/class_floor_tests.cpp
  LIBS birdie_bandit)
find_package(nlohmann_json REQUIRED)
target_link_libraries(bandit_tests PRIVATE nlohmann_json::nlohmann_json)
target_include_directories(bandit_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
