#!/usr/bin/env bash
# Installs what is missing, then configures and builds the project in ./build (Release).
# Extra arguments go to CMake's configure step, e.g. -DBIRDIE_CUDA=OFF or
# -DBIRDIE_SANITIZE=ON (then use another build folder: BUILD_DIR=build-asan).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" "$@"
cmake --build "$build_dir" -j"$(nproc)"
