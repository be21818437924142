// What the trainers share: counter-based random numbers (bit-reproducible and
// independent of the order of the draws), a Fisher-Yates shuffle on them, row-major
// gemm in either precision, and Adam over a list of parameter vectors.
//
// Determinism: the gemm kernel is pinned by the vbq command (OPENBLAS_CORETYPE,
// tools/main.cpp); everything else here has a fixed order of operations.
#pragma once
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "vbq/random.hpp"

namespace vbq::train {

// Key of one stream of draws: (seed, stream, a, b, c) hashed by nested splitmix64.
inline uint64_t stream_key(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  return splitmix64(splitmix64(splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ a) ^ b) ^ c);
}

// n standard normals: Box-Muller on the pair of uniforms at counters 2j, 2j+1.
template <class T>
void fill_normal(uint64_t key, T* out, size_t n) {
  constexpr double two_pi = 6.283185307179586476925;
  for (size_t i = 0; i < n; i += 2) {
    uint64_t r1 = splitmix64(key + 2 * i), r2 = splitmix64(key + 2 * i + 1);
    double u1 = (double(r1 >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]: log is finite
    double u2 = double(r2 >> 11) * 0x1.0p-53;
    double r = std::sqrt(-2.0 * std::log(u1));
    out[i] = T(r * std::cos(two_pi * u2));
    if (i + 1 < n) out[i + 1] = T(r * std::sin(two_pi * u2));
  }
}

// Fisher-Yates with a counter-based source (std::shuffle is implementation defined).
inline void shuffle(std::vector<uint32_t>& v, uint64_t key) {
  for (size_t i = v.size(); i > 1; --i) {
    uint64_t j = uint64_t((unsigned __int128)splitmix64(key + i) * i >> 64);
    std::swap(v[i - 1], v[j]);
  }
}

// C = op(A) op(B) + beta C, row-major.
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, size_t m, size_t n, size_t k, const float* a, size_t lda,
                 const float* b, size_t ldb, float beta, float* c, size_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb), beta, c, int(ldc));
}
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, size_t m, size_t n, size_t k, const double* a, size_t lda,
                 const double* b, size_t ldb, double beta, double* c, size_t ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

// Adam (Kingma & Ba 2015) with bias correction, beta1 0.9, beta2 0.999, eps 1e-8
// (applied to the bias-corrected second moment). The parameter and gradient lists
// must have the same shapes at every step.
class Adam {
 public:
  explicit Adam(const std::vector<std::vector<float>*>& params) {
    for (const auto* p : params) m_.emplace_back(p->size(), 0.0f), v_.emplace_back(p->size(), 0.0f);
  }
  void step(const std::vector<std::vector<float>*>& params, const std::vector<std::vector<float>*>& grads,
            double lr) {
    ++t_;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double c1 = 1.0 - std::pow(b1, double(t_)), c2 = 1.0 - std::pow(b2, double(t_));
    const float step = float(lr * std::sqrt(c2) / c1), fb1 = float(b1), fb2 = float(b2);
    const float feps = float(eps * std::sqrt(c2));
    for (size_t t = 0; t < params.size(); ++t) {
      float *x = params[t]->data(), *gr = grads[t]->data(), *m = m_[t].data(), *v = v_[t].data();
      const size_t n = params[t]->size();
#pragma omp simd
      for (size_t i = 0; i < n; ++i) {
        m[i] = fb1 * m[i] + (1 - fb1) * gr[i];
        v[i] = fb2 * v[i] + (1 - fb2) * gr[i] * gr[i];
        x[i] -= step * m[i] / (std::sqrt(v[i]) + feps);
      }
    }
  }

 private:
  std::vector<std::vector<float>> m_, v_;
  long t_ = 0;
};

}  // namespace vbq::train
