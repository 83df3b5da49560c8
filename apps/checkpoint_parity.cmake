# apps/checkpoint_parity: a checkpoint's logits on the GPU against the CPU's (fp32 and
# bf16 emulation), within a tolerance; --device cpu puts the CPU's bf16 in the GPU's place.
add_executable(checkpoint_parity ${CMAKE_CURRENT_LIST_DIR}/checkpoint_parity.cpp)
target_link_libraries(checkpoint_parity PRIVATE birdie_apps_common)
