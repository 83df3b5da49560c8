#!/usr/bin/env bash
# Downloads, on a machine that reaches PyPI, the Python wheels the GPU machine lacks for
# the peer benchmark (bench/peers/) into .wheels/ (git-ignored). bench/peers/run.sh
# installs them there with `pip install --no-index --find-links .wheels ...`; carry
# .wheels along with the build folder.
#
# Pinned versions, checked against the GPU machine's PyTorch 2.11 / Triton 3.6 / Python 3.12
# by their metadata: fla-core 0.6.0 needs torch >= 2.7 and triton >= 3.3 (its [cuda]
# extra), einops; flash-linear-attention 0.6.0 needs fla-core 0.6.0 and
# transformers >= 5.6.2, < 6 (the GPU image has 5.17); accelerated-scan 0.3.1 needs
# torch >= 2.9. All are pure Python (py3-none-any); einops is fetched as a fallback
# although the GPU image has it.
#
#   bash scripts/fetch_gpu_wheels.sh        # uses $PYTHON or python3 with pip
set -euo pipefail
cd "$(dirname "$0")/.."
pins=(
  flash-linear-attention==0.6.0
  fla-core==0.6.0
  accelerated-scan==0.3.1
  einops==0.8.2
)
python=${PYTHON:-python3}
if ! "$python" -m pip --version > /dev/null 2>&1; then
  echo "fetch_gpu_wheels: $python has no pip; set PYTHON to a Python with pip" >&2
  exit 1
fi
mkdir -p .wheels
"$python" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation py --abi none --platform any -d .wheels "${pins[@]}"
echo "fetch_gpu_wheels: .wheels/ holds:"
ls -l .wheels
