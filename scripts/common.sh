# Sourced by every script in scripts/: one place for what they all need.
#  - VBQ_DATA, if set, is resolved against the directory the command was started
#    from (so `VBQ_DATA=../shared/data scripts/test.sh` means what it says), then
#    $root is the repository root (scripts that work there cd to it).
#  - One OpenBLAS kernel for every script, test and measurement: results of the
#    trainers and the MLP evaluation depend on the gemm kernel the CPU selects
#    (AVX-512 and AVX2 kernels sum in different orders). Haswell's (AVX2) is
#    pinned on any CPU that has AVX2 and FMA; a kernel already set in the
#    environment is kept. `vbq` pins the same kernel itself (tools/main.cpp).
if [ -n "${VBQ_DATA:-}" ]; then
  VBQ_DATA=$(realpath -m -- "$VBQ_DATA")
  export VBQ_DATA
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=Haswell
fi
