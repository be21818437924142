// Algorithm 1 (lib/vbq/quantizer) under the prior families beyond the paper's
// Gaussian: it must still equal the brute-force minimiser of Eq. 9, since it
// reaches the prior only through F and F^{-1}.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "vbq/prior.hpp"
#include "vbq/quantizer.hpp"

using namespace vbq;

namespace {

constexpr int kBruteRate = 16;

// F^{-1}(xi) of every code point with R <= kBruteRate, indexed by key.
std::vector<double> all_reconstructions(const Prior& p) {
  std::vector<double> v(size_t(1) << (kBruteRate + 1), std::nan(""));
  for (int r = 1; r <= kBruteRate; ++r)
    for (uint64_t n = 1; n < (uint64_t(1) << r); n += 2) {
      CodeKey key = (uint64_t(1) << r) | n;
      v[key] = reconstruct(p, key);
    }
  return v;
}

double loss(const std::vector<double>& rec, CodeKey key, double mu, double sigma, double lambda) {
  double d = rec[key] - mu;
  return d * d + 2 * lambda * sigma * sigma * rate_bits(key);
}

CodeKey brute_force(const std::vector<double>& rec, double mu, double sigma, double lambda) {
  CodeKey best = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  for (CodeKey key = 2; key < rec.size(); ++key) {
    if ((key & 1) == 0) continue;
    double l = loss(rec, key, mu, sigma, lambda);
    if (l < best_loss) best_loss = l, best = key;
  }
  return best;
}

// mu is drawn from the prior between its tail quantiles `tail` and 1 - `tail`.
void check_against_brute_force(const Prior& prior, uint64_t seed, double tail = 0.002) {
  CAPTURE(prior.describe());
  CodePointTable table(prior);
  std::vector<double> rec = all_reconstructions(prior);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(tail, 1 - tail);
  std::uniform_real_distribution<double> log_sigma(std::log(0.01), std::log(2.0));
  int checked = 0;
  for (double lambda : {0.05, 0.3, 1.0, 5.0, 40.0, 1e3})
    for (int i = 0; i < 50; ++i) {
      double mu = prior.ppf(u(rng)), sigma = std::exp(log_sigma(rng));
      CodeKey fast = quantize_one(table, mu, sigma, lambda);
      CAPTURE(mu);
      CAPTURE(sigma);
      CAPTURE(lambda);
      REQUIRE(rate_bits(fast) < kBruteRate);  // the brute force covers the answer
      CodeKey slow = brute_force(rec, mu, sigma, lambda);
      if (fast != slow) CHECK(loss(rec, fast, mu, sigma, lambda) == doctest::Approx(loss(rec, slow, mu, sigma, lambda)).epsilon(1e-13));
      ++checked;
    }
  CHECK(checked == 300);
}

}  // namespace

TEST_CASE("prior families: Algorithm 1 equals brute force under a Student-t prior") {
  check_against_brute_force(StudentTPrior(0.1, 0.5, 3.0), 5);
  check_against_brute_force(StudentTPrior(-0.2, 0.3, 0.8), 6, 0.03);  // heavier than Cauchy
}

TEST_CASE("prior families: Algorithm 1 equals brute force under a Gaussian mixture prior") {
  check_against_brute_force(MixturePrior({0.35, -1.2, 0.3, 0.5, 0.2, 0.6, 0.15, 1.5, 1.4}), 7);
}

TEST_CASE("prior families: Algorithm 1 equals brute force under Laplace and empirical priors") {
  check_against_brute_force(LaplacePrior(0.05, 0.4), 8);
  check_against_brute_force(EmpiricalPrior({-1.0, -0.3, 0.0, 0.2, 1.1, 0.05, 0.3, 0.5, 0.75, 0.95, 0.25, 0.6}), 9);
}

TEST_CASE("prior families: quantize is identical with a prior rebuilt from its parameters") {
  MixturePrior prior({0.4, -0.5, 0.2, 0.6, 0.4, 0.7});
  auto rebuilt = make_prior(prior.family(), prior.parameters());
  std::mt19937_64 rng(10);
  std::normal_distribution<double> z(0.0, 0.7);
  std::vector<double> mu(20000), sigma(20000);
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = z(rng), sigma[i] = 0.001 + 0.1 * std::fabs(z(rng));
  auto keys = quantize(prior, mu, sigma, 0.5, 2);
  CHECK(keys == quantize(*rebuilt, mu, sigma, 0.5, 1));
  // Decoding (reconstruct) matches what the encoder's table used, tails included.
  CodePointTable table(prior);
  for (CodeKey k : keys) CHECK(reconstruct(*rebuilt, k) == table.reconstruct(k));
}
