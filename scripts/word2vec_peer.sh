#!/usr/bin/env bash
# Throughput peer: Google's word2vec.c (skip-gram, negative sampling) against
# `vbq train-embeddings` on exactly the same token stream.
#
# usage: scripts/word2vec_peer.sh CORPUS...        (e.g. $VBQ_DATA/wiki/enwiki-part00.txt.gz)
# env:   VBQ=path/to/vbq (default build/vbq)   VBQ_CACHE (default $HOME/.cache/vbq)
#        THREADS (2) EPOCHS (1) VOCAB (30000) DIM (100) SAMPLE (0 = off)
#        WORK ($VBQ_CACHE/peer: tokens and models)  SKIP_VBQ=1: word2vec.c only (e.g. to
#        compare with a reference model trained by train_reference.sh on the same tokens)
#        REUSE_TOKENS=1: keep WORK/tokens.txt from an earlier run with the same corpus and VOCAB
#
# word2vec.c comes from the npm package `word2vec` (its src/ holds the original
# word2vec.c); it is unpacked and compiled under $VBQ_CACHE/word2vec, never in the
# repository. `vbq tokenize` writes our in-vocabulary tokens one sentence per line,
# so word2vec.c (-min-count 1) sees our vocabulary (plus its own </s>), our
# sentence boundaries and our tokens. Throughput = in-vocabulary tokens x epochs
# per thread per wall second (and per CPU second, which load on a shared machine
# disturbs less; word2vec.c's own "Words/thread/sec" counter is per CPU second). Both run skip-gram, d=DIM, window 5,
# 5 negatives, the same epochs, threads and subsampling.
set -euo pipefail
(($#)) || { sed -n 2,17p "$0" >&2; exit 1; }
source "$(dirname "$0")/common.sh"
VBQ=${VBQ:-$root/build/vbq}
cache=${VBQ_CACHE:-$HOME/.cache/vbq}
THREADS=${THREADS:-2} EPOCHS=${EPOCHS:-1} VOCAB=${VOCAB:-30000} DIM=${DIM:-100} SAMPLE=${SAMPLE:-0}
[ -x "$VBQ" ] || { echo "word2vec_peer: no vbq binary at $VBQ (set VBQ=...)" >&2; exit 1; }

w2v_dir=$cache/word2vec
w2v=$w2v_dir/word2vec
if [ ! -x "$w2v" ]; then
  mkdir -p "$w2v_dir"
  (cd "$w2v_dir" && npm pack word2vec --silent >/dev/null && tar xzf word2vec-*.tgz)
  gcc -O3 -march=native -funroll-loops -Wno-unused-result "$w2v_dir/package/src/word2vec.c" -o "$w2v" -lm -pthread
fi

work=${WORK:-$cache/peer}
mkdir -p "$work"
tokens=$work/tokens.txt
if [ "${REUSE_TOKENS:-0}" = 1 ] && [ -s "$tokens" ]; then
  echo "== reusing $tokens (REUSE_TOKENS=1)" >&2
else
  echo "== tokenize (lowercase, V=$VOCAB)" >&2
  "$VBQ" tokenize "$@" --lowercase --vocab-size "$VOCAB" -o "$tokens" -f
fi

ntok=$(wc -w <"$tokens")
TIMEFORMAT='%R %U %S'
# rate WALL_USER_SYS: tokens per thread per second of wall time, and per CPU second
rate() { awk -v n="$ntok" -v e="$EPOCHS" -v t="$THREADS" '{printf "%.1fk words/thread/s (wall %.1f s), %.1fk words per CPU-s", n*e/$1/t/1000, $1, n*e/($2+$3)/1000}' <<<"$1"; }

echo "== word2vec.c: skip-gram d=$DIM window 5 negative 5 iter $EPOCHS threads $THREADS sample $SAMPLE" >&2
w2v_t=$( { time "$w2v" -train "$tokens" -output "$work/w2v.bin" -binary 1 -cbow 0 -hs 0 -size "$DIM" -window 5 \
  -negative 5 -sample "$SAMPLE" -iter "$EPOCHS" -threads "$THREADS" -min-count 1 -alpha 0.025 >"$work/w2v.log" 2>&1; } 2>&1 )
echo "word2vec.c: $(rate "$w2v_t")" >&2

if [ "${SKIP_VBQ:-0}" != 1 ]; then
  echo "== vbq train-embeddings: same settings, Bayesian (mean + log_std per coordinate)" >&2
  vbq_t=$( { time "$VBQ" train-embeddings "$tokens" --vocab-size "$VOCAB" --dim "$DIM" --window 5 --negatives 5 \
    --epochs "$EPOCHS" --threads "$THREADS" --sample "$SAMPLE" -o "$work/vbq.h5" -f -v 2>"$work/vbq.log"; } 2>&1 )
  echo "vbq: $(rate "$vbq_t")" >&2
fi
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: compare runs made under similar load)"
echo "word2vec.c  $(rate "$w2v_t")"
[ "${SKIP_VBQ:-0}" = 1 ] || echo "vbq         $(rate "$vbq_t")"
echo "models: $work/w2v.bin (word2vec binary)$([ "${SKIP_VBQ:-0}" = 1 ] || echo ", $work/vbq.h5")"
