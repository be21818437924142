#!/usr/bin/env bash
# Installs every Debian package vbq needs to build, test, run the demo and draw plots.
# Idempotent: packages already present are skipped; apt-get runs only when something is missing.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git
  libhdf5-dev hdf5-tools
  libboost-program-options-dev libboost-math-dev
  libzstd-dev liblzma-dev libbz2-dev zlib1g-dev
  libjpeg62-turbo-dev  # eval/jpeg: the JPEG baseline of the VAE R-D task
  doctest-dev libbenchmark-dev
  libopenblas-dev libopenblas0-pthread
  gnuplot-nox librsvg2-bin
  dataset-fashion-mnist
  python3-numpy python3-h5py  # python3-h5py: tests read a file h5py wrote
  python3-dev pybind11-dev python3-gensim python3-dask python3-distributed python3-zarr python3-pytest  # python/
  xz-utils bzip2 gzip zstd
  clang-14 libclang-rt-14-dev libomp-14-dev  # scripts/fuzz.sh (libFuzzer + OpenMP under clang)
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all packages present" >&2
