#!/usr/bin/env bash
# The paper's Fig. 3 at its scale, on our own Bayesian skip-gram, and where the
# bits go. Long: about an hour of both cores after the reference model
# exists (scripts/train_reference.sh builds it first if it is missing: about
# 7 minutes per epoch at V=100k over the 65.5M tokens on 2 cores, 12 epochs).
#
#   VBQ_DATA=../shared/data scripts/fig3.sh
#
# Writes out/fig3/: curve-v*k.{csv,svg,png} (learning curves), eval-*.txt
# (uncompressed Hits@1/10, MRR, coverage),
# rd-v100k.{csv,svg,png} and rd-v30k.* (every method of `vbq rd`, real file bytes,
# the paper's own points overlaid), bits-v100k-*.{csv,svg,png} (bits per
# coordinate vs sigma/sigma0 and per word vs frequency rank, VBQ vs uniform+rANS
# at the same file size) and summary.txt (the ratio tables).
# env: VBQ_DATA (required), VBQ_CACHE ($HOME/.cache/vbq), OUT (out/fig3),
#      LAMBDAS (1e-3:1e2:16), GRID (1:511:14), KMEANS (2:512:6), REFINE (3),
#      VARIANTS (the VBQ variants of `vbq rd --variants`: the paper's configuration,
#      each improvement beyond the paper alone and all together), VOCABS ("100000 30000"),
#      VBQ (a vbq binary to use as is; default: set up and build ${VBQ_BUILD:-build}/vbq)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$root"
: "${VBQ_DATA:?set VBQ_DATA to the shared data directory}"
export VBQ_DATA
if [ -n "${VBQ:-}" ]; then
  vbq=$VBQ  # a given binary: no setup, no build
else
  scripts/setup.sh
  scripts/build.sh
  vbq=$PWD/${VBQ_BUILD:-build}/vbq
fi
cache=${VBQ_CACHE:-$HOME/.cache/vbq}
out=${OUT:-out/fig3}
model=$cache/skipgram-v100k-d100.h5
questions=$VBQ_DATA/questions-words.txt
mkdir -p "$out"
[ -e "$model" ] || VBQ=$vbq scripts/train_reference.sh

# Each vocabulary's own reference model (train_reference.sh builds both); without
# it, the V=100k model's most frequent words.
model_of() {
  local own=$cache/skipgram-v$(($1 / 1000))k-d100.h5
  if [ -e "$own" ]; then echo "$own"; else echo "$model"; fi
}
for v in ${VOCABS:-100000 30000}; do
  echo "== learning curve of $(basename "$(model_of "$v")") (Hits@10 and the ELBO on a fixed sample, by epoch)"
  VBQ=$vbq TOP_WORDS=$v scripts/learning_curve.sh "$(model_of "$v")" "$out/curve-v$((v / 1000))k"
done

sweep=(--lambdas "${LAMBDAS:-1e-3:1e2:16}" --grid "${GRID:-1:511:14}" --kmeans "${KMEANS:-2:512:6}"
       --variants "${VARIANTS:-vbq,vbq+auto,vbq+refine,vbq+tables,vbq+auto+refine,vbq+auto+refine+tables}"
       --refine "${REFINE:-3}" --fractions 0.5,0.75,0.9,0.95,0.975)
: >"$out/summary.txt"
for v in ${VOCABS:-100000 30000}; do
  tag=v$((v / 1000))k
  echo "== $tag: uncompressed model" | tee -a "$out/summary.txt"
  "$vbq" eval "$(model_of "$v")" --questions "$questions" --lowercase --top-words "$v" | tee "$out/eval-$tag.txt"
  echo "== $tag: rate-distortion sweep (word vectors, real files)" | tee -a "$out/summary.txt"
  "$vbq" rd "$(model_of "$v")" --questions "$questions" --lowercase --top-words "$v" "${sweep[@]}" \
    -o "$out/rd-$tag.csv" --plot "$out/rd-$tag.svg" --paper-csv "$VBQ_DATA/paper-fig3-rd.csv" -f \
    | tee -a "$out/summary.txt"
done
echo "paper (ideal entropies, V=100k): VBQ / best baseline = 0.28 0.44 0.60 0.68 0.83 at 50 75 90 95 97.5%" \
  | tee -a "$out/summary.txt"

echo "== where the bits go (V=100k, word vectors)"
for lambda in ${BITS_LAMBDAS:-0.1 1}; do
  "$vbq" bits "$model" --tensor word --lambda "$lambda" -o "$out/bits-v100k-lambda$lambda.csv" \
    --plot "$out/bits-v100k-lambda$lambda.svg" -f | tail -3 | tee -a "$out/summary.txt"
done
echo "wrote $out"
