// Bayesian skip-gram kernels: the update rules of the stochastic
// natural-gradient-style VI on the ELBO (the loop that applies them is skipgram.cpp).
//
// Every coordinate has posterior N(mu, 1/tau): we store the precision tau,
// sigma = tau^-1/2 (named tau: the paper's Greek letter for the precision is VBQ's
// rate penalty here). tau0 = 1/s0^2 is the prior's precision (prior_precision in the
// code). s = sigmoid; vector products are per coordinate.
//
// Per pair. For a center token w at a context position c, draw ONE sample of
// the input vector
//     eps_u ~ N(0, I),  z_u = mu_u + sigma_u eps_u                    (u = u_w)
// and for each target t in {c (label y=1), n_1..n_K (label y=0)}:
//     eps_t ~ N(0, I),  z_t = mu_t + sigma_t eps_t         (t's context vector)
//     x = z_u . z_t,  g = y - s(x)      [= d/dx log s(+-x)]
//                     h = s(x)(1-s(x))  [= -d2/dx2 log s(+-x), both labels]
//     mu_t     += rho g z_u,     tau_t += gamma h z_u^2
//     G_u      += g z_t,         H_u      += h z_t^2
// then  mu_u += rho G_u,  tau_u += gamma H_u  (pair_step).
//
// Means: g z_u and g z_t are single-sample unbiased reparameterization
// gradients of the pairs' E_q[log-likelihood]; plain SGD as word2vec.c.
// Prior term of the means: d/dmu (-KL(N(mu, sigma^2) || N(0, s0^2))) = -mu/s0^2,
// applied at every kept occurrence of w as a center, to u_w and v_w, scaled by
// 1/n_w (n_w = count_w * keep_w = expected kept occurrences per epoch):
//     mu += (rho / n_w) (-mu / s0^2)
// so that an epoch applies rho * grad(-KL) once per word, whatever its frequency.
//
// Precisions. For a Gaussian q, dL/d(sigma^2) = 1/2 E_q[d2/dtheta2 log p(D|.)]
// + 1/(2 sigma^2) - 1/(2 s0^2) (Bonnet/Price theorem), so the ELBO is stationary
// in sigma exactly when
//     tau = tau0 + E_q[-d2/dtheta2 log p(D|.)],  tau0 = 1/s0^2,
// and since x is linear in each coordinate, -d2/du_j2 log s(+-x) = h z_tj^2
// exactly: the data term is the sum over all pairs (one epoch) of E_q[h z^2],
// of which gamma h z^2 above is a single-sample estimate (times gamma). The
// natural-gradient step of size beta on (mu, sigma^2) sets tau <- (1 - beta)
// tau + beta (tau0 + data term) (Khan & Nielsen 2018). We spread it over
// the epoch: the pairs add gamma * (their curvature), and each kept occurrence
// of w as a center applies to tau of u_w and of v_w
//     tau += b (tau0 - tau),  b = min(1, gamma / n_w).
// Per epoch this is d tau/dt = gamma (tau0 + H - tau): in expectation
// tau relaxes to the stationary point tau0 + H, forgetting its past at
// rate e^-gamma per epoch (gamma = --std-rate). A word seen n times gets
// H ~ n * (per-occurrence curvature), so sigma ~ n^-1/2 for frequent words and
// sigma -> s0 for words the data do not pin down. Plain SGD on log sigma, the
// previous rule, moves sigma by only ~rho per epoch for rare words and left
// them at init_std.
//
// Schedule: rho_t = lr * max(1e-4, 1 - processed / (epochs * N)) as in
// word2vec.c, processed counted over all threads. tau <= 1e12.
#include "train/skipgram_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VBQ_KERNEL __attribute__((target_clones("avx2", "default")))  // feature test, not CPU model
#else
#define VBQ_KERNEL
#endif

namespace vbq::skipgram_detail {

namespace {

// sigmoid and softplus(-x) = -log s(x) on [-6, 6], saturated outside (word2vec.c).
struct SigmoidTable {
  static constexpr int size = 2048;
  static constexpr float max_x = 6.0f;
  float sig[size + 1], nll[size + 1];
  SigmoidTable() {
    for (int i = 0; i <= size; ++i) {
      double x = (2.0 * i / size - 1) * max_x;
      sig[i] = float(1 / (1 + std::exp(-x)));
      nll[i] = float(std::log1p(std::exp(-x)));
    }
  }
  int index(float x) const { return int((x + max_x) * (size / (2 * max_x)) + 0.5f); }
};

VBQ_KERNEL float dot(const float* a, const float* b, size_t d) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  for (; j + 8 <= d; j += 8)
    for (int k = 0; k < 8; ++k) acc[k] += a[j + k] * b[j + k];
  float s = 0;
  for (; j < d; ++j) s += a[j] * b[j];
  return s + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// 1/sqrt(x) for x > 0 to ~5e-6 relative error, branch-free so loops over it
// vectorize (std::sqrt does not without -fno-math-errno).
inline float fast_rsqrt(float x) {
  uint32_t i;
  std::memcpy(&i, &x, 4);
  i = 0x5F375A86u - (i >> 1);
  float y;
  std::memcpy(&y, &i, 4);
  y = y * (1.5f - 0.5f * x * y * y);
  return y * (1.5f - 0.5f * x * y * y);
}

// z = mu + sigma * eps, sigma = 1/sqrt(precision).
VBQ_KERNEL void sample(size_t d, const float* __restrict mu, const float* __restrict prec, const float* __restrict eps,
                       float* __restrict z) {
  for (size_t j = 0; j < d; ++j) z[j] = mu[j] + fast_rsqrt(prec[j]) * eps[j];
}

// Target update after x: g already includes rho, h = gamma * s(x)(1 - s(x)).
// See the header comment.
VBQ_KERNEL void update_target(size_t d, float g, float h, const float* __restrict zu, const float* __restrict zt,
                              float* __restrict gu, float* __restrict hu, float* __restrict mu,
                              float* __restrict prec) {
  for (size_t j = 0; j < d; ++j) {
    gu[j] += g * zt[j];
    hu[j] += h * zt[j] * zt[j];
    mu[j] += g * zu[j];
    prec[j] += h * zu[j] * zu[j];
  }
}

VBQ_KERNEL void update_input(size_t d, const float* __restrict gu, const float* __restrict hu, float* __restrict mu,
                             float* __restrict prec) {
  for (size_t j = 0; j < d; ++j) {
    mu[j] += gu[j];
    prec[j] += hu[j];
  }
}

const SigmoidTable sig;

}  // namespace

AliasTable::AliasTable(const std::vector<double>& weights) {
  const size_t n = weights.size();
  prob.assign(n, 1.0f);
  alias.resize(n);
  double z = 0;
  for (double w : weights) z += w;
  std::vector<double> q(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    q[i] = weights[i] * double(n) / z;
    alias[i] = uint32_t(i);
    (q[i] < 1 ? small : large).push_back(uint32_t(i));
  }
  while (!small.empty() && !large.empty()) {
    uint32_t s = small.back(), l = large.back();
    small.pop_back();
    prob[s] = float(q[s]);
    alias[s] = l;
    q[l] -= 1 - q[s];
    if (q[l] < 1) {
      large.pop_back();
      small.push_back(l);
    }
  }
}

// Negative sampling distribution: P(w) proportional to count_w^0.75.
AliasTable negative_sampler(const std::vector<uint64_t>& counts) {
  std::vector<double> weights(counts.size());
  for (size_t w = 0; w < counts.size(); ++w) weights[w] = std::pow(double(counts[w]), 0.75);
  return AliasTable(weights);
}

// 2^kGaussBits + d standard normals (Box-Muller): a sample is d of them from
// offset rng.next() >> (64 - kGaussBits).
std::vector<float> gaussian_table(Xoshiro256Plus& rng, size_t d) {
  std::vector<float> gauss((size_t(1) << kGaussBits) + d);
  for (size_t i = 0; i < gauss.size(); i += 2) {
    double r = std::sqrt(-2 * std::log(1 - rng.uniform())), phi = 2 * M_PI * rng.uniform();
    gauss[i] = float(r * std::cos(phi));
    if (i + 1 < gauss.size()) gauss[i + 1] = float(r * std::sin(phi));
  }
  return gauss;
}

// Prior/entropy step (see the top of this file).
VBQ_KERNEL void prior_step(size_t d, float c, float b, float prior_precision, float* __restrict mu,
                           float* __restrict precision) {
  for (size_t j = 0; j < d; ++j) {
    mu[j] -= c * mu[j] * prior_precision;
    float p = precision[j] + b * (prior_precision - precision[j]);
    precision[j] = p < kPrecisionMax ? p : kPrecisionMax;
  }
}

float pair_step(size_t d, float* word_row, float* const* target_rows, const float* const* eps, int n_targets,
                float rho, float gamma, PairScratch& s) {
  float* zu = s.zu.data();
  float* zt = s.zt.data();
  sample(d, word_row, word_row + d, eps[0], zu);
  std::fill(s.gu.begin(), s.gu.end(), 0.0f);
  std::fill(s.hu.begin(), s.hu.end(), 0.0f);
  float nll_sum = 0;
  for (int k = 0; k < n_targets; ++k) {
    const float label = k == 0 ? 1.0f : 0.0f;
    float* mut = target_rows[k];
    sample(d, mut, mut + d, eps[k + 1], zt);
    const float x = dot(zu, zt, d);
    float g, nll, h = 0;  // h = s(x)(1 - s(x)), 0 where the table saturates
    if (x > SigmoidTable::max_x) {
      g = label - 1;
      nll = label ? 0.0f : x;
    } else if (x < -SigmoidTable::max_x) {
      g = label;
      nll = label ? -x : 0.0f;
    } else {
      int i = sig.index(x);
      g = label - sig.sig[i];
      h = sig.sig[i] * (1 - sig.sig[i]);
      nll = label ? sig.nll[i] : sig.nll[i] + x;  // -log s(-x) = -log s(x) + x
    }
    nll_sum += nll;
    update_target(d, g * rho, h * gamma, zu, zt, s.gu.data(), s.hu.data(), mut, mut + d);
  }
  update_input(d, s.gu.data(), s.hu.data(), word_row, word_row + d);
  return nll_sum;
}

}  // namespace vbq::skipgram_detail
