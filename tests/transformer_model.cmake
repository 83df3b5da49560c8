# The Transformer baseline (model/transformer/): parameters, gradients, the information
# flow of the prefix-LM mask, the KV-cache decoder against the full pass, the copy task,
# the PyTorch twin (scripts/transformer_twin.py), checkpoints and the shipped configs.
birdie_test_suite(transformer_model_tests SOURCES transformer_model_tests.cpp LIBS birdie_model birdie_data)
# The copy task runs on one thread (omp_set_num_threads).
find_package(OpenMP REQUIRED COMPONENTS CXX)
target_link_libraries(transformer_model_tests PRIVATE OpenMP::OpenMP_CXX)
