#!/usr/bin/env bash
# Throughput peer: Google's word2vec.c (skip-gram, negative sampling) against
# `vbq train-embeddings` on exactly the same token stream.
#
# usage: scripts/word2vec_peer.sh CORPUS...        (e.g. $VBQ_DATA/wiki/enwiki-part00.txt.gz)
# env:   VBQ=path/to/vbq (default build/vbq)   VBQ_CACHE (default $HOME/.cache/vbq)
#        THREADS (2) EPOCHS (1) VOCAB (30000) DIM (100) SAMPLE (0 = off)
#
# word2vec.c comes from the npm package `word2vec` (its src/ holds the original
# word2vec.c); it is unpacked and compiled under $VBQ_CACHE/word2vec, never in the
# repository. `vbq tokenize` writes our in-vocabulary tokens one sentence per line,
# so word2vec.c (-min-count 1) sees our vocabulary (plus its own </s>), our
# sentence boundaries and our tokens. Both run skip-gram, d=DIM, window 5,
# 5 negatives, the same epochs, threads and subsampling.
set -euo pipefail
(($#)) || { sed -n 2,14p "$0" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
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

work=$cache/peer
mkdir -p "$work"
tokens=$work/tokens.txt
echo "== tokenize (lowercase, V=$VOCAB)" >&2
"$VBQ" tokenize "$@" --lowercase --vocab-size "$VOCAB" -o "$tokens" -f

echo "== word2vec.c: skip-gram d=$DIM window 5 negative 5 iter $EPOCHS threads $THREADS sample $SAMPLE" >&2
start=$(date +%s.%N)
"$w2v" -train "$tokens" -output "$work/w2v.bin" -binary 1 -cbow 0 -hs 0 -size "$DIM" -window 5 -negative 5 \
  -sample "$SAMPLE" -iter "$EPOCHS" -threads "$THREADS" -min-count 1 -alpha 0.025 >"$work/w2v.log" 2>&1
end=$(date +%s.%N)
# word2vec.c counts every word including one </s> per line; report its own figure.
w2v_rate=$(tr '\r' '\n' <"$work/w2v.log" | grep -o 'Words/thread/sec: *[0-9.]*k' | tail -1 | grep -o '[0-9.]*k')
echo "word2vec.c: ${w2v_rate:-?} words/thread/s (its own counter), wall $(awk "BEGIN{printf \"%.1f\", $end - $start}") s" >&2

echo "== vbq train-embeddings: same settings, Bayesian (mean + log_std per coordinate)" >&2
"$VBQ" train-embeddings "$tokens" --vocab-size "$VOCAB" --dim "$DIM" --window 5 --negatives 5 --epochs "$EPOCHS" \
  --threads "$THREADS" --sample "$SAMPLE" -o "$work/vbq.h5" -f -v 2>&1 | tr '\r' '\n' | tail -1 | tee "$work/vbq.log" >&2
vbq_rate=$(grep -o '[0-9.]* words/s/thread' "$work/vbq.log" | awk '{printf "%.1fk", $1 / 1000}')
echo
echo "throughput (words/thread/s): word2vec.c ${w2v_rate:-?}   vbq ${vbq_rate:-?}"
