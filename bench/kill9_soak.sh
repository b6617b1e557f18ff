#!/usr/bin/env bash
# kill9_soak.sh: the kill -9 test for a long time.
#
# Runs tests/sql/kill9_test.cc (Kill9Test.AcknowledgedCommitsSurviveSigkill)
# with LARIX_KILL9_ROUNDS=2000 instead of the default run's 25: 2000 times
# a child process writing to one store is killed with SIGKILL at a random
# moment, and the store is reopened and checked (fsck, integrity_check,
# every acknowledged transaction present, no transaction half there).
# Expect roughly 0.2-0.5 s per round.
#
# Usage: bench/kill9_soak.sh [BUILD_DIR] [ROUNDS]
#   BUILD_DIR  a build tree holding tests/sql_tests (default: $BUILD_DIR,
#              else ./build under the repository)
#   ROUNDS     default: $LARIX_KILL9_ROUNDS, else 2000
# Exit status: that of the test (0 when every round passed).

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD_DIR:-$repo/build}}
rounds=${2:-${LARIX_KILL9_ROUNDS:-2000}}
bin=$build/tests/sql_tests

if [[ ! -x $bin ]]; then
  echo "kill9_soak: $bin not found; build it first:" >&2
  echo "  cmake -S $repo -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release" >&2
  echo "  ninja -C $build sql_tests" >&2
  exit 2
fi

echo "kill9_soak: $rounds rounds with $bin"
start=$(date +%s)
status=0
LARIX_KILL9_ROUNDS=$rounds "$bin" --gtest_filter='Kill9Test.*' || status=$?
echo "kill9_soak: $rounds rounds, $(( $(date +%s) - start )) s, exit $status"
exit $status
