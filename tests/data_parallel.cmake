# Data-parallel pretraining on the CPU under mpirun (tests/data_parallel.sh): skipped, and
# said so, when the build has no MPI.
add_test(NAME data_parallel COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/data_parallel.sh ${PROJECT_BINARY_DIR}
                                    ${PROJECT_SOURCE_DIR} $<IF:$<BOOL:${MPI_CXX_FOUND}>,mpi,no-mpi>)
set_tests_properties(data_parallel PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
