#!/usr/bin/env bash
# Runs one libFuzzer target: scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags]
# TARGET: container | word2vec | questions | idx (or fuzz_<name>).
# Builds build-fuzz (clang-14, ASan+UBSan+libFuzzer) if needed, seeds the corpus
# build-fuzz/corpus/fuzz_TARGET from real files (every run), then fuzzes for
# SECONDS on one core at low priority. Crash inputs land in build-fuzz/crashes/.
# Exit status: 0 no crash, nonzero libFuzzer's status (a crash was found).
set -euo pipefail
if (($# < 2)); then
  echo "usage: scripts/fuzz.sh container|word2vec|questions|idx SECONDS [libFuzzer flags]" >&2
  exit 1
fi
source "$(dirname "$0")/common.sh"
target=$1; seconds=$2; shift 2
target=fuzz_${target#fuzz_}
build=${VBQ_FUZZ_BUILD:-$root/build-fuzz}

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVBQ_FUZZ=ON \
    -DVBQ_BUILD_TESTS=OFF -DVBQ_BUILD_BENCH=OFF \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
fi
nice -n 10 cmake --build "$build" -j2 --target "$target" make_seeds >/dev/null

corpus=$build/corpus/$target
# Seeds are rebuilt from the current code on every run and merged by content, so
# a format change reaches a corpus grown under an older one.
rm -rf "$build/seeds"
ASAN_OPTIONS=detect_leaks=0 "$build/make_seeds" "$build/seeds" "$root"
mkdir -p "$corpus"
for f in "$build/seeds/$target"/*; do
  cp "$f" "$corpus/seed-$(sha1sum "$f" | cut -c1-16)"
done
mkdir -p "$build/crashes/$target"
# In-process (no -jobs: that forks and logs to ./fuzz-N.log), one core, bounded memory: the machine is shared.
exec nice -n 10 "$build/$target" "$corpus" -max_total_time="$seconds" \
  -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$build/crashes/$target/" "$@"
