#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every suite through CTest.
# GPU suites report "Skipped" when no GPU is visible.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@"
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure
