birdie_test_suite(objectives_tests
  SOURCES
    objectives/objective_functions_tests.cpp
    objectives/objective_golden_tests.cpp
    objectives/grid_tests.cpp
    objectives/row_packer_tests.cpp
    objectives/batch_builder_tests.cpp
    objectives/batch_loader_tests.cpp
    objectives/phone_book_rows_tests.cpp
    objectives/mqar_rows_tests.cpp
  LIBS birdie_objectives)
