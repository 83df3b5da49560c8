# Pieces of a training run (training/).
birdie_test_suite(deferred_policy_tests SOURCES deferred_policy_tests.cpp LIBS birdie_training)
# The files of a run and an experiment (training/: run configuration, logs; apps/common: experiment state).
birdie_test_suite(run_files_tests SOURCES run_files_tests.cpp LIBS birdie_experiment_files)
target_include_directories(run_files_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
# The trainer's queued steps, their results read later, and an exactly skipped step.
birdie_test_suite(trainer_tests SOURCES trainer_tests.cpp LIBS birdie_training)
# Validation losses of every configuration in shared forward passes.
birdie_test_suite(validation_losses_tests SOURCES validation_losses_tests.cpp LIBS birdie_training)
