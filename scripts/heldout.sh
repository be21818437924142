#!/usr/bin/env bash
# The embeddings on their own objective: a V = 100k, d = 100 Bayesian skip-gram
# trained on enwiki-part00..02, its held-out nll at the decoded means on text it
# has not seen (the first 8 MB of part03), and Hits@10 of the same model, both
# swept against bits per dimension. Long: training took 4,483 s for its 3 epochs
# on 2 shared cores (2026-12-01); the default held-out sweep is sized for 20 minutes.
#
#   VBQ_DATA=../shared/data scripts/heldout.sh
#
# Writes OUT (out/heldout): model.h5 (and its epoch snapshots), part03-8MB.txt,
# heldout-nll.{csv,svg,png} and analogy.{csv,svg,png} (also copied to
# docs/heldout-nll.png and docs/heldout-analogy.png), summary.txt.
# env: VBQ_DATA (required), OUT (out/heldout), TOKENS (1000000), CANDIDATES_TOP
#      (0: every word a candidate; N: --candidates-top N for the analogy sweep),
#      VBQ (a vbq binary to use as is; default: set up and build build/vbq)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$root"
: "${VBQ_DATA:?set VBQ_DATA to the shared data directory}"
if [ -n "${VBQ:-}" ]; then
  vbq=$VBQ
else
  scripts/setup.sh
  scripts/build.sh
  vbq=$PWD/build/vbq
fi
out=${OUT:-out/heldout}
wiki=$VBQ_DATA/wiki
mkdir -p "$out"
model=$out/model.h5
if [ ! -e "$model" ]; then
  echo "== training on enwiki-part00..02 (part03 is held out)"
  "$vbq" train-embeddings "$wiki"/enwiki-part0{0,1,2}.txt.gz --lowercase --vocab-size 100000 --dim 100 \
    --window 5 --negatives 5 --epochs 3 --threads 2 --seed 11 -o "$model" --snapshots -v
fi
heldout=$out/part03-8MB.txt
# The held-out text: the first 8,000,000 bytes of part03, uncompressed, one file.
[ -e "$heldout" ] || { gzip -dc "$wiki/enwiki-part03.txt.gz" | head -c 8000000 >"$heldout"; }

: >"$out/summary.txt"
echo "== held-out nll sweep (word and context vectors, real files)" | tee -a "$out/summary.txt"
"$vbq" rd "$model" --task heldout-nll --corpus "$heldout" --tokens "${TOKENS:-1000000}" -T 2 \
  -o "$out/heldout-nll.csv" --plot "$out/heldout-nll.svg" -f -q | tee -a "$out/summary.txt"
echo "== analogy sweep (word vectors, real files)" | tee -a "$out/summary.txt"
"$vbq" rd "$model" --questions "$VBQ_DATA/questions-words.txt" --lowercase \
  --candidates-top "${CANDIDATES_TOP:-0}" --lambdas 1e-3:1e2:16 --grid 1:511:14 \
  --variants vbq,vbq+auto+refine+tables --no-general -T 2 \
  -o "$out/analogy.csv" --plot "$out/analogy.svg" -f -q | tee -a "$out/summary.txt"
cp "$out/heldout-nll.png" docs/heldout-nll.png
cp "$out/analogy.png" docs/heldout-analogy.png
echo "wrote $out/summary.txt, docs/heldout-nll.png and docs/heldout-analogy.png"
