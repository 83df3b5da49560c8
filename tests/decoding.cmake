# Decoding on the device: token sampling and the bookkeeping of batched generation
# (kernels/sampling.h) and batched generation against one prompt at a time
# (model/batch_generator.h), on the CPU.
birdie_test_suite(sampling_tests SOURCES sampling_tests.cpp LIBS birdie_model)
birdie_test_suite(batch_generation_tests SOURCES batch_generation_tests.cpp LIBS birdie_model)
