# The programs end to end (tests/end_to_end.sh); needs every app built.
add_test(NAME end_to_end COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/end_to_end.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(end_to_end PROPERTIES TIMEOUT 600)
