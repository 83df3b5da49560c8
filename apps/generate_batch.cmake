# apps/generate_batch: completions for a JSONL file of prompts, decoded together on the
# device (model/batch_generator.h), written as JSONL.
add_executable(generate_batch ${CMAKE_CURRENT_LIST_DIR}/generate_batch.cpp)
target_link_libraries(generate_batch PRIVATE birdie_apps_common)
