#!/usr/bin/env bash
# Downloads, on a machine with Debian's package registry, the packages the build needs
# beyond the CUDA toolkit, into .debs/ (git-ignored), so scripts/gpu_check.sh can unpack
# them on a GPU machine that has nvcc and CMake but no registry. Idempotent.
#
#   scripts/fetch_gpu_debs.sh            # into <repo>/.debs
#
# The list: headers and libraries for doctest, OpenBLAS (pthread flavour, with its
# gfortran runtime), toml++, nlohmann-json, zstd, zlib and SentencePiece, and pkg-config itself
# (Debian 12's pkgconf: the `pkg-config` link, the pkgconf binary and its library), which
# CMake's pkg_check_modules needs and a GPU machine may lack. gpu_check.sh unpacks them
# into a prefix and runs that pkg-config with LD_LIBRARY_PATH pointing at libpkgconf.
# A package's own dependencies beyond the C and C++ runtimes are in the list (checked
# with `apt-cache depends`); `apt-cache depends` again when adding one.
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
  zlib1g-dev
  libsentencepiece-dev libsentencepiece0
  pkgconf pkgconf-bin libpkgconf3
)
# As root, apt downloads as its _apt user, who cannot write here: download as root.
apt_options=()
[ "$(id -u)" -eq 0 ] && apt_options=(-o APT::Sandbox::User=root)
cd "$out"
for p in "${packages[@]}"; do
  if compgen -G "${p}_*.deb" > /dev/null; then
    echo "have $p"
  else
    apt-get "${apt_options[@]}" download "$p"
  fi
done
echo "packages in $out:"
ls -1 "$out"/*.deb
