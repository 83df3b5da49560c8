birdie_test_suite(scan_tests SOURCES scan_tests.cpp LIBS birdie_kernels)
birdie_test_suite(scan_step_tests SOURCES scan_step_tests.cpp LIBS birdie_kernels)
