#!/usr/bin/env bash
# Installs the build into a temporary prefix, builds tests/consumer against it,
# and checks its "NAME COUNT" lines on a container against `vbq info`, and that
# it links neither HDF5 nor BLAS. usage: run.sh BUILD_DIR SOURCE_DIR FILE.vbq
set -euo pipefail
build=$1 src=$2 file=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/tests/consumer" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/build" >/dev/null
"$tmp/build/vbq_consumer" "$file" >"$tmp/got"
# Expected: each tensor of `vbq info` with the product of its shape.
"$build/vbq" info "$file" | awk '$2 ~ /^[0-9x]+$/ && $3 ~ /^(vbq|grid|codebook)$/ { n = split($2, d, "x"); c = 1; for (i = 1; i <= n; ++i) c *= d[i]; print $1, c }' >"$tmp/want"
diff "$tmp/want" "$tmp/got" || { echo "consumer output differs from vbq info" >&2; exit 1; }
[ -s "$tmp/got" ] || { echo "no tensors decoded" >&2; exit 1; }
if grep -qiE "hdf5|blas" "$tmp/build/CMakeFiles/vbq_consumer.dir/link.txt"; then
  echo "the consumer links HDF5 or BLAS" >&2; exit 1
fi
echo "consumer: decoded $(wc -l <"$tmp/got") tensors of $file through an installed vbq::decoder"
