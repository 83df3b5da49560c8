# The experiment program end to end, tiny (tests/experiment.sh); needs every app built.
add_test(NAME experiment COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/experiment.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(experiment PROPERTIES TIMEOUT 1200)
# The experiment's report and file without training: steps-to-threshold, custom arms.
birdie_test_suite(experiment_tests SOURCES experiment_tests.cpp LIBS birdie_apps_common)
target_include_directories(experiment_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
