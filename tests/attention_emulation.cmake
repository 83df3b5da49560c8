# The CUDA attention and rotary kernels' own source compiled for the host (g++ with
# AddressSanitizer/UBSan through scripts/cuda_emulation/cuda_shim.h) and run against dense
# f64 references: no GPU or CUDA toolkit needed (a minute or two; label "slow").
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME attention_kernel_emulation
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/emulate_attention_kernels.py
                 --keep ${CMAKE_CURRENT_BINARY_DIR}/attention_kernel_emulation)
set_tests_properties(attention_kernel_emulation PROPERTIES TIMEOUT 1200 LABELS slow)
# The warp matrix instruction wrappers (kernels/cuda/warp_mma.cuh) alone through the same
# emulation: products, ldmatrix registers and cp.async groups against exact references
# (seconds).
add_test(NAME warp_mma_emulation
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/emulate_warp_mma.py
                 --keep ${CMAKE_CURRENT_BINARY_DIR}/warp_mma_emulation)
set_tests_properties(warp_mma_emulation PROPERTIES TIMEOUT 300)
