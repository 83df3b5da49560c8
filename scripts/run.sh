#!/usr/bin/env bash
# The run command: installs what is missing, builds, and trains the tiny copy-task model
# on the CPU, printing its loss as it falls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
"${BUILD_DIR:-build}"/apps/train_copy_task "$@"
