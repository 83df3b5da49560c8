#!/usr/bin/env bash
# Installs the Python packages of the birdie Python module's tests and of its
# lm-evaluation-harness model (python/): NumPy and lm-eval. lm-eval's core install
# (0.4.13) needs no PyTorch (only its "hf" extra does), so none is installed. Idempotent:
# installs only what is missing. Needs PyPI the first time.
#
#   bash scripts/setup_python.sh            into the interpreter `python3`
#   BIRDIE_PYTHON=/path/python bash scripts/setup_python.sh
#
# An interpreter whose packages are managed by the system (PEP 668, e.g. Debian's
# /usr/bin/python3) gets a virtual environment instead, .venv/ at the repository root: the
# Python tests use .venv/bin/python when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${BIRDIE_PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
  echo "setup_python: no $python: the Python module and its tests are skipped" >&2
  exit 0
fi
if [ -x .venv/bin/python ]; then
  python=.venv/bin/python
elif "$python" -c 'import sys, sysconfig, os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["stdlib"], "EXTERNALLY-MANAGED")) else 1)'; then
  echo "setup_python: $python is managed by the system: making the virtual environment .venv/"
  "$python" -m venv .venv
  python=.venv/bin/python
fi

have() { "$python" -c "import $1" 2>/dev/null; }
pip=("$python" -m pip install --quiet --disable-pip-version-check)
if ! have numpy; then "${pip[@]}" numpy; fi
if ! have lm_eval; then "${pip[@]}" "lm-eval==${BIRDIE_LM_EVAL_VERSION:-0.4.13}"; fi
echo "setup_python: numpy and lm_eval present in $("$python" -c 'import sys; print(sys.prefix)')"
