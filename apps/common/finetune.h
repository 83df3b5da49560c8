// Forwarding header for the programs that include fine-tuning from here: it is
// training/finetune.h (namespace birdie::training).
#pragma once

#include "training/finetune.h"

namespace birdie::apps {

using training::CurvePoint;
using training::finetune;
using training::FinetuneOptions;
using training::greedy_answer;

}  // namespace birdie::apps
