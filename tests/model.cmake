birdie_test_suite(model_tests SOURCES model_tests.cpp LIBS birdie_model)
