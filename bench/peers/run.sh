#!/usr/bin/env bash
# The peer benchmark in one command: the engine against PyTorch implementations of the
# same models (Gated SSM, Hawk) on one device (bench/peers/README.md).
#
#   bash bench/peers/run.sh OUTFILE BUILD_DIR [--device cuda|cpu] [--configs tiny,hawk-small,... | --models ssm,hawk]
#                           [--quick] [any other option of bench/peers/peers.py, e.g. --variants eager,fla]
#
# Writes a plain-text table to OUTFILE (and prints it). --device defaults to cuda when
# nvidia-smi works, else cpu. On cuda, installs flash-linear-attention and accelerated-scan
# from .wheels/ (scripts/fetch_gpu_wheels.sh) when they are not importable. The Python used
# is $PYTHON, else the first of python3, /usr/bin/python3 that imports torch and tomllib
# (Debian's python3-torch lives under /usr/bin/python3; a pyenv python3 may lack torch).
# Exit status: 0 when it ran (variants skipped with a reason are fine), non-zero otherwise.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)

if [ $# -lt 2 ] || [[ $1 == -* ]] || [[ $2 == -* ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
out=$1 build=$2
shift 2
device=""
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --device) [ $# -ge 2 ] || { echo "run.sh: --device needs cuda or cpu" >&2; exit 2; }; device=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -z "$device" ]; then
  if nvidia-smi > /dev/null 2>&1; then device=cuda; else device=cpu; fi
fi
if [ ! -d "$build" ]; then
  echo "run.sh: build folder $build does not exist: cmake -S . -B $build && cmake --build $build --target step_bench bench cpu_bench" >&2
  exit 2
fi

# shellcheck source=scripts/torch_python.sh
source "$repo/scripts/torch_python.sh"
python=$(torch_python tomllib)
if [ -z "$python" ]; then
  echo "run.sh: no Python (3.11+) with torch found (tried ${PYTHON:-} python3 /usr/bin/python3);" \
       "on Debian: apt-get install python3-torch, or set PYTHON" >&2
  exit 1
fi

if [ "$device" = cuda ]; then
  missing=()
  "$python" -c 'import fla.ops.hgrn' 2> /dev/null || missing+=(flash-linear-attention fla-core)
  "$python" -c 'import accelerated_scan.scalar' 2> /dev/null || missing+=(accelerated-scan)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ -d "$repo/.wheels" ]; then
      echo "run.sh: installing ${missing[*]} from $repo/.wheels"
      "$python" -m pip install -q --no-index --find-links "$repo/.wheels" "${missing[@]}" ||
        echo "run.sh: installing ${missing[*]} failed; those variants will say why they are skipped" >&2
    else
      echo "run.sh: ${missing[*]} not importable and no $repo/.wheels (scripts/fetch_gpu_wheels.sh" \
           "fetches them where PyPI is reachable); those variants will be skipped" >&2
    fi
  fi
fi

export PYTHONUNBUFFERED=1
exec "$python" "$repo/bench/peers/peers.py" --out "$out" --build "$build" --device "$device" ${args[@]+"${args[@]}"}
