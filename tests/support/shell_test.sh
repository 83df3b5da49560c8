# Sourced first by the shell tests run as `TEST BUILD_DIR SOURCE_DIR ...`: strict mode, the
# source tree as working directory, $build and $apps (the built programs), a scratch folder
# $work removed on exit, and step (a header line in the log).
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$2"
apps=$build/apps
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }
