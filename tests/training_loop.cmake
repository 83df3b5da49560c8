# Pieces of the training loop shared by the programs (apps/common).
birdie_test_suite(deferred_policy_tests SOURCES deferred_policy_tests.cpp LIBS birdie_apps_common)
# The trainer's queued steps, their results read later, and an exactly skipped step.
birdie_test_suite(trainer_tests SOURCES trainer_tests.cpp LIBS birdie_apps_common)
