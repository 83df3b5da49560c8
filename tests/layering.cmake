# The layers' order (CMakeLists.txt): no folder includes a header of a layer below it.
add_test(NAME layering COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/layering.sh ${PROJECT_SOURCE_DIR})
