# Initialization: golden fingerprints of the initial weights and of the fills, taken
# before the fills were parallelized, checked with one and with several threads.
birdie_test_suite(model_init_tests SOURCES model_init_tests.cpp LIBS birdie_model)
find_package(OpenMP REQUIRED COMPONENTS CXX)
target_link_libraries(model_init_tests PRIVATE OpenMP::OpenMP_CXX)
