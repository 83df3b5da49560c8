// Emulation stand-in (see scripts/cuda_emulation/cuda_shim.h).
#pragma once
#include "cuda_shim.h"
