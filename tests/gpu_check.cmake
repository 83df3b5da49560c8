# scripts/gpu_check.sh without a GPU (tests/gpu_check.sh): its command line, a run of the
# stages that need no build step on this build's programs (every row SKIPPED, exit status
# 3), and, on fake programs, an interrupted step and a stage past its limit.
add_test(NAME gpu_check COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/gpu_check.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(gpu_check PROPERTIES TIMEOUT 180)

# Its evaluators stage's script with the CPU as the tested device (tests/gpu_check_evaluations.sh):
# every evaluator run twice per precision and compared; a changed result must fail.
add_test(NAME gpu_check_evaluations
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/gpu_check_evaluations.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(gpu_check_evaluations PROPERTIES TIMEOUT 300)
