#include "vbq/quantizer.hpp"

#include <omp.h>

#include <cmath>
#include <limits>
#include <string>

#include "vbq/error.hpp"

namespace vbq {

CodeKey code_key(uint64_t numerator, int r) {
  int tz = __builtin_ctzll(numerator);
  return (uint64_t(1) << (r - tz)) | (numerator >> tz);
}

namespace {
// A code point as a tail coordinate: key = 2^R + n with xi = n / 2^R and n odd, so
// the tail is k / 2^R with k = min(n, 2^R - n), on the upper side when n > 2^(R-1).
struct Tail {
  uint64_t k;
  int r;
  bool upper;
};
Tail tail_of(CodeKey key) {
  int r = rate_bits(key);
  uint64_t n = key - (uint64_t(1) << r);
  bool upper = n > (uint64_t(1) << (r - 1));
  return {upper ? (uint64_t(1) << r) - n : n, r, upper};
}
}  // namespace

double reconstruct(const Prior& prior, CodeKey key) {
  Tail t = tail_of(key);
  double p = std::ldexp(double(t.k), -t.r);
  return t.upper ? prior.quantile_upper(p) : prior.quantile_lower(p);
}

CodePointTable::CodePointTable(const Prior& prior) : prior_(prior) {
  const size_t n = (size_t(1) << (kTableRateBits - 1)) + 1;
  lower_.resize(n);
  upper_.resize(n);
  for (size_t j = 1; j < n; ++j) {
    double p = std::ldexp(double(j), -kTableRateBits);
    lower_[j] = prior.quantile_lower(p);
    upper_[j] = prior.quantile_upper(p);
  }
}

double CodePointTable::tail_quantile(uint64_t k, int r, bool upper) const {
  if (r <= kTableRateBits) {
    size_t j = size_t(k) << (kTableRateBits - r);
    return upper ? upper_[j] : lower_[j];
  }
  double t = std::ldexp(double(k), -r);
  return upper ? prior_.quantile_upper(t) : prior_.quantile_lower(t);
}

double CodePointTable::reconstruct(CodeKey key) const {
  Tail t = tail_of(key);
  return tail_quantile(t.k, t.r, t.upper);
}

CodeKey quantize_one(const CodePointTable& table, double mu, double sigma, double lambda, int max_rate_bits) {
  const Prior& prior = table.prior();
  // Work on the tail coordinate t = xi (lower side) or 1 - xi (upper side), t <= 1/2.
  const bool upper = mu > prior.median();
  const double t = upper ? prior.upper(mu) : prior.lower(mu);  // xi-dagger on its side
  const double penalty = 2.0 * lambda * sigma * sigma;        // 2 lambda sigma^2 per bit

  uint64_t best_k = 0;
  int best_r = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  uint64_t prev_left = 0, prev_right = 0;  // same point as at r-1: same loss, skip
  auto consider = [&](uint64_t k, int r) {
    int tz = __builtin_ctzll(k);
    double d = table.tail_quantile(k >> tz, r - tz, upper) - mu;
    double loss = d * d + penalty * (r - tz);
    if (loss < best_loss) best_loss = loss, best_k = k >> tz, best_r = r - tz;
  };
  for (int r = 1; r <= max_rate_bits; ++r) {
    double scaled = std::ldexp(t, r);
    uint64_t left = uint64_t(scaled);
    uint64_t right = double(left) == scaled && left != 0 ? left : left + 1;  // t underflowed to 0: 2^-r
    // Candidates 2^-r floor(2^r t) and 2^-r ceil(2^r t); t = 0 (xi = 0 or 1) is excluded.
    if (left != 0 && left != 2 * prev_left) consider(left, r);
    if (right != 0 && right != 2 * prev_right && right != left) consider(right, r);
    prev_left = left;
    prev_right = right;
    if (best_loss < penalty * (r + 1)) break;
  }
  // Back from the tail coordinate to xi = n / 2^R.
  uint64_t n = upper ? (uint64_t(1) << best_r) - best_k : best_k;
  return (uint64_t(1) << best_r) | n;
}

std::vector<CodeKey> quantize(const Prior& prior, std::span<const double> mu, std::span<const double> sigma,
                              double lambda, int threads, int max_rate_bits) {
  if (!(lambda > 0) || !std::isfinite(lambda))
    throw Error(ErrorKind::argument, "lambda must be a finite number > 0, got " + std::to_string(lambda));
  if (mu.size() != sigma.size()) throw Error(ErrorKind::argument, "quantize: mu and sigma differ in size");
  if (max_rate_bits < 1 || max_rate_bits > kMaxRateBits)
    throw Error(ErrorKind::argument, "max rate must be in 1.." + std::to_string(kMaxRateBits) + " bits");
  CodePointTable table(prior);
  std::vector<CodeKey> keys(mu.size());
  const int64_t n = int64_t(mu.size());
#pragma omp parallel for schedule(static, 4096) num_threads(threads > 0 ? threads : omp_get_num_procs())
  for (int64_t i = 0; i < n; ++i) keys[i] = quantize_one(table, mu[i], sigma[i], lambda, max_rate_bits);
  return keys;
}

}  // namespace vbq
