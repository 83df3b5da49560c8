#!/usr/bin/env bash
# Packs the programs scripts/gpu_check.sh runs, built here from the current commit with the
# CUDA backend, into one archive, so a GPU machine can skip its build stage (minutes of its
# lease): GPU_CHECK_PREBUILT=ARCHIVE scripts/gpu_check.sh OUTDIR. gpu_check.sh uses the
# archive only when every library the programs need resolves there, and builds otherwise.
#
#   scripts/pack_gpu_build.sh BUILD_DIR ARCHIVE     # e.g. build-cuda .prebuilt/gpu-build.tar.gz
#
# BUILD_DIR: configured with -DBIRDIE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -G Ninja; the
# targets are built first. The archive holds tests/cuda_*_tests, the apps gpu_check.sh and
# bench/peers run, and PREBUILT_COMMIT (the commit, "+changes" when the tree differs from it).
set -euo pipefail
[ $# -eq 2 ] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
build=$1 archive=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
grep -q '^BIRDIE_CUDA:BOOL=ON' "$build/CMakeCache.txt" 2> /dev/null ||
  { echo "pack_gpu_build: $build is not a build folder configured with -DBIRDIE_CUDA=ON" >&2; exit 2; }
# shellcheck source=scripts/gpu_check/stages/build.sh
source "$repo/scripts/gpu_check/stages/build.sh"  # build_apps: what the stages run
apps=("${build_apps[@]}")
mapfile -t suites < <(ninja -C "$build" -t targets all | sed -n -E 's/^(cuda_[A-Za-z0-9_]+_tests):.*/\1/p' | sort -u)
cmake --build "$build" --target "${suites[@]}" "${apps[@]}"
commit=$(git -C "$repo" rev-parse --short HEAD)
git -C "$repo" diff --quiet HEAD -- || commit="$commit+changes"
echo "$commit" > "$build/PREBUILT_COMMIT"
mkdir -p "$(dirname "$archive")"
tar -czf "$archive" -C "$build" PREBUILT_COMMIT "${suites[@]/#/tests/}" "${apps[@]/#/apps/}"
echo "pack_gpu_build: $archive ($(du -h "$archive" | cut -f1)), commit $commit: ${#suites[@]} suites, ${apps[*]}"
