// The architectures this engine builds, one line each: X(NAME) registers the folder
// model/NAME/, whose NAME_config.cpp defines `const ArchitectureConfig NAME_architecture`
// (model/architecture.h: its configuration keys, checks, parameter count and memory
// estimate) and whose other files define make_NAME_lm (model/language_model.h: the model,
// its decoders included). NAME is also the enumerator Architecture::NAME and the value of
// `architecture` in a model configuration. The order is the one messages list them in.
#pragma once

#define BIRDIE_ARCHITECTURES(X) \
  X(gated_ssm)                  \
  X(hawk)                       \
  X(transformer)
