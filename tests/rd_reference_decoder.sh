#!/usr/bin/env bash
# The reference decoder (formats/reference_decoder.py) against `vbq decompress` on
# every .vbq file of a small default-method R-D sweep: a BNN 784-16-10 trained one
# epoch on Fashion-MNIST, one setting per method (about 30 s on 2 cores).
# Every method that writes a container must be there, the context-coded ones
# included. Prints "VBQ_SKIPPED: ..." and passes without the data set or h5py.
# usage: rd_reference_decoder.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/t10k-labels-idx1-ubyte.gz" ]; then
  echo "VBQ_SKIPPED: $data is missing (apt-get install dataset-fashion-mnist)"; exit 0
fi
if ! /usr/bin/python3 -c 'import numpy, h5py' 2>/dev/null; then
  echo "VBQ_SKIPPED: /usr/bin/python3 with numpy and h5py is missing"; exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
vbq=$build/vbq
"$vbq" train-bnn --data "$data" -o "$tmp/bnn.h5" --hidden 16 --epochs 1 --threads 2 --seed 1 -f >/dev/null
"$vbq" rd "$tmp/bnn.h5" --task fashion-mnist --data "$data" --lambdas 0.3 --grid 3 --kmeans 4 --no-general \
  --refine-rounds 0 --keep-files "$tmp/files" -o "$tmp/rd.csv" -q -f -T 2
for method in vbq vbq+refine vbq+auto+refine vbq+auto+refine+ctx vbq+wide:8+refine+ctx vbq+wide:8+refine+ctx+spread:0.6 \
  uniform+rans uniform+ctx kmeans+rans; do
  ls "$tmp/files/$method"-*.vbq >/dev/null 2>&1 || { echo "no .vbq file of $method in the sweep" >&2; exit 1; }
done
[ "$(ls "$tmp/files"/*.vbq | wc -l)" -eq 9 ] || { echo "expected 9 .vbq files, one per method" >&2; exit 1; }
VBQ_BUILD=$build "$src/scripts/check_reference_decoder.sh" "$tmp/files"
# A damaged file is reported, and fails the check.
printf 'not a container' >"$tmp/files/garbage.vbq"
if VBQ_BUILD=$build "$src/scripts/check_reference_decoder.sh" "$tmp/files" >"$tmp/out.txt" 2>&1; then
  echo "a damaged file passed the check" >&2; exit 1
fi
grep -q "10 files, 1 differ" "$tmp/out.txt" || { cat "$tmp/out.txt" >&2; exit 1; }
