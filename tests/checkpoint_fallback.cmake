# pretrain --resume past a damaged or incomplete newest checkpoint (tests/checkpoint_fallback.sh);
# needs prepare_data, pretrain and generate built.
add_test(NAME checkpoint_fallback
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/checkpoint_fallback.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(checkpoint_fallback PROPERTIES TIMEOUT 600)
