#!/usr/bin/env bash
# Checks formats/reference_decoder.py (written from formats/SPEC.md alone)
# against `vbq decompress` on every .vbq file in DIR: each tensor must come back
# with the same dtype, shape and bits. Prints one line per differing file and a
# one-line summary; exits 1 if a file differs or fails to decode, 2 on bad usage.
#
#   scripts/check_reference_decoder.sh DIR      (e.g. the files of vbq rd --keep-files DIR)
#
# VBQ_BUILD: the build directory holding vbq (default build); JOBS: parallel
# reference decoders (default 2). Needs /usr/bin/python3 with numpy and h5py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: scripts/check_reference_decoder.sh DIR}
[ -d "$dir" ] || { echo "check_reference_decoder: $dir is not a directory" >&2; exit 2; }
vbq=${VBQ_BUILD:-$root/build}/vbq
[ -x "$vbq" ] || { echo "check_reference_decoder: $vbq not found (set VBQ_BUILD)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# vbq's side: each file decompressed to HDF5 (fast, C++); then one Python
# process decodes them all with the reference decoder and compares.
shopt -s nullglob
files=("$dir"/*.vbq)
[ ${#files[@]} -gt 0 ] || { echo "check_reference_decoder: no .vbq file in $dir" >&2; exit 1; }
list=$tmp/files.txt
: >"$list"
for f in "${files[@]}"; do
  h5=$tmp/$(basename "$f").h5
  if "$vbq" decompress "$f" -o "$h5" -f -T 1 2>"$tmp/err.txt"; then
    printf '%s\t%s\n' "$f" "$h5" >>"$list"
  else
    printf '%s\t\n' "$f" >>"$list"
    echo "vbq decompress failed on $f: $(cat "$tmp/err.txt")" >&2
  fi
done

/usr/bin/python3 - "$root/formats" "$list" "${JOBS:-2}" <<'EOF'
import multiprocessing, sys
import h5py, numpy as np
sys.path.insert(0, sys.argv[1])
import reference_decoder

def check(pair):
    """None if every tensor of the file is bit-identical, else why not."""
    vbq_file, h5 = pair
    if not h5:
        return "vbq decompress failed"
    try:
        with open(vbq_file, "rb") as f:
            tensors, _, paths = reference_decoder.decode(f.read())
    except reference_decoder.DecodeError as e:
        return f"reference decoder: {e}"
    with h5py.File(h5, "r") as h:
        for name, ours in tensors.items():
            theirs = h[paths[name]][()]
            if theirs.dtype != ours.dtype or theirs.shape != ours.shape or theirs.tobytes() != ours.tobytes():
                return f"tensor '{name}' differs"
    return None

pairs = [tuple(line.rstrip("\n").split("\t")) for line in open(sys.argv[2])]
with multiprocessing.Pool(int(sys.argv[3])) as pool:
    results = pool.map(check, pairs, chunksize=1)
bad = [(f, why) for (f, _), why in zip(pairs, results) if why]
for f, why in bad:
    print(f"DIFFERS {f}: {why}")
if bad:
    print(f"reference decoder vs vbq decompress: {len(pairs)} files, {len(bad)} differ")
    sys.exit(1)
print(f"reference decoder vs vbq decompress: {len(pairs)} files, all identical")
EOF
