#!/usr/bin/env bash
# Installs the Debian packages the project needs. Idempotent: installs only what is
# missing and runs `apt-get update` once, only when something must be installed.
# Runs as root (no sudo); as another user it only reports what is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  doctest-dev            # test framework
  libopenblas-dev        # CPU GEMM
  libtomlplusplus-dev    # configs
  nlohmann-json3-dev     # JSON / JSONL
  libzstd-dev            # .jsonl.zst corpora
  libsentencepiece-dev sentencepiece  # tokenizer
  fortunes fortunes-min  # the built-in demo corpus (English text)
  python3                # fixture scripts
)

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
