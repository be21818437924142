// OpenMP is optional for lib/ (the VBQ_CODEC_ONLY build needs none): without it
// the loops run on one thread with the same results (they do not depend on the
// thread count). Private to lib/src.
#pragma once

#ifdef _OPENMP
#include <omp.h>
#define VBQ_OMP(...) _Pragma(VBQ_OMP_STRING(omp __VA_ARGS__))
#define VBQ_OMP_STRING(x) #x
#else
#define VBQ_OMP(...)
#endif

namespace vbq {

// A requested thread count: threads > 0 as given, else all cores (1 without OpenMP).
inline int resolve_threads(int threads) {
#ifdef _OPENMP
  return threads > 0 ? threads : omp_get_num_procs();
#else
  return threads > 0 ? threads : 1;
#endif
}

}  // namespace vbq
