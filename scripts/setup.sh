#!/usr/bin/env bash
# Installs every dependency Larix needs on Debian 12 (bookworm) and builds
# it.  Idempotent: running it again rebuilds what changed.
#
#   bash scripts/setup.sh            # as root, or with sudo available
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libleveldb-dev libsodium-dev libzstd-dev libsqlite3-dev sqlite3
  libcli11-dev libhnswlib-dev libgtest-dev libgmock-dev googletest
  libedit-dev pybind11-dev python3 python3-pip
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install -q --disable-pip-version-check \
  -r python/requirements-dev.txt

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build --parallel "${LARIX_JOBS:-2}"

if [ -f python/pyproject.toml ]; then
  CMAKE_BUILD_PARALLEL_LEVEL="${LARIX_JOBS:-2}" \
    "$PYTHON" -m pip install -q --disable-pip-version-check ./python
fi
echo "setup: done (binaries in build/, run bash scripts/test.sh)"
