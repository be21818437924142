// Bayesian skip-gram kernels: the per-pair gradient and curvature step, the prior
// step, and the samplers the training loop (skipgram.cpp) and the ELBO evaluator
// (skipgram_elbo.cpp) share. The update rules and their derivation are at the top
// of skipgram_kernels.cpp. Internal to train/ (and its tests).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "vbq/random.hpp"

namespace vbq::skipgram_detail {

inline constexpr int kMaxTargets = 64;         // 1 positive + negatives
inline constexpr float kPrecisionMax = 1e12f;  // posterior precision cap: sigma >= 1e-6
// Standard normals in a table of 2^kGaussBits + d entries: small enough to stay in
// L2. A sample is d consecutive entries from offset bits >> (64 - kGaussBits).
inline constexpr int kGaussBits = 16;

// Walker/Vose alias table for the unigram^0.75 negative distribution: O(V)
// memory (fits in cache, unlike word2vec.c's 1e8-entry table), two lookups.
struct AliasTable {
  std::vector<float> prob;
  std::vector<uint32_t> alias;
  explicit AliasTable(const std::vector<double>& weights);
  uint32_t draw(uint64_t bits) const {
    uint32_t i = uint32_t(below(bits, prob.size()));
    return float(bits & 0xFFFFFF) * 0x1.0p-24f < prob[i] ? i : alias[i];
  }
};

// Negative sampling distribution: P(w) proportional to count_w^0.75.
AliasTable negative_sampler(const std::vector<uint64_t>& counts);

// Context positions [lo, hi] of the center at pos in a sentence of len tokens:
// word2vec's window of random size b ~ U{1..window}.
inline std::pair<int, int> context_window(Xoshiro256Plus& rng, int pos, int len, int window) {
  const int shrink = int(below(rng.next(), uint64_t(window)));
  return {std::max(0, pos - window + shrink), std::min(len - 1, pos + window - shrink)};
}

// 2^kGaussBits + d standard normals (Box-Muller) from rng.
std::vector<float> gaussian_table(Xoshiro256Plus& rng, size_t d);

struct PairScratch {
  std::vector<float> zu, zt, gu, hu;
  explicit PairScratch(size_t d) : zu(d), zt(d), gu(d), hu(d) {}
};

// One training step on a positive pair and its negatives. Rows are [mu (d) |
// precision (d)]: word_row the center word's, target_rows[0] the positive
// context's, target_rows[1..n_targets-1] the negatives'. eps[0] (word) and
// eps[1..n_targets] are d standard normals each. Applies the mean and
// precision updates with step rho and precision step gamma; returns the
// sample's -log-likelihood summed over targets.
float pair_step(size_t d, float* word_row, float* const* target_rows, const float* const* eps, int n_targets,
                float rho, float gamma, PairScratch& scratch);

// The prior's step on one row at an occurrence of its word as a center: means
// mu -= c mu prior_precision (c = rho / n_w), precisions relax towards
// prior_precision by the fraction b = min(1, gamma / n_w), capped at kPrecisionMax.
void prior_step(size_t d, float c, float b, float prior_precision, float* mu, float* precision);

}  // namespace vbq::skipgram_detail
