#!/usr/bin/env bash
# Configures and builds vbq (Release) into ${VBQ_BUILD:-build}. Extra arguments go to cmake.
# Shows the build's progress; the full log (compiler output) is in $build/build.log.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$root"
build=${VBQ_BUILD:-build}
mkdir -p "$build"
log="$build/build.log"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
status=0
{ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" && cmake --build "$build" -j"$(nproc)"; } \
  >"$log" 2>&1 &
pid=$!
# One line per finished step: "[ 42%] Building CXX object ..." (a bar on a terminal).
tail -n +1 -F "$log" --pid=$pid 2>/dev/null | grep --line-buffered -oE '^\[ *[0-9]+%\] (Building|Linking) [A-Z+]+ [a-z ]+[^ ]+' \
  | sed -u -E 's#CMakeFiles/[^/]+\.dir/##; s#\.o$##' \
  | if [ -t 2 ]; then while IFS= read -r l; do printf '\r\033[Kbuild: %s' "${l:0:100}" >&2; done; printf '\r\033[K' >&2
    else sed -u 's/^/build: /' >&2; fi || true
wait $pid || status=$?
if ((status)); then
  grep -E "error:|Error [0-9]|CMake Error" "$log" | head -40 >&2
  echo "build failed: see $log" >&2
  exit 1
fi
warnings=$(grep -c "warning:" "$log" || true)
((warnings == 0)) || echo "build: $warnings compiler warnings, see $log" >&2
echo "build: ok ($build)" >&2
