#!/usr/bin/env bash
# The layers (CMakeLists.txt): each folder includes only its own headers and those of the
# layers above it, in this order. A header of a lower layer included from a higher one
# fails, naming the file and the include.
#   tests/layering.sh SOURCE_DIR
set -euo pipefail
cd "$1"
layers=(engine kernels autograd model data objectives bandit training apps)
declare -A rank
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done
status=0
for layer in "${layers[@]}"; do
  while IFS= read -r hit; do
    file=${hit%%:*}
    included=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<< "$hit")
    if [[ -n ${rank[$included]+x} && ${rank[$included]} -gt ${rank[$layer]} ]]; then
      echo "layering: $file includes $included/ (a layer below $layer/): ${hit#*:}"
      status=1
    fi
  done < <(grep -rnE '^#include "[a-z_]+/' "$layer" --include='*.h' --include='*.cpp' --include='*.cuh' \
             --include='*.cu' | sed -E 's/^([^:]+):[0-9]+:/\1:/')
done
[[ $status == 0 ]] && echo "layering: ${layers[*]}: every include goes to the same layer or one above"
exit $status
