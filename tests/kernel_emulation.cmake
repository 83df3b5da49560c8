# CPU emulations of the CUDA kernels (no GPU, no CUDA toolkit needed): the index maps in
# plain Python, and the kernels' own source compiled for the host with g++ under
# AddressSanitizer/UBSan (scripts/emulate_cuda_kernels.py; a few minutes, label "slow").
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME scan_chunking COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/check_scan_chunking.py)
add_test(NAME kernel_index_maps COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/check_cuda_index_maps.py)
add_test(NAME kernel_emulation
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/emulate_cuda_kernels.py
                 --keep ${CMAKE_CURRENT_BINARY_DIR}/kernel_emulation)
set_tests_properties(kernel_emulation PROPERTIES TIMEOUT 1800 LABELS slow)
