#!/usr/bin/env bash
# Builds the reference Bayesian skip-gram models into a cache outside the repo:
#   $VBQ_CACHE/skipgram-v30k-d100.h5 and skipgram-v100k-d100.h5 (default VBQ_CACHE=$HOME/.cache/vbq)
# from all four Wikipedia parts in $VBQ_DATA/wiki, lowercased, d=100, window 5,
# 5 negatives, the trainer's posterior defaults (init_std 0.1, std_rate 2: the
# precisions reach the ELBO's stationary point within the first epochs).
# 12 epochs: at V=30000 the 12-epoch model's Hits@10 and ELBO are within 0.006
# and 0.2% of a 6-epoch model's (docs/RESULTS.md, reference models). Hours of CPU: run it with
# nohup; logs go beside the models. Measured on 2 cores: V=30000, 12 epochs,
# 4,004 s (92.7k words/s/thread); V=100000, 12 epochs, 4,827 s (79.8k).
# scripts/learning_curve.sh MODEL.h5 then evaluates every epoch's snapshot.
#
# env: VBQ=path/to/vbq (default build/vbq)  VBQ_DATA (required)  THREADS (all cores)
#      EPOCHS (12) SAMPLE (0 = no subsampling) SEED (1)  FORCE=1 to rebuild existing models
#      VOCABS ("100000 30000": which models). Each epoch but the last is also kept
#      as skipgram-v*-d100.epochN.h5 (the learning curve).
set -euo pipefail
source "$(dirname "$0")/common.sh"
VBQ=${VBQ:-$root/build/vbq}
: "${VBQ_DATA:?set VBQ_DATA to the shared data directory}"
cache=${VBQ_CACHE:-$HOME/.cache/vbq}
THREADS=${THREADS:-$(nproc)} EPOCHS=${EPOCHS:-12} SAMPLE=${SAMPLE:-0} SEED=${SEED:-1}
[ -x "$VBQ" ] || { echo "train_reference: no vbq binary at $VBQ (run scripts/build.sh or set VBQ=...)" >&2; exit 1; }
mkdir -p "$cache"
corpus=("$VBQ_DATA"/wiki/enwiki-part0{0,1,2,3}.txt.gz)
for v in ${VOCABS:-100000 30000}; do
  out=$cache/skipgram-v$((v / 1000))k-d100.h5
  if [ -e "$out" ] && [ "${FORCE:-0}" != 1 ]; then
    echo "train_reference: $out exists (FORCE=1 to rebuild)" >&2
    continue
  fi
  echo "train_reference: $out (log ${out%.h5}.log)" >&2
  "$VBQ" train-embeddings "${corpus[@]}" --lowercase --vocab-size "$v" --dim 100 --window 5 --negatives 5 \
    --epochs "$EPOCHS" --threads "$THREADS" --sample "$SAMPLE" --seed "$SEED" --snapshots -o "$out" -f -v 2>"${out%.h5}.log"
  tail -1 "${out%.h5}.log" >&2
done
