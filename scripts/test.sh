#!/usr/bin/env bash
# Sets up the machine, builds, and runs every test suite through ctest.
# Data-backed tests run when VBQ_DATA points at the shared data directory
# (a relative path is taken from where the command was started); without it
# they are reported as skipped. Afterwards it checks that ctest ran every
# doctest case exactly once: the cases executed under ctest must add up to
# the `--count` of the *_tests binaries.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$root"
scripts/setup.sh
scripts/build.sh
build=${VBQ_BUILD:-build}
log="$build/ctest.log"
echo "test: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(CPU default)} VBQ_DATA=${VBQ_DATA:-(not set: data-backed tests skipped)}"
status=0
# -V keeps every test's doctest summary in the log; the terminal gets ctest's progress lines.
ctest --test-dir "$build" -V -j2 --timeout 600 >"$log" 2>&1 || status=$?
grep -E '^ *[0-9]+/[0-9]+ Test +#' "$log" | sed -E 's/ +/ /g' || true
if ((status)); then
  echo "test: failures; their output:" >&2
  ctest --test-dir "$build" --rerun-failed --output-on-failure --timeout 600 >&2 || true
fi
sed -n '/tests passed/,$p' "$log"

# Every doctest case ran under ctest exactly once.
executed=$(grep -oE '\[doctest\] test cases: +[0-9]+' "$log" | awk '{s += $NF} END {print s + 0}')
expected=0
for bin in "$build"/*_tests; do
  n=$("$bin" --count | grep -oE 'passing the current filters: [0-9]+' | grep -oE '[0-9]+$')
  expected=$((expected + n))
done
skipped=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#.*\*\*\*Skipped' "$log" || true)
echo "test: $executed doctest cases executed under ctest, $expected in the *_tests binaries; $skipped skipped"
if ((executed != expected)); then
  echo "test: ctest did not run every doctest case exactly once (a test name that CMake splits?)" >&2
  status=1
fi
exit $status
