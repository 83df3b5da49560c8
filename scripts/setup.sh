#!/usr/bin/env bash
# Installs the Debian packages the project needs. Idempotent: installs only what is
# missing and runs `apt-get update` once, only when something must be installed.
# Runs as root (no sudo); as another user it only reports what is missing.
#
#   bash scripts/setup.sh                        the packages to build, test and run the demo
#   bash scripts/setup.sh --corpus debian-text   also the English text of
#       `prepare_data --corpus debian-text` (the King James Bible, GCIDE, WordNet, the Jargon
#       File, FOLDOC, the Devil's Dictionary, more fortunes: about 35 MB of packages)
#   (or BIRDIE_SETUP_CORPUS=debian-text bash scripts/setup.sh)
set -euo pipefail

corpus="${BIRDIE_SETUP_CORPUS:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) corpus="${2:?--corpus needs a value (debian-text)}"; shift 2 ;;
    --corpus=*) corpus="${1#--corpus=}"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$1' (see --help)" >&2; exit 1 ;;
  esac
done

packages=(
  build-essential cmake pkg-config git
  doctest-dev            # test framework
  libopenblas-dev        # CPU GEMM
  libopenmpi-dev openmpi-bin  # data-parallel ranks: mpirun, the CPU collectives
  libtomlplusplus-dev    # configs
  nlohmann-json3-dev     # JSON / JSONL
  libcli11-dev           # the programs' command lines (header-only)
  libzstd-dev            # .jsonl.zst corpora
  zlib1g-dev             # the .dict.dz dictionaries of the debian-text corpus
  libsentencepiece-dev sentencepiece  # tokenizer
  fortunes fortunes-min  # the built-in demo corpus (English text)
  python3                # fixture scripts
  pybind11-dev python3-dev  # the Python module (python/; its Python packages: scripts/setup_python.sh)
  strace                 # tests/cluster_failures.sh: a signal at an exact point of a checkpoint write
)

case "$corpus" in
  "") ;;
  debian-text)
    packages+=(
      bible-kjv-text         # the King James Bible
      dict-gcide             # the Collaborative International Dictionary of English
      dict-wn                # WordNet
      dict-jargon dict-foldoc dict-devil dict-vera dict-elements  # more dictd dictionaries
      fortunes-bofh-excuses fortunes-debian-hints  # more English fortunes
    ) ;;
  *) echo "setup: unknown corpus '$corpus' (known: debian-text)" >&2; exit 1 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run this script as root to install them" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
