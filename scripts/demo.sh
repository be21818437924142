#!/usr/bin/env bash
# The main demo, on real data that any Debian machine has (dataset-fashion-mnist):
# train a Bayesian neural network with the default settings, compress it with VBQ
# to 98% of its accuracy, then sweep the rate against uniform quantization +
# rANS/gzip/bzip2/xz/lzma/zstd and k-means (the default sweep of `vbq rd`).
# Prints the summary table; writes out/demo/rd.{csv,svg,png} (the sweep's files in
# out/demo/rd-files, each .vbq checked against the reference decoder), then shows where
# the bits go (out/demo/bits.{csv,svg,png}). About 15 minutes on 2 idle cores.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$root"
scripts/setup.sh
scripts/build.sh
vbq=${VBQ_BUILD:-build}/vbq
data=/usr/share/datasets/fashion-mnist
out=out/demo
mkdir -p "$out"

echo "== 1. train a Bayesian MLP (784-400-400-10, sparse variational dropout prior) on Fashion-MNIST"
$vbq train-bnn --data "$data" -o "$out/bnn.h5" --threads 2 --seed 1 -f
$vbq eval-bnn "$out/bnn.h5" --data "$data"

echo "== 2. compress it with VBQ to 98% of the uncompressed accuracy, and decompress"
$vbq compress "$out/bnn.h5" -o "$out/bnn.vbq" --target-quality accuracy=0.98x --task fashion-mnist --data "$data" -f
$vbq info "$out/bnn.vbq"
$vbq eval-bnn "$out/bnn.vbq" --data "$data"

echo "== 3. rate-distortion sweep: VBQ vs the baselines (real file sizes)"
rm -rf "$out/rd-files"
$vbq rd "$out/bnn.h5" --task fashion-mnist --data "$data" -o "$out/rd.csv" --plot "$out/rd.svg" -T 2 -f \
  --keep-files "$out/rd-files"
echo "plot: $out/rd.svg and $out/rd.png"
echo "   every .vbq file of the sweep through the SPEC's reference decoder (formats/reference_decoder.py):"
VBQ_BUILD=${VBQ_BUILD:-build} scripts/check_reference_decoder.sh "$out/rd-files"

echo "== 4. where the bits go (paper Fig. 7): bits per weight against sigma / sigma_prior"
$vbq bits "$out/bnn.h5" --lambda 0.1 -o "$out/bits.csv" --plot "$out/bits.svg" -f
