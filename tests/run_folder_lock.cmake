# One job per run folder (tests/run_folder_lock.sh); needs prepare_data, pretrain and generate built.
add_test(NAME run_folder_lock
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run_folder_lock.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(run_folder_lock PROPERTIES TIMEOUT 300)
