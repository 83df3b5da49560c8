birdie_test_suite(engine_tests SOURCES engine_tests.cpp folder_lock_tests.cpp LIBS birdie_engine)
