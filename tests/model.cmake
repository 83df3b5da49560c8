birdie_test_suite(model_tests SOURCES model_tests.cpp LIBS birdie_model)
birdie_test_suite(generation_tests SOURCES generation_tests.cpp LIBS birdie_model)
birdie_test_suite(checkpoint_tests SOURCES checkpoint_tests.cpp LIBS birdie_model)
birdie_test_suite(twin_tests SOURCES twin_tests.cpp LIBS birdie_model)
