#!/usr/bin/env bash
# Runs every test: the C++ suites (GoogleTest), the CLI tests and the Python
# tests, all registered with CTest.  Needs scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --parallel "${LARIX_JOBS:-2}"
ctest --test-dir build --output-on-failure --parallel "${LARIX_JOBS:-2}" \
  --timeout 900 "$@"
