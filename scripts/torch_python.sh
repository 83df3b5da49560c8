# shellcheck shell=bash
# torch_python [MODULES]: prints the first of $PYTHON, python3, /usr/bin/python3 that
# imports torch (and MODULES, e.g. "tomllib"), nothing when none does. Debian's
# python3-torch lives under /usr/bin/python3; a pyenv python3 may lack torch. Sourced by
# bench/peers/run.sh and the GPU check's stages.
torch_python() {
  local candidate
  for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$candidate" > /dev/null && "$candidate" -c "import torch${1:+, $1}" 2> /dev/null; then
      echo "$candidate"
      return 0
    fi
  done
}
