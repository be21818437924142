#!/usr/bin/env bash
# Configures and builds vbq (Release) into ${VBQ_BUILD:-build}. Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${VBQ_BUILD:-build}
mkdir -p "$build"
log="$build/build.log"
if ! { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" && cmake --build "$build" -j"$(nproc)"; } >"$log" 2>&1; then
  grep -E "error:|Error [0-9]|CMake Error" "$log" | head -40 >&2
  echo "build failed: see $log" >&2
  exit 1
fi
echo "build: ok ($build)" >&2
