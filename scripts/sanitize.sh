#!/usr/bin/env bash
# ASan + UBSan build of the whole test suite: scripts/sanitize.sh [doctest args]
# Configures build-asan with -DVBQ_SANITIZE=ON (RelWithDebInfo, so the
# suite stays fast enough), builds vbq and vbq_tests, and runs the suite. Any
# sanitizer report fails the run (halt_on_error, UBSan without recovery).
# Extra arguments go to vbq_tests, e.g. -tc='container*' for a subset.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build=${VBQ_ASAN_BUILD:-$root/build-asan}
jobs=${VBQ_JOBS:-2}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVBQ_SANITIZE=ON -DVBQ_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-fno-sanitize-recover=undefined" >/dev/null
start=$(date +%s)
cmake --build "$build" -j"$jobs" --target vbq vbq_tests
built=$(date +%s)
# detect_leaks=0: OpenBLAS/OpenMP thread pools keep allocations alive until exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
"$build/vbq_tests" "$@" || status=$?
end=$(date +%s)
echo "sanitize: build $((built - start))s, tests $((end - built))s, status $status" >&2
exit $status
