#!/usr/bin/env bash
# Downloads, on a machine with Debian's package registry, the packages the build needs
# beyond the CUDA toolkit, into .debs/ (git-ignored), so scripts/gpu_check.sh can unpack
# them on a GPU machine that has nvcc and CMake but no registry. Idempotent.
#
#   scripts/fetch_gpu_debs.sh            # into <repo>/.debs
#
# The list: headers and libraries for doctest, OpenBLAS (pthread flavour, with its
# gfortran runtime), toml++, nlohmann-json, zstd and SentencePiece.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/.debs"
mkdir -p "$out"
packages=(
  doctest-dev
  libopenblas-dev libopenblas-pthread-dev libopenblas0 libopenblas0-pthread
  libgfortran5 libquadmath0
  libtomlplusplus-dev libtomlplusplus3
  nlohmann-json3-dev
  libzstd-dev libzstd1
  libsentencepiece-dev libsentencepiece0
)
cd "$out"
for p in "${packages[@]}"; do
  if compgen -G "${p}_*.deb" > /dev/null; then
    echo "have $p"
  else
    apt-get download "$p"
  fi
done
echo "packages in $out:"
ls -1 "$out"/*.deb
