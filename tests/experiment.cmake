# The experiment program end to end, tiny (tests/experiment.sh); needs every app built.
add_test(NAME experiment COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/experiment.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(experiment PROPERTIES TIMEOUT 600)
