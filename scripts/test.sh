#!/usr/bin/env bash
# Sets up the machine, builds, and runs every test suite through ctest.
# Data-backed tests run when VBQ_DATA points at the shared data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir "${VBQ_BUILD:-build}" --output-on-failure -j2 --timeout 600
