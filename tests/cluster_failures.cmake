# What a cluster does to a run (tests/cluster_failures.sh), one test per failure; needs
# prepare_data, pretrain and generate built. Exit code 77 (a skip): the machine cannot stage it.
foreach(failure disk-full full-tmpfs sigterm data-shard read-only)
  add_test(NAME cluster_${failure}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cluster_failures.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${failure})
  set_tests_properties(cluster_${failure} PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()
