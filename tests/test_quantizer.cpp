// Tests for lib/vbq/quantizer.hpp: code keys, Algorithm 1 in its three forms (the
// bulk quantize with its table descent, quantize_one, and the plain
// quantize_reference) against each other and against brute-force minimisation of
// Eq. 9, and the paper's limiting cases.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "tests/support.hpp"
#include "vbq/error.hpp"
#include "vbq/quantizer.hpp"

using namespace vbq;
using vbq::testing::kind_of;

namespace {

// Eq. 9 for one code point, with the quantizer's floating-point operations, so
// that an exact tie is an exact tie here too.
double loss(const Prior& p, CodeKey key, double mu, double sigma, double lambda) {
  const double d = reconstruct(p, key) - mu;
  return d * d + 2 * lambda * sigma * sigma * rate_bits(key);
}

// A tie that Algorithm 1 may break either way (see quantize_reference): two
// different code points of the same rate with bit-identical Eq. 9 losses.
bool exact_tie(const Prior& p, CodeKey a, CodeKey b, double mu, double sigma, double lambda) {
  return rate_bits(a) == rate_bits(b) && loss(p, a, mu, sigma, lambda) == loss(p, b, mu, sigma, lambda);
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
  // The minimiser of Eq. 9 (the first one in order of rate, then xi) and its loss.
  std::pair<CodeKey, double> best(double mu, double sigma, double lambda) const {
    size_t arg = 0;
    double best_loss = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < keys.size(); ++i) {
      const double d = values[i] - mu, l = d * d + 2 * lambda * sigma * sigma * rate_bits(keys[i]);
      if (l < best_loss) best_loss = l, arg = i;
    }
    return {keys[arg], best_loss};
  }
};

// The families Algorithm 1 is checked under: the paper's Gaussian and the others
// that reach it only through F and F^{-1} (two Student-t, one heavier than Cauchy).
std::vector<std::unique_ptr<Prior>> test_priors() {
  std::vector<std::unique_ptr<Prior>> v;
  v.push_back(std::make_unique<GaussianPrior>(0.1, 0.7));
  v.push_back(std::make_unique<LaplacePrior>(-0.2, 0.3));
  v.push_back(std::make_unique<StudentTPrior>(0.0, 0.5, 3.0));
  v.push_back(std::make_unique<StudentTPrior>(-0.2, 0.3, 0.8));
  v.push_back(std::make_unique<MixturePrior>(std::vector<double>{0.35, -1.2, 0.3, 0.5, 0.2, 0.6, 0.15, 1.5, 1.4}));
  v.push_back(std::make_unique<EmpiricalPrior>(
      std::vector<double>{-1.0, -0.3, 0.0, 0.2, 1.1, 0.05, 0.3, 0.5, 0.75, 0.95, 0.25, 0.6}));
  return v;
}

// The prior's interquartile range: the unit for mu and sigma in the random draws.
double scale_of(const Prior& p) { return p.quantile_upper(0.25) - p.quantile_lower(0.25); }

}  // namespace

TEST_CASE("quantizer: code keys encode (0.b1...bR)_2") {
  CHECK(code_key(1, 1) == 3);      // 1/2 = 0.1
  CHECK(code_key(2, 2) == 3);      // 2/4 reduces to 1/2
  CHECK(code_key(1, 2) == 0b101);  // 1/4 = 0.01
  CHECK(code_key(3, 2) == 0b111);  // 3/4 = 0.11
  CHECK(code_key(6, 3) == 0b111);
  CHECK(code_key(5, 3) == 0b1101);  // 5/8 = 0.101
  CHECK(rate_bits(0b111) == 2);
  CHECK(rate_bits(code_key(1, 62)) == 62);
  GaussianPrior p(0, 1);
  CHECK(reconstruct(p, 3) == 0.0);
  // Phi^{-1}(3/4), Phi^{-1}(1/4), Phi^{-1}(1 - 2^-10) from tables of the normal quantile
  CHECK(reconstruct(p, 0b111) == doctest::Approx(0.6744897501960817).epsilon(1e-15));
  CHECK(reconstruct(p, 0b101) == doctest::Approx(-0.6744897501960817).epsilon(1e-15));
  CHECK(reconstruct(p, code_key(1023, 10)) == doctest::Approx(3.097269078198784).epsilon(1e-14));
}

// Eq. 9 minimised over every code point with R <= 12. Where that minimum is below
// 2 lambda sigma^2 13, the cost of any longer code point, it is the global optimum,
// and all three forms of Algorithm 1 must return it without a rate cap; otherwise
// they must return it with max_rate_bits = 12. Ties: the reference breaks them as
// the brute force does (lower rate, then smaller xi); the fast forms may take the
// other one of an exact same-rate tie.
TEST_CASE("quantizer: Algorithm 1 in all three forms equals brute-force minimisation of Eq. 9") {
  constexpr int kCap = 12;
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> u(0, 1);
  for (const auto& prior : test_priors()) {
    CAPTURE(prior->describe());
    const CodePointTable table(*prior);
    const AllCodePoints all(*prior, kCap);
    const double scale = scale_of(*prior);
    const size_t n = 8000, kChunk = 50;  // lambda changes every kChunk draws
    std::vector<double> mu(n), sigma(n), lambda(n);
    for (size_t i = 0; i < n; ++i) {
      // a quarter 3..9 scales out in the tails, the rest from the prior's body
      mu[i] = u(rng) < 0.25 ? (u(rng) < 0.5 ? -1 : 1) * scale * (3 + 6 * u(rng)) + prior->median()
                            : prior->ppf(0.0005 + 0.999 * u(rng));
      sigma[i] = scale * std::pow(10.0, -8 + 10 * u(rng));
      lambda[i] = i % kChunk ? lambda[i - 1] : std::pow(10.0, -3 + 7 * u(rng));
    }
    int certified = 0, capped = 0, fast_ties = 0;
    std::vector<CodeKey> brute_keys(n);
    for (size_t i = 0; i < n; ++i) {
      CAPTURE(mu[i]);
      CAPTURE(sigma[i]);
      CAPTURE(lambda[i]);
      const auto [brute, brute_loss] = all.best(mu[i], sigma[i], lambda[i]);
      brute_keys[i] = brute;
      REQUIRE(quantize_reference(*prior, mu[i], sigma[i], lambda[i], kCap) == brute);
      const CodeKey one = quantize_one(table, mu[i], sigma[i], lambda[i], kCap);
      if (one != brute) {
        CHECK(exact_tie(*prior, one, brute, mu[i], sigma[i], lambda[i]));
        ++fast_ties;
      }
      capped += rate_bits(brute) == kCap;
      if (brute_loss < 2 * lambda[i] * sigma[i] * sigma[i] * (kCap + 1)) {
        ++certified;
        CHECK(quantize_reference(*prior, mu[i], sigma[i], lambda[i]) == brute);
        const CodeKey uncapped = quantize_one(table, mu[i], sigma[i], lambda[i]);
        if (uncapped != brute) CHECK(exact_tie(*prior, uncapped, brute, mu[i], sigma[i], lambda[i]));
      }
    }
    // The bulk entry point (below the descent's threshold here) on the same draws,
    // a chunk of one lambda at a time.
    for (size_t i = 0; i < n; i += kChunk) {
      const std::span<const double> m(mu.data() + i, kChunk), s(sigma.data() + i, kChunk);
      const CodeKeys bulk = quantize(*prior, m, s, lambda[i], 1, kCap);
      for (size_t j = 0; j < kChunk; ++j)
        if (bulk[j] != brute_keys[i + j]) CHECK(exact_tie(*prior, bulk[j], brute_keys[i + j], m[j], s[j], lambda[i]));
    }
    MESSAGE(prior->describe() << ": " << certified << " global optima certified, " << capped
                              << " at the 12-bit cap, " << fast_ties << " exact ties broken the other way");
    // The draws must reach both regimes, or the checks above test less than they claim.
    CHECK(certified > int(n) / 4);
    CHECK(capped > int(n) / 20);
  }
}

// quantize() descends tabulated quantiles instead of computing F(mu) from 2^18
// coordinates on (when bands_hold); it must return the reference's key for every
// coordinate. mu: heavy-tailed (Cauchy around the median), far outliers up to
// 10^12 scales, far tails of the prior (F down to 1e-100), exactly on code points
// and on the median. sigma: 10 decades. lambda: 1e-6 to 1e6. The reference is
// checked on every coordinate under the Gaussian prior (1.3 million cases) and on
// every 8th to 256th under the others, whose F^{-1} costs up to 60x more.
TEST_CASE("quantizer: the bulk fast path equals quantize_reference on a million draws") {
  const size_t n = (size_t(1) << 18) + 4096;
  const size_t stride[] = {1, 8, 64, 128, 256, 8};  // per test_priors() entry
  std::mt19937_64 rng(77);
  std::uniform_real_distribution<double> u(0, 1);
  const auto priors = test_priors();
  size_t checked = 0;
  for (size_t p = 0; p < priors.size(); ++p) {
    const Prior& prior = *priors[p];
    CAPTURE(prior.describe());
    const double scale = scale_of(prior), median = prior.median();
    std::vector<double> mu(n), sigma(n);
    for (size_t i = 0; i < n; ++i) {
      const double r = u(rng), sign = u(rng) < 0.5 ? -1 : 1;
      if (r < 0.1) mu[i] = reconstruct(prior, code_key(2 * (rng() % 1024) + 1, 1 + int(rng() % 24)));
      else if (r < 0.2) mu[i] = median + sign * scale * std::pow(10.0, 1 + 11 * u(rng));
      else if (r < 0.3) mu[i] = sign < 0 ? prior.quantile_lower(std::pow(10.0, -3 - 97 * u(rng)))
                                         : prior.quantile_upper(std::pow(10.0, -3 - 97 * u(rng)));
      else if (r < 0.32) mu[i] = median;
      else mu[i] = median + scale * std::tan(M_PI * (u(rng) - 0.5));  // Cauchy
      sigma[i] = scale * std::pow(10.0, -9 + 10 * u(rng));
    }
    for (double lambda : {1e-6, 1e-2, 1.0, 1e2, 1e6}) {
      CAPTURE(lambda);
      const CodeKeys bulk = quantize(prior, mu, sigma, lambda, 2);
      size_t differ = 0, ties = 0;
      for (size_t i = p % stride[p]; i < n; i += stride[p], ++checked) {
        const CodeKey ref = quantize_reference(prior, mu[i], sigma[i], lambda);
        if (bulk[i] == ref) continue;
        ++differ;
        if (exact_tie(prior, bulk[i], ref, mu[i], sigma[i], lambda)) ++ties;
        else if (differ - ties <= 5)
          FAIL_CHECK("mu " << mu[i] << " sigma " << sigma[i] << ": bulk " << bulk[i] << " reference " << ref);
      }
      CHECK(differ == ties);
      if (ties) MESSAGE(ties << " exact ties broken the other way");
      // The AVX2 lane descent (where the CPU has it) and the portable one give the
      // same keys, with and without the escape, and under a rate cap inside the table.
      for (int max_rate : {kMaxRateBits, 5}) {
        CodeKeys portable(n), wide(n);
        Quantizer(prior, true, 2, false).quantize(mu, sigma, lambda, portable, 2, max_rate, 48);
        Quantizer(prior, true, 2, true).quantize(mu, sigma, lambda, wide, 2, max_rate, 48);
        CHECK(portable == wide);
        if (max_rate == kMaxRateBits) {
          CodeKeys plain(n);
          Quantizer(prior, true, 2, false).quantize(mu, sigma, lambda, plain, 2);
          CHECK(plain == bulk);
        }
      }
    }
  }
  MESSAGE(checked << " coordinates checked against the reference");
}

// Means on the median and an ulp either side sit in the band of the first level
// (the descent hands them to search()); the lane descent keeps such lanes' table
// loads on their level and gives the portable descent's keys. 2^18 + 5 coordinates:
// the fast path, and a run that ends with fewer coordinates than lanes.
TEST_CASE("quantizer: means at the median, in both descents") {
  const size_t n = (size_t(1) << 18) + 5;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  for (const auto& prior : test_priors()) {
    CAPTURE(prior->describe());
    const double median = prior->median(), scale = scale_of(*prior);
    std::vector<double> mu(n), sigma(n);
    for (size_t i = 0; i < n; ++i) {
      const int kind = int(rng() % 4);
      mu[i] = kind == 0 ? median
              : kind == 1 ? std::nextafter(median, -HUGE_VAL)
              : kind == 2 ? std::nextafter(median, HUGE_VAL)
                          : median + scale * (u(rng) - 0.5);
      sigma[i] = scale * std::pow(10.0, -6 + 6 * u(rng));
    }
    CodeKeys portable(n), wide(n);
    Quantizer(*prior, true, 2, false).quantize(mu, sigma, 0.5, portable, 2);
    Quantizer(*prior, true, 2, true).quantize(mu, sigma, 0.5, wide, 2);
    CHECK(portable == wide);
    for (size_t i = 0; i < n; i += 97) CHECK(wide[i] == quantize_reference(*prior, mu[i], sigma[i], 0.5));
  }
}

// Paper Fig. 1: with prior median 0, both 7/8 = (0.111)_2 and 3/4 = (0.11)_2 lie
// within mu +- sigma; lambda trades 7/8's accuracy against 3/4's shorter code.
TEST_CASE("quantizer: Figure 1, lambda chooses between xi = 7/8 and xi = 3/4") {
  GaussianPrior prior(0.0, 1.0);
  CodePointTable table(prior);
  const double mu = prior.ppf(7.0 / 8), sigma = 0.5;
  const CodeKey seven_eighths = code_key(7, 3), three_quarters = code_key(3, 2);
  CHECK(mu == doctest::Approx(1.1503493803760079).epsilon(1e-14));  // Phi^{-1}(7/8)
  CHECK(std::fabs(prior.ppf(0.75) - mu) < sigma);
  // Eq. 9 switches where 3 bits at zero distortion cost as much as 2 bits plus
  // the squared distance to F^{-1}(3/4).
  const double d = prior.ppf(0.75) - mu, switch_lambda = d * d / (2 * sigma * sigma);
  CHECK(switch_lambda == doctest::Approx(0.4530).epsilon(1e-3));
  for (double lambda : {0.9 * switch_lambda, 1.1 * switch_lambda, 1e3}) {
    CAPTURE(lambda);
    const CodeKey expect = lambda < switch_lambda ? seven_eighths : lambda < 10 ? three_quarters : code_key(1, 1);
    CHECK(quantize_one(table, mu, sigma, lambda) == expect);
    CHECK(quantize_reference(prior, mu, sigma, lambda) == expect);
  }
}

TEST_CASE("quantizer: lambda -> infinity gives the prior median xi = 1/2") {
  GaussianPrior prior(0.2, 1.0);
  CodePointTable table(prior);
  for (double mu : {-3.0, -0.5, 0.2, 0.9, 4.0}) {
    CHECK(quantize_one(table, mu, 0.1, 1e12) == 3);
    CHECK(quantize_reference(prior, mu, 0.1, 1e12) == 3);
  }
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
    CHECK(bits / double(keys.size()) < 1.6);
  }
}

TEST_CASE("quantizer: smaller sigma buys precision, the error stays within about sigma") {
  GaussianPrior prior(0.0, 1.0);
  CodePointTable table(prior);
  int prev_rate = 0;
  for (double sigma : {1e-1, 1e-3, 1e-6}) {
    CodeKey k = quantize_one(table, 0.123456, sigma, 1.0);
    CAPTURE(sigma);
    CHECK(std::fabs(reconstruct(prior, k) - 0.123456) < 3 * sigma);
    CHECK(rate_bits(k) > prev_rate);
    prev_rate = rate_bits(k);
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
    CHECK(hi == quantize_reference(prior, mu, 1e-4, 1.0));
  }
  // Beyond the reach of 62-bit code points the outermost code point is used.
  for (double mu : {40.0, 1e6}) {
    CAPTURE(mu);
    CHECK(quantize_one(table, mu, 1e-3, 1.0) == (uint64_t(1) << 63) - 1);  // xi = 1 - 2^-62
    CHECK(quantize_one(table, -mu, 1e-3, 1.0) == (uint64_t(1) << 62) + 1);  // xi = 2^-62
    CHECK(quantize_reference(prior, mu, 1e-3, 1.0) == (uint64_t(1) << 63) - 1);
  }
  CHECK(std::isfinite(reconstruct(prior, (uint64_t(1) << 63) - 1)));
}

TEST_CASE("quantizer: the result does not depend on the thread count") {
  // Above the descent's threshold, so that the threads split the fast path.
  GaussianPrior prior(0.0, 0.5);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0.0, 0.5);
  std::vector<double> mu((size_t(1) << 18) + 77), sigma(mu.size());
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = z(rng), sigma[i] = 0.001 + std::fabs(z(rng));
  const auto one = quantize(prior, mu, sigma, 0.7, 1);
  CHECK(one == quantize(prior, mu, sigma, 0.7, 2));
  CHECK(one == quantize(prior, mu, sigma, 0.7, 8));
  // and the keys are Algorithm 1's (sampled: the million-draw case checks all)
  for (size_t i = 0; i < mu.size(); i += 97) CHECK(one[i] == quantize_reference(prior, mu[i], sigma[i], 0.7));
}

TEST_CASE("quantizer: a lambda that is not finite and positive is rejected") {
  GaussianPrior prior(0.0, 0.5);
  const std::vector<double> mu = {0.1, -0.2}, sigma = {0.1, 0.1};
  for (double lambda : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    CAPTURE(lambda);
    CHECK(kind_of([&] { quantize(prior, mu, sigma, lambda); }) == ErrorKind::argument);
  }
  CHECK(kind_of([&] { quantize(prior, mu, std::vector<double>{0.1}, 1.0); }) == ErrorKind::argument);
  CHECK(kind_of([&] { quantize(prior, mu, sigma, 1.0, 1, 0); }) == ErrorKind::argument);
  CHECK(kind_of([&] { quantize(prior, mu, sigma, 1.0, 1, kMaxRateBits + 1); }) == ErrorKind::argument);
  CHECK(quantize(prior, mu, sigma, 1.0, 1, kMaxRateBits).size() == 2);
}

// Where (F^{-1}(xi) - mu)^2 overflows a double for every candidate (|mu| beyond
// ~1e154), Eq. 9's minimiser is still defined. The truth here is a brute force over
// every code point of rate <= 12 in long double (exponent range to 1e4932, so
// q (q - 2 mu) = (q - mu)^2 - mu^2 neither overflows nor cancels).
TEST_CASE("quantizer: a mean beyond 1e154 gets Eq. 9's minimiser, not an invalid key") {
  constexpr int kCap = 12;
  for (const auto& prior : test_priors()) {
    CAPTURE(prior->describe());
    const CodePointTable table(*prior);
    const AllCodePoints all(*prior, kCap);
    for (double mu : {1e155, -1e155, 3e200, -7e250, 1e300, -1.5e308}) {
      for (double sigma : {1e-3, 1.0}) {
        CAPTURE(mu);
        CAPTURE(sigma);
        const double lambda = 0.5;
        size_t arg = 0;
        long double best = 0;
        for (size_t i = 0; i < all.keys.size(); ++i) {
          const long double q = all.values[i];
          const long double l = q * (q - 2.0L * mu) + 2.0L * lambda * sigma * sigma * rate_bits(all.keys[i]);
          if (i == 0 || l < best) best = l, arg = i;
        }
        const CodeKey brute = all.keys[arg];
        // The farthest code point on mu's side: |mu| dwarfs every quantile here.
        CHECK(brute == (mu > 0 ? (uint64_t(1) << (kCap + 1)) - 1 : (uint64_t(1) << kCap) + 1));
        CHECK(quantize_reference(*prior, mu, sigma, lambda, kCap) == brute);
        CHECK(quantize_one(table, mu, sigma, lambda, kCap) == brute);
        const std::vector<double> m(1, mu), s(1, sigma);
        CHECK(quantize(*prior, m, s, lambda, 1, kCap)[0] == brute);
        // Without a cap: the outermost 62-bit point, as for mu = 1e6 above.
        const CodeKey outer = mu > 0 ? (uint64_t(1) << 63) - 1 : (uint64_t(1) << 62) + 1;
        CHECK(quantize_one(table, mu, sigma, lambda) == outer);
        CHECK(quantize_reference(*prior, mu, sigma, lambda) == outer);
      }
    }
  }
  // Through the bulk descent too (above its threshold), mixed with ordinary means.
  GaussianPrior prior(0.0, 1.0);
  std::vector<double> mu((size_t(1) << 18) + 5, 0.3), sigma(mu.size(), 0.01);
  mu[7] = 2e200;
  mu[9] = -2e200;
  const CodeKeys keys = quantize(prior, mu, sigma, 1.0, 1);
  CHECK(keys[7] == (uint64_t(1) << 63) - 1);
  CHECK(keys[9] == (uint64_t(1) << 62) + 1);
  CHECK(keys[0] == quantize_reference(prior, 0.3, 0.01, 1.0));
}
