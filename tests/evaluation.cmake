# Scoring shared by the evaluation programs (apps/common).
birdie_test_suite(evaluation_tests SOURCES choice_scoring_tests.cpp LIBS birdie_apps_common)
