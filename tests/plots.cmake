# The SVG charts the programs write: round tick steps, probabilities from 0 to 1.
birdie_test_suite(svg_plot_tests SOURCES svg_plot_tests.cpp LIBS birdie_training)
target_include_directories(svg_plot_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
