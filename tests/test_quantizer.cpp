#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "vbq/error.hpp"
#include "vbq/quantizer.hpp"

using namespace vbq;

// Eq. 9 evaluated directly for a code point.
static double loss(const Prior& p, CodeKey key, double mu, double sigma, double lambda) {
  double d = reconstruct(p, key) - mu;
  return d * d + 2 * lambda * sigma * sigma * rate_bits(key);
}

// Exhaustive minimiser of Eq. 9 over all code points with R <= max_r.
static CodeKey brute_force(const Prior& p, double mu, double sigma, double lambda, int max_r) {
  CodeKey best = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  for (int r = 1; r <= max_r; ++r)
    for (uint64_t n = 1; n < (uint64_t(1) << r); n += 2) {
      CodeKey key = (uint64_t(1) << r) | n;
      double l = loss(p, key, mu, sigma, lambda);
      if (l < best_loss) best_loss = l, best = key;
    }
  return best;
}

TEST_CASE("quantizer: code keys encode (0.b1...bR)_2") {
  CHECK(code_key(1, 1) == 3);      // 1/2 = 0.1
  CHECK(code_key(2, 2) == 3);      // 2/4 reduces to 1/2
  CHECK(code_key(1, 2) == 0b101);  // 1/4 = 0.01
  CHECK(code_key(3, 2) == 0b111);  // 3/4 = 0.11
  CHECK(code_key(6, 3) == 0b111);
  CHECK(rate_bits(0b111) == 2);
  GaussianPrior p(0, 1);
  CHECK(reconstruct(p, 3) == 0.0);
  CHECK(reconstruct(p, 0b111) == doctest::Approx(0.6744897501960817).epsilon(1e-15));
  CHECK(reconstruct(p, 0b101) == doctest::Approx(-0.6744897501960817).epsilon(1e-15));
}

TEST_CASE("quantizer: Algorithm 1 equals brute-force minimisation of Eq. 9") {
  GaussianPrior prior(0.1, 0.7);
  CodePointTable table(prior);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> z(0.1, 0.7);
  std::uniform_real_distribution<double> log_sigma(std::log(0.01), std::log(2.0));
  const double lambdas[] = {0.05, 0.3, 1, 5, 40, 1e3};
  int checked = 0;
  for (double lambda : lambdas)
    for (int i = 0; i < 60; ++i) {
      double mu = z(rng), sigma = std::exp(log_sigma(rng));
      CodeKey fast = quantize_one(table, mu, sigma, lambda);
      CAPTURE(mu);
      CAPTURE(sigma);
      CAPTURE(lambda);
      REQUIRE(rate_bits(fast) <= 14);  // the brute force below covers the answer
      CodeKey slow = brute_force(prior, mu, sigma, lambda, 15);
      // Equal keys, or (for exact ties) equal losses.
      if (fast != slow) CHECK(loss(prior, fast, mu, sigma, lambda) == doctest::Approx(loss(prior, slow, mu, sigma, lambda)).epsilon(1e-13));
      else CHECK(fast == slow);
      ++checked;
    }
  CHECK(checked == 360);
}

// Every code point with R <= max_r and its F^{-1}, for exhaustive searches.
struct AllCodePoints {
  std::vector<CodeKey> keys;
  std::vector<double> values;
  AllCodePoints(const Prior& p, int max_r) {
    for (int r = 1; r <= max_r; ++r)
      for (uint64_t n = 1; n < (uint64_t(1) << r); n += 2) {
        keys.push_back((uint64_t(1) << r) | n);
        values.push_back(reconstruct(p, keys.back()));
      }
  }
  // The minimiser of Eq. 9 and its loss.
  std::pair<CodeKey, double> best(double mu, double sigma, double lambda) const {
    size_t arg = 0;
    double best_loss = std::numeric_limits<double>::infinity();
    const double per_bit = 2 * lambda * sigma * sigma;
    for (size_t i = 0; i < keys.size(); ++i) {
      const double d = values[i] - mu, l = d * d + per_bit * rate_bits(keys[i]);
      if (l < best_loss) best_loss = l, arg = i;
    }
    return {keys[arg], best_loss};
  }
};

// 10^5 draws over four prior families: sigma over 10 decades (1e-8..1e2 prior
// scales), lambda over 7, a quarter of the means 3..9 scales out in the tails.
// With the rate capped at 12 bits the exhaustive search covers every candidate.
TEST_CASE("quantizer: Algorithm 1 equals exhaustive search on 10^5 random draws") {
  constexpr int kCap = 12;
  std::vector<std::unique_ptr<Prior>> priors;
  priors.push_back(std::make_unique<GaussianPrior>(0.1, 0.7));
  priors.push_back(std::make_unique<LaplacePrior>(-0.2, 0.3));
  priors.push_back(std::make_unique<StudentTPrior>(0.0, 0.5, 3.0));
  priors.push_back(std::make_unique<MixturePrior>(std::vector<double>{0.7, 0.0, 0.1, 0.3, 0.0, 1.0}));
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> u(0, 1);
  int checked = 0, ties = 0, capped = 0;
  for (const auto& prior : priors) {
    CodePointTable table(*prior);
    AllCodePoints all(*prior, kCap);
    const double scale = prior->quantile_upper(0.25) - prior->quantile_lower(0.25);
    for (int i = 0; i < 25000; ++i) {
      double mu = u(rng) < 0.25 ? (u(rng) < 0.5 ? -1 : 1) * scale * (3 + 6 * u(rng)) + prior->median()
                                : prior->ppf(0.001 + 0.998 * u(rng));
      double sigma = scale * std::pow(10.0, -8 + 10 * u(rng)), lambda = std::pow(10.0, -3 + 7 * u(rng));
      CodeKey fast = quantize_one(table, mu, sigma, lambda, kCap);
      auto [slow, slow_loss] = all.best(mu, sigma, lambda);
      capped += rate_bits(fast) == kCap;
      if (fast != slow) {
        CAPTURE(prior->describe());
        CAPTURE(mu);
        CAPTURE(sigma);
        CAPTURE(lambda);
        CHECK(loss(*prior, fast, mu, sigma, lambda) == doctest::Approx(slow_loss).epsilon(1e-12));
        ++ties;
      }
      ++checked;
    }
  }
  CHECK(checked == 100000);
  MESSAGE(ties << " exact ties, " << capped << " draws at the 12-bit cap");
  CHECK(ties < 100);
  CHECK(capped > 1000);  // the draws do reach the cap (tiny sigma, tails)
}

// Paper Fig. 1: with prior median 0, both 7/8 = (0.111)_2 and 3/4 = (0.11)_2 lie
// within mu +- sigma; lambda trades 7/8's accuracy against 3/4's shorter code.
TEST_CASE("quantizer: Figure 1, lambda chooses between xi = 7/8 and xi = 3/4") {
  GaussianPrior prior(0.0, 1.0);
  CodePointTable table(prior);
  const double mu = prior.ppf(7.0 / 8), sigma = 0.5;
  const CodeKey seven_eighths = code_key(7, 3), three_quarters = code_key(3, 2);
  CHECK(std::fabs(prior.ppf(0.75) - mu) < sigma);
  // Eq. 9 switches where 3 bits at zero distortion cost as much as 2 bits plus
  // the squared distance to F^{-1}(3/4).
  const double d = prior.ppf(0.75) - mu, switch_lambda = d * d / (2 * sigma * sigma);
  CHECK(switch_lambda == doctest::Approx(0.4530).epsilon(1e-3));
  CHECK(quantize_one(table, mu, sigma, 0.9 * switch_lambda) == seven_eighths);
  CHECK(quantize_one(table, mu, sigma, 1.1 * switch_lambda) == three_quarters);
  CHECK(quantize_one(table, mu, sigma, 1e3) == code_key(1, 1));  // the prior median
}

TEST_CASE("quantizer: lambda -> infinity gives the prior median xi = 1/2") {
  GaussianPrior prior(0.2, 1.0);
  CodePointTable table(prior);
  for (double mu : {-3.0, -0.5, 0.2, 0.9, 4.0}) CHECK(quantize_one(table, mu, 0.1, 1e12) == 3);
}

TEST_CASE("quantizer: a posterior as wide as the prior costs about one bit") {
  GaussianPrior prior(0.0, 1.0);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<double> mu(20000), sigma(20000, 1.0);
  for (auto& m : mu) m = z(rng);
  for (double lambda : {0.5, 1.0, 2.0}) {
    CodeKeys keys = quantize(prior, mu, sigma, lambda);
    double bits = 0;
    for (CodeKey k : keys) bits += rate_bits(k);
    CAPTURE(lambda);
    CHECK(bits / keys.size() < 1.6);
  }
}

TEST_CASE("quantizer: smaller sigma buys precision, and the error stays within ~sigma") {
  GaussianPrior prior(0.0, 1.0);
  CodePointTable table(prior);
  for (double sigma : {1e-1, 1e-3, 1e-6}) {
    CodeKey k = quantize_one(table, 0.123456, sigma, 1.0);
    CAPTURE(sigma);
    CHECK(std::fabs(reconstruct(prior, k) - 0.123456) < 3 * sigma);
  }
}

TEST_CASE("quantizer: extreme tails and mirrored means") {
  GaussianPrior prior(0.0, 1.0);
  CodePointTable table(prior);
  // Far tails keep relative precision on both sides, mirrored exactly.
  for (double mu : {5.0, 7.5, 8.0}) {
    CodeKey hi = quantize_one(table, mu, 1e-4, 1.0), lo = quantize_one(table, -mu, 1e-4, 1.0);
    CHECK(reconstruct(prior, hi) == doctest::Approx(mu).epsilon(1e-3));
    CHECK(reconstruct(prior, lo) == -reconstruct(prior, hi));
    CHECK(rate_bits(hi) == rate_bits(lo));
  }
  // Beyond the reach of 62-bit code points the outermost code point is used.
  CodeKey k = quantize_one(table, 40.0, 1e-3, 1.0);
  CHECK(rate_bits(k) == kMaxRateBits);
  CHECK(std::isfinite(reconstruct(prior, k)));
}

TEST_CASE("quantizer: bit-identical for any thread count, and bad lambda rejected") {
  GaussianPrior prior(0.0, 0.5);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0.0, 0.5);
  std::vector<double> mu(50000), sigma(50000);
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = z(rng), sigma[i] = 0.01 + std::fabs(z(rng));
  auto one = quantize(prior, mu, sigma, 0.7, 1);
  CHECK(one == quantize(prior, mu, sigma, 0.7, 2));
  CHECK(one == quantize(prior, mu, sigma, 0.7, 8));
  CHECK_THROWS_AS(quantize(prior, mu, sigma, 0.0), Error);
  CHECK_THROWS_AS(quantize(prior, mu, sigma, -1.0), Error);
  CHECK_THROWS_AS(quantize(prior, mu, sigma, std::nan("")), Error);
}

// quantize() takes a table-driven fast path from 2^18 coordinates on; it must
// agree with quantize_one (Algorithm 1 as written) on every coordinate, for
// every prior family, including means on the table's own boundaries.
TEST_CASE("quantizer: the bulk fast path equals quantize_one for every prior family") {
  std::vector<std::unique_ptr<Prior>> priors;
  priors.push_back(std::make_unique<GaussianPrior>(0.0, 0.3));
  priors.push_back(std::make_unique<LaplacePrior>(0.05, 0.2));
  priors.push_back(std::make_unique<StudentTPrior>(0.0, 0.25, 4.0));
  priors.push_back(std::make_unique<MixturePrior>(std::vector<double>{0.6, 0.0, 0.05, 0.4, 0.1, 0.5}));
  priors.push_back(fit_prior("empirical:16", std::vector<double>{-1, -0.5, -0.2, 0, 0.1, 0.3, 0.7, 1.5, 2}));
  const size_t n = (size_t(1) << 18) + 1000;
  std::mt19937_64 rng(77);
  std::uniform_real_distribution<double> u(0, 1);
  for (const auto& prior : priors) {
    CodePointTable table(*prior);
    std::vector<double> mu(n), sigma(n);
    for (size_t i = 0; i < n; ++i) {
      const double r = u(rng);
      mu[i] = r < 0.1 ? reconstruct(*prior, code_key(1 + 2 * (i % 1000), 11))  // exactly on a code point
              : r < 0.15 ? prior->ppf(1e-12 + 1e-9 * u(rng))                    // far tail
                         : prior->ppf(0.001 + 0.998 * u(rng));
      sigma[i] = std::pow(10.0, -6 + 6 * u(rng));
    }
    for (double lambda : {0.01, 1.0, 100.0}) {
      CodeKeys bulk = quantize(*prior, mu, sigma, lambda, 2);
      size_t differ = 0;
      for (size_t i = 0; i < n; ++i) differ += bulk[i] != quantize_one(table, mu[i], sigma[i], lambda);
      CAPTURE(prior->describe());
      CAPTURE(lambda);
      CHECK(differ == 0);
    }
  }
}
