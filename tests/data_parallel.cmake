# Data-parallel pretraining on the CPU under mpirun (tests/data_parallel.sh): skipped, and
# said so, when the build has no MPI.
add_test(NAME data_parallel COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/data_parallel.sh ${PROJECT_BINARY_DIR}
                                    ${PROJECT_SOURCE_DIR} $<IF:$<BOOL:${MPI_CXX_FOUND}>,mpi,no-mpi>)
set_tests_properties(data_parallel PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# Trainer steps in which one rank's share holds no targets, on 2 ranks against one
# (tests/data_parallel_trainer.sh): every rank must issue the same collectives.
add_executable(data_parallel_trainer data_parallel_trainer.cpp)
target_link_libraries(data_parallel_trainer PRIVATE birdie_training)
add_test(NAME data_parallel_trainer
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/data_parallel_trainer.sh $<TARGET_FILE:data_parallel_trainer>
                 $<IF:$<BOOL:${MPI_CXX_FOUND}>,mpi,no-mpi>)
set_tests_properties(data_parallel_trainer PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
