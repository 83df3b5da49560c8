birdie_test_suite(scan_tests SOURCES scan_tests.cpp LIBS birdie_kernels)
