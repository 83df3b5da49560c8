# Decoding on the device: token sampling and the bookkeeping of batched generation
# (kernels/sampling.h) and batched generation against one prompt at a time
# (model/batch_generator.h), on the CPU.
birdie_test_suite(sampling_tests SOURCES sampling_tests.cpp LIBS birdie_model)
birdie_test_suite(batch_generation_tests SOURCES batch_generation_tests.cpp LIBS birdie_model)

# The decoding kernels' own CUDA source (kernels/cuda/sampling.cu, attention_decode.cu)
# compiled for the host with AddressSanitizer/UBSan and run against the CPU sampling
# reference and f64 attention (scripts/emulate_decoding_kernels.py; under a minute).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME decoding_kernel_emulation
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/emulate_decoding_kernels.py
                 --keep ${CMAKE_CURRENT_BINARY_DIR}/decoding_kernel_emulation)
set_tests_properties(decoding_kernel_emulation PROPERTIES TIMEOUT 600 LABELS slow)
