#!/usr/bin/env bash
# The main demo, on real data that any Debian machine has (dataset-fashion-mnist):
# train a Bayesian neural network, compress it with VBQ at one lambda, then sweep
# lambda against uniform quantization + rANS/gzip/bzip2/xz/lzma/zstd and k-means.
# Prints the summary table; writes out/demo/rd.{csv,svg,png}, then shows where
# the bits go (out/demo/bits.{csv,svg,png}).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$root"
scripts/setup.sh
scripts/build.sh
vbq=${VBQ_BUILD:-build}/vbq
data=/usr/share/datasets/fashion-mnist
out=out/demo
mkdir -p "$out"

echo "== 1. train a Bayesian MLP (784-${HIDDEN:-400,400}-10, Bayes by Backprop) on Fashion-MNIST"
# KL weight 0.1 (a tempered posterior, recorded in the file): with the exact ELBO
# the posterior noise makes the 400-400 net underfit (about 84% instead of 87%).
$vbq train-bnn --data "$data" -o "$out/bnn.h5" --hidden "${HIDDEN:-400,400}" --epochs "${EPOCHS:-5}" \
  --lr 0.002 --kl-weight 0.1 --seed 1 -f
$vbq eval-bnn "$out/bnn.h5" --data "$data"

echo "== 2. compress it with VBQ to 1% below the uncompressed accuracy, and decompress"
$vbq compress "$out/bnn.h5" -o "$out/bnn.vbq" --target-quality accuracy=0.99x --task fashion-mnist --data "$data" -f 2>&1 \
  | grep -v "^  lambda"
$vbq info "$out/bnn.vbq"
$vbq eval-bnn "$out/bnn.vbq" --data "$data"

echo "== 3. rate-distortion sweep: VBQ vs the paper's baselines (real file sizes)"
$vbq rd "$out/bnn.h5" --task fashion-mnist --data "$data" -o "$out/rd.csv" --plot "$out/rd.svg" \
  --lambdas 1e-4:10:20 --grid 1:255:16 --kmeans 2:256:8 --priors gauss,student --refine 3 --fractions 0.5,0.75,0.9,0.95,0.975,0.99 -f
echo "plot: $out/rd.svg and $out/rd.png"

echo "== 4. where the bits go (paper Fig. 7): bits per weight against sigma / sigma_prior"
# lambda 0.25: about where step 2's rate control lands.
$vbq bits "$out/bnn.h5" --lambda 0.25 -o "$out/bits.csv" --plot "$out/bits.svg" -f
