#include <doctest/doctest.h>

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tests/support.hpp"
#include "vbq/error.hpp"
#include "vbq/prior.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::kind_of;

static double ulps_apart(double a, double b) {
  return std::fabs(a - b) / (std::numeric_limits<double>::epsilon() * std::max(std::fabs(a), std::fabs(b)));
}

TEST_CASE("prior: standard normal quantiles match known values to a few ulp") {
  GaussianPrior p(0.0, 1.0);
  struct Known { double xi, z; };
  // Reference values of Phi^{-1} (Wichura AS241 and a bisection on log erfc).
  const Known known[] = {
      {0.975, 1.9599639845400536},         {0.9, 1.2815515655446008},
      {0.99, 2.3263478740408408},          {0.0001, -3.7190164854556804},
      {1e-10, -6.361340902404056},         {0.25, -0.6744897501960817},
      {1e-300, -37.0470962993612},        {0.5, 0.0},
  };
  for (auto k : known) {
    CAPTURE(k.xi);
    if (k.z == 0) CHECK(p.ppf(k.xi) == 0.0);
    else CHECK(ulps_apart(p.ppf(k.xi), k.z) < 8);
  }
  // The symmetric side: F^{-1}(1 - q) for tiny q keeps full precision.
  CHECK(ulps_apart(p.quantile_upper(1e-10), 6.361340902404056) < 8);
  CHECK(ulps_apart(p.quantile_upper(1e-6), 4.7534243088229) < 8);
  CHECK(ulps_apart(p.quantile_upper(1e-300), 37.0470962993612) < 8);
}

TEST_CASE("prior: F and F^{-1} are inverse and monotone over the whole range, both tails") {
  GaussianPrior p(0.3, 2.5);
  double prev = -std::numeric_limits<double>::infinity();
  for (int e = -1000; e <= -1; e += 7) {
    double t = std::pow(2.0, e / 10.0);
    double z = p.quantile_lower(t);
    CHECK(z > prev);
    prev = z;
    // Inverse to a few ulp in z (t = F(z) itself is ill-conditioned by z^2 far out).
    CHECK(ulps_apart(p.quantile_lower(p.lower(z)), z) < 8);
    CHECK(ulps_apart(p.quantile_upper(p.upper(p.quantile_upper(t))), p.quantile_upper(t)) < 8);
    CHECK(ulps_apart(p.lower(z), t) < 1e-12 / 2.2e-16);
    CHECK(p.quantile_upper(t) - 0.3 == doctest::Approx(0.3 - z).epsilon(1e-12));  // symmetry
  }
  CHECK(p.cdf(0.3) == 0.5);
  CHECK(p.upper(30.0) < p.upper(29.0));  // the tail keeps resolving where 1 - F would round to 0
}

TEST_CASE("prior: empirical fit is the paper's N(0, mean mu^2)") {
  std::vector<double> mu = {1, -1, 3, -3};
  GaussianPrior p = fit_gaussian_prior(mu);
  CHECK(p.mean() == 0.0);
  CHECK(p.std() == doctest::Approx(std::sqrt(5.0)));
  GaussianPrior q = fit_gaussian_prior(std::vector<double>{1, 2, 3}, true);
  CHECK(q.mean() == doctest::Approx(2.0));
  CHECK(q.std() == doctest::Approx(std::sqrt(2.0 / 3.0)));
  CHECK_THROWS_AS(fit_gaussian_prior(std::vector<double>{}), Error);
  CHECK_THROWS_AS(fit_gaussian_prior(std::vector<double>{0, 0}), Error);
}

TEST_CASE("prior: make_prior validates stored parameters") {
  auto p = make_prior(PriorFamily::gaussian, std::vector<double>{0.0, 1.5});
  CHECK(p->ppf(0.5) == 0.0);
  CHECK(kind_of([] { make_prior(PriorFamily::gaussian, std::vector<double>{0.0, -1.0}); }) == ErrorKind::corrupt);
  CHECK(kind_of([] { make_prior(PriorFamily(77), std::vector<double>{}); }) == ErrorKind::unsupported);
}

// ------------------------------------------------------------------ families beyond the paper


namespace {

std::vector<std::unique_ptr<Prior>> all_families(double loc) {
  std::vector<std::unique_ptr<Prior>> v;
  v.push_back(std::make_unique<GaussianPrior>(loc, 1.2));
  v.push_back(std::make_unique<LaplacePrior>(loc, 0.8));
  v.push_back(std::make_unique<StudentTPrior>(loc, 0.9, 3.5));
  v.push_back(std::make_unique<StudentTPrior>(loc, 0.9, 0.7));
  v.push_back(std::make_unique<MixturePrior>(std::vector<double>{0.3, loc - 1.5, 0.4, 0.5, loc, 1.0, 0.2, loc + 0.7, 2.5}));
  // Knots on a curve, levels uneven, different tail scales.
  std::vector<double> e;
  for (int i = 0; i < 9; ++i) e.push_back(loc + 0.3 * (i - 4) + 0.02 * i * i);
  for (int i = 0; i < 9; ++i) e.push_back(0.03 + 0.94 * std::pow(i / 8.0, 1.3));
  e.push_back(0.4);
  e.push_back(1.1);
  v.push_back(std::make_unique<EmpiricalPrior>(e));
  return v;
}

void expect_corrupt(PriorFamily f, std::vector<double> p) {
  CAPTURE(int(f));
  CAPTURE(p.size());
  CHECK(kind_of([&] { make_prior(f, p); }) == ErrorKind::corrupt);
}

ErrorKind fit_error(const std::string& spec, std::span<const double> mu) {
  try {
    fit_prior(spec, mu);
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::interrupted;  // "no error"
}

}  // namespace

TEST_CASE("prior families: F and F^{-1} inverse to a few ulp and monotone, both tails") {
  // Location 3 keeps z away from 0, where a relative ulp measure in z is meaningless
  // (F near 1/2 only has absolute precision); ulps are taken of max(|z|, |median|).
  for (auto& p : all_families(3.0)) {
    CAPTURE(p->describe());
    const double m = p->median();
    auto ulps = [&](double a, double b) {
      return std::fabs(a - b) / (std::numeric_limits<double>::epsilon() * std::max({std::fabs(a), std::fabs(b), std::fabs(m)}));
    };
    CHECK(p->quantile_lower(0.5) == m);
    CHECK(p->quantile_upper(0.5) == m);
    CHECK(p->lower(m) <= 0.5);
    CHECK(p->upper(m) <= 0.5);
    CHECK(p->lower(m) == doctest::Approx(0.5).epsilon(1e-14));
    double prev_lo = -std::numeric_limits<double>::infinity(), prev_hi = std::numeric_limits<double>::infinity();
    double worst = 0;
    for (int e = -620; e <= -10; e += 3) {  // t from 2^-62 to 1/2
      double t = std::pow(2.0, e / 10.0);
      double zl = p->quantile_lower(t), zu = p->quantile_upper(t);
      CHECK(zl > prev_lo);  // F^{-1} increasing as t grows on the lower side
      CHECK(zu < prev_hi);
      CHECK(zl <= m);
      CHECK(zu >= m);
      prev_lo = zl, prev_hi = zu;
      worst = std::max({worst, ulps(p->quantile_lower(p->lower(zl)), zl), ulps(p->quantile_upper(p->upper(zu)), zu)});
      // The tails keep relative precision: F(F^{-1}(t)) == t up to F's conditioning.
      CHECK(p->lower(zl) == doctest::Approx(t).epsilon(1e-11));
      CHECK(p->upper(zu) == doctest::Approx(t).epsilon(1e-11));
    }
    INFO("worst F^-1(F(z)) error " << worst << " ulp");
    CHECK(worst < 8);
    // F itself monotone on a fine grid through the body and tails.
    double prev = 0;
    for (double z = m - 30; z <= m + 30; z += 0.0137) {
      double c = p->cdf(z);
      CHECK(c >= prev);
      prev = c;
    }
    CHECK(p->cdf(m + 1) + p->upper(m + 1) == doctest::Approx(1.0).epsilon(1e-15));
  }
}

TEST_CASE("prior families: Laplace known values") {
  LaplacePrior p(1.0, 2.0);
  CHECK(ulps_apart(p.lower(0.0), 0.3032653298563167) < 4);
  CHECK(ulps_apart(p.quantile_lower(0.1), -2.2188758248682006) < 4);
  CHECK(ulps_apart(p.upper(101.0), 9.643749239819589e-23) < 4);
  CHECK(ulps_apart(p.quantile_upper(1e-300), 1381.1647614353076) < 4);
  CHECK(p.lower(1.0) == 0.5);
  CHECK(p.cdf(3.0) == doctest::Approx(1 - 0.5 * std::exp(-1.0)).epsilon(1e-15));
  CHECK(p.ppf(0.9) == doctest::Approx(1 - 2 * std::log(0.2)).epsilon(1e-15));
  // Mirror symmetry is exact.
  CHECK(p.quantile_upper(1e-7) - 1.0 == 1.0 - p.quantile_lower(1e-7));
}

TEST_CASE("prior families: Student-t against closed forms, Boost and the Gaussian limit") {
  // nu = 1 (Cauchy): F(-x) = atan(1/x) / pi; nu = 2: F(-x) = 1 / (r (r + x)), r = sqrt(2 + x^2).
  StudentTPrior cauchy(0.0, 1.0, 1.0), t2(0.0, 1.0, 2.0);
  CHECK(ulps_apart(cauchy.lower(-10.0), 0.031725517430553574) < 8);
  CHECK(ulps_apart(cauchy.upper(10.0), 0.031725517430553574) < 8);
  CHECK(ulps_apart(t2.lower(-10.0), 0.004926228511662846) < 8);
  for (double x : {0.5, 3.0, 40.0, 1e5}) {
    double r = std::sqrt(2 + x * x);
    CAPTURE(x);
    CHECK(ulps_apart(t2.lower(-x), 1 / (r * (r + x))) < 16);
    CHECK(ulps_apart(cauchy.quantile_upper(std::atan(1 / x) / M_PI), x) < 16);
  }
  // Location-scale against Boost's own cdf.
  StudentTPrior t(0.5, 2.0, 5.0);
  boost::math::students_t_distribution<double> d(5.0);
  for (double z : {-40.0, -3.0, 0.0, 0.7, 9.0})
    CHECK(t.cdf(z) == doctest::Approx(boost::math::cdf(d, (z - 0.5) / 2.0)).epsilon(1e-14));
  CHECK(t.upper(200.0) == doctest::Approx(boost::math::cdf(boost::math::complement(d, 99.75))).epsilon(1e-13));
  // nu -> infinity: the Gaussian (differences are O(1/nu)).
  StudentTPrior big(0.2, 1.5, 1e6);
  GaussianPrior g(0.2, 1.5);
  for (double z : {-7.0, -2.0, 0.0, 1.0, 4.0}) CHECK(big.lower(z) == doctest::Approx(g.lower(z)).epsilon(1e-4));
  for (double t : {1e-6, 0.01, 0.3}) CHECK(big.quantile_upper(t) == doctest::Approx(g.quantile_upper(t)).epsilon(1e-5));
}

// Far below every code point (p >= 2^-62) Boost's double quantile of T loses
// accuracy and then throws overflow_error (p < ~1e-240), though t is finite.
// Truth: the closed forms of nu = 1 (t = -cot(pi p)) and nu = 2
// (t = (2p - 1) / sqrt(2 p (1 - p))), and Boost in long double for nu = 3 and 0.8.
TEST_CASE("prior families: Student-t quantiles deep in the tail are finite and right") {
  for (double p : {1e-35, 1e-100, 1e-200, 1e-241, 1e-280, 1e-300, 1e-310, 5e-324}) {
    CAPTURE(p);
    StudentTPrior cauchy(0.0, 1.0, 1.0), t2(0.0, 1.0, 2.0), t2s(1.5, 3.0, 2.0);
    const double cot = -1 / std::tan(M_PI * p);  // -1/(pi p): overflows for p < ~1e-309
    if (std::isfinite(cot)) {
      CHECK(cauchy.quantile_lower(p) == doctest::Approx(cot).epsilon(1e-12));
      CHECK(cauchy.quantile_upper(p) == doctest::Approx(-cot).epsilon(1e-12));
    } else {
      CHECK(cauchy.quantile_lower(p) == -std::numeric_limits<double>::infinity());
    }
    const double closed = (2 * p - 1) / std::sqrt(2 * p * (1 - p));
    CHECK(t2.quantile_lower(p) == doctest::Approx(closed).epsilon(1e-12));
    CHECK(t2s.quantile_upper(p) == doctest::Approx(1.5 - 3.0 * closed).epsilon(1e-12));
    for (double nu : {0.8, 3.0, 30.0, 300.0}) {
      CAPTURE(nu);
      StudentTPrior t(0.0, 1.0, nu);
      const long double truth = boost::math::quantile(boost::math::students_t_distribution<long double>(nu), p);
      const double q = t.quantile_lower(p);
      if (std::fabs(truth) < std::numeric_limits<double>::max())
        CHECK(q == doctest::Approx(double(truth)).epsilon(1e-12));
      else
        CHECK(q == -std::numeric_limits<double>::infinity());
    }
  }
  // Where the code points live nothing changed: Boost's value, bit for bit.
  StudentTPrior t(0.0, 1.0, 3.0);
  for (double p : {0.25, 1e-6, 0x1p-62})
    CHECK(t.quantile_lower(p) == boost::math::quantile(
                                     boost::math::students_t_distribution<double, boost::math::policies::policy<
                                                                                      boost::math::policies::promote_double<false>>>(3.0),
                                     p));
}

TEST_CASE("prior families: a one-component mixture is the Gaussian, bit for bit") {
  MixturePrior mix(std::vector<double>{1.0, 0.3, 2.5});
  GaussianPrior g(0.3, 2.5);
  CHECK(mix.median() == 0.3);
  for (double z : {-40.0, -3.0, 0.1, 0.3, 2.0, 17.0}) {
    CHECK(mix.lower(z) == g.lower(z));
    CHECK(mix.upper(z) == g.upper(z));
  }
  for (double t : {1e-300, 1e-19, 1e-5, 0.2, 0.49}) {
    CHECK(mix.quantile_lower(t) == g.quantile_lower(t));
    CHECK(mix.quantile_upper(t) == g.quantile_upper(t));
  }
  // Two components: the tails are the weighted sums (weights normalised).
  MixturePrior two(std::vector<double>{2.0, -1.0, 0.5, 6.0, 2.0, 1.0});
  GaussianPrior a(-1.0, 0.5), b(2.0, 1.0);
  for (double z : {-9.0, -1.0, 0.5, 3.0, 12.0}) {
    CHECK(two.lower(z) == doctest::Approx(0.25 * a.lower(z) + 0.75 * b.lower(z)).epsilon(1e-14));
    CHECK(two.upper(z) == doctest::Approx(0.25 * a.upper(z) + 0.75 * b.upper(z)).epsilon(1e-14));
  }
}

TEST_CASE("prior families: empirical CDF passes through its knots, tails join continuously") {
  EmpiricalPrior e(std::vector<double>{-1.0, 0.0, 2.0, 0.1, 0.5, 0.8, 0.3, 0.6});
  CHECK(e.knots() == 3);
  CHECK(e.median() == 0.0);
  CHECK(e.lower(-1.0) == 0.1);
  CHECK(e.upper(2.0) == doctest::Approx(0.2).epsilon(1e-15));
  CHECK(e.lower(-0.5) == doctest::Approx(0.3).epsilon(1e-15));
  CHECK(e.upper(1.0) == doctest::Approx(0.35).epsilon(1e-15));
  CHECK(e.lower(-1.3) == doctest::Approx(0.1 * std::exp(-1.0)).epsilon(1e-15));
  CHECK(e.upper(2.6) == doctest::Approx(0.2 * std::exp(-1.0)).epsilon(1e-15));
  CHECK(e.quantile_upper(0.35) == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(e.quantile_lower(0.1 * std::exp(-2.0)) == doctest::Approx(-1.6).epsilon(1e-15));
}

TEST_CASE("prior families: make_prior round-trips parameters() and rejects invalid ones") {
  for (auto& p : all_families(-0.4)) {
    CAPTURE(p->describe());
    auto q = make_prior(p->family(), p->parameters());
    CHECK(q->family() == p->family());
    CHECK(q->parameters() == p->parameters());
    CHECK(q->median() == p->median());
    for (double t : {1e-18, 1e-3, 0.37}) {
      CHECK(q->quantile_lower(t) == p->quantile_lower(t));
      CHECK(q->quantile_upper(t) == p->quantile_upper(t));
    }
  }
  const double nan = std::nan("");
  expect_corrupt(PriorFamily::gaussian, {0.0});
  expect_corrupt(PriorFamily::laplace, {0.0, 0.0});
  expect_corrupt(PriorFamily::laplace, {nan, 1.0});
  expect_corrupt(PriorFamily::laplace, {0.0, 1.0, 2.0});
  expect_corrupt(PriorFamily::student_t, {0.0, 1.0, -1.0});
  expect_corrupt(PriorFamily::student_t, {0.0, 1.0, INFINITY});
  expect_corrupt(PriorFamily::student_t, {0.0, 1.0});
  expect_corrupt(PriorFamily::mixture, {});
  expect_corrupt(PriorFamily::mixture, {1.0, 0.0});
  expect_corrupt(PriorFamily::mixture, {0.0, 0.0, 1.0});
  expect_corrupt(PriorFamily::mixture, {1.0, 0.0, -1.0});
  expect_corrupt(PriorFamily::mixture, std::vector<double>(3 * 17, 1.0));
  expect_corrupt(PriorFamily::empirical, {0.0, 1.0, 0.2, 0.8, 1.0});                // odd count
  expect_corrupt(PriorFamily::empirical, {0.0, 0.0, 0.2, 0.8, 1.0, 1.0});           // x not increasing
  expect_corrupt(PriorFamily::empirical, {0.0, 1.0, 0.8, 0.2, 1.0, 1.0});           // p not increasing
  expect_corrupt(PriorFamily::empirical, {0.0, 1.0, 0.2, 1.0, 1.0, 1.0});           // p = 1
  expect_corrupt(PriorFamily::empirical, {0.0, 1.0, 0.2, 0.8, 0.0, 1.0});           // beta = 0
  expect_corrupt(PriorFamily::empirical, std::vector<double>(66, 1.0));              // K = 32
}

TEST_CASE("prior families: fit_prior recovers the parameters of synthetic data") {
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const size_t n = 200000;
  std::vector<double> mu(n);

  SUBCASE("laplace") {
    LaplacePrior truth(0.5, 0.3);
    for (auto& x : mu) x = truth.ppf(u(rng));
    auto p = fit_prior("laplace", mu);
    REQUIRE(p->family() == PriorFamily::laplace);
    CHECK(p->median() == doctest::Approx(0.5).epsilon(0.01));
    CHECK(dynamic_cast<LaplacePrior&>(*p).scale() == doctest::Approx(0.3).epsilon(0.01));
  }
  SUBCASE("student") {
    std::student_t_distribution<double> t(4.0);
    for (auto& x : mu) x = 0.1 + 0.2 * t(rng);
    auto p = fit_prior("student", mu);
    REQUIRE(p->family() == PriorFamily::student_t);
    auto& s = dynamic_cast<StudentTPrior&>(*p);
    CHECK(s.median() == doctest::Approx(0.1).epsilon(0.01));
    CHECK(s.scale() == doctest::Approx(0.2).epsilon(0.03));
    CHECK(s.nu() > 3.3);
    CHECK(s.nu() < 4.8);
  }
  SUBCASE("mixture of two well separated Gaussians") {
    std::normal_distribution<double> z(0.0, 1.0);
    for (auto& x : mu) x = u(rng) < 0.3 ? -2.0 + 0.5 * z(rng) : 3.0 + z(rng);
    auto p = fit_prior("mixture:2", mu);
    REQUIRE(p->family() == PriorFamily::mixture);
    auto w = p->parameters();
    REQUIRE(w.size() == 6);
    CHECK(w[0] == doctest::Approx(0.3).epsilon(0.03));
    CHECK(w[1] == doctest::Approx(-2.0).epsilon(0.01));
    CHECK(w[2] == doctest::Approx(0.5).epsilon(0.02));
    CHECK(w[3] == doctest::Approx(0.7).epsilon(0.03));
    CHECK(w[4] == doctest::Approx(3.0).epsilon(0.01));
    CHECK(w[5] == doctest::Approx(1.0).epsilon(0.02));
    // K = 1 is the maximum-likelihood Gaussian: gauss-fit.
    auto one = fit_prior("mixture:1", mu)->parameters();
    auto g = fit_prior("gauss-fit", mu)->parameters();
    CHECK(one[1] == doctest::Approx(g[0]).epsilon(1e-12));
    CHECK(one[2] == doctest::Approx(g[1]).epsilon(1e-12));
    // Deterministic.
    CHECK(fit_prior("mixture:2", mu)->parameters() == w);
  }
  SUBCASE("empirical follows the data's CDF") {
    std::normal_distribution<double> z(0.0, 1.0);
    for (auto& x : mu) x = 1.0 + 0.5 * z(rng);
    auto p = fit_prior("empirical:24", mu);
    REQUIRE(p->family() == PriorFamily::empirical);
    CHECK(p->parameters().size() == 50);
    GaussianPrior truth(1.0, 0.5);
    for (double x : {-1.0, 0.0, 0.7, 1.0, 1.6, 2.5}) CHECK(std::fabs(p->cdf(x) - truth.cdf(x)) < 0.005);
    CHECK(p->upper(2.5) == doctest::Approx(truth.upper(2.5)).epsilon(0.2));  // the tail mass, roughly
    CHECK(fit_prior("empirical:24", mu)->parameters() == p->parameters());
  }
  SUBCASE("gauss is the paper's prior") {
    std::normal_distribution<double> z(0.3, 1.0);
    for (auto& x : mu) x = z(rng);
    auto p = fit_prior("gauss", mu);
    CHECK(p->parameters() == fit_gaussian_prior(mu).parameters());
    CHECK(p->parameters()[0] == 0.0);
  }
}

TEST_CASE("prior families: fit_prior rejects bad specs and inputs") {
  std::vector<double> mu = {1.0, 2.0, 4.0, -1.0};
  for (const char* spec : {"", "gaussian", "mixture", "mixture:", "mixture:0", "mixture:17", "mixture:2x",
                           "empirical:1", "empirical:32", "student:3", "wide", "wide:1", "wide:1025", "wide:2.5"}) {
    CAPTURE(std::string(spec));
    CHECK(fit_error(spec, mu) == ErrorKind::argument);
  }
  expect_error([&] { fit_prior("cauchy", mu); }, ErrorKind::argument, {"mixture:K", "empirical:K", "wide:K"});
  for (const char* spec : {"gauss", "gauss-fit", "wide:4", "laplace", "student", "mixture:3", "empirical:3"}) {
    CAPTURE(std::string(spec));
    CHECK(fit_error(spec, std::vector<double>{}) == ErrorKind::argument);
    CHECK(fit_error(spec, std::vector<double>{0.0, 0.0, 0.0}) == ErrorKind::argument);
    // Equal nonzero means still define the paper's N(0, mean mu^2), and wide:K.
    if (std::string(spec) != "gauss" && std::string(spec) != "wide:4") CHECK(fit_error(spec, std::vector<double>{0.5, 0.5, 0.5}) == ErrorKind::argument);
    CHECK(fit_error(spec, std::vector<double>{0.5, std::nan(""), 0.1}) == ErrorKind::argument);
    CHECK(fit_error(spec, mu) == ErrorKind::interrupted);  // fits fine, even on 4 values
  }
}

TEST_CASE("wide:K is the paper's N(0, mean mu^2) with K times its std") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> z(0.3, 0.2);
  std::vector<double> mu(1000);
  for (double& m : mu) m = z(rng);
  const GaussianPrior paper = fit_gaussian_prior(mu);
  CHECK(paper.std() == doctest::Approx(std::sqrt(0.3 * 0.3 + 0.2 * 0.2)).epsilon(0.05));
  for (int k : {2, 8, 1024}) {
    CAPTURE(k);
    CHECK(wide_prior_factor("wide:" + std::to_string(k)) == k);
    const auto p = fit_prior("wide:" + std::to_string(k), mu);
    REQUIRE(p->family() == PriorFamily::gaussian);
    CHECK(p->parameters() == std::vector<double>{0.0, k * paper.std()});
    // Its quantiles are K times the paper's, exactly up to rounding.
    CHECK(p->quantile_lower(0.1) == doctest::Approx(k * paper.quantile_lower(0.1)).epsilon(1e-12));
  }
  CHECK(wide_prior_factor("gauss") == 0);
  CHECK(wide_prior_factor("wide2") == 0);
}

TEST_CASE("prior families: fits survive a point mass (pruned zeros) with finite, usable priors") {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0, 0.1);
  std::vector<double> mu(30000);
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = i % 3 ? 0.0 : z(rng);
  for (const char* spec : {"gauss", "gauss-fit", "wide:8", "laplace", "student", "mixture:3", "empirical:20"}) {
    CAPTURE(std::string(spec));
    auto p = fit_prior(spec, mu);
    auto q = make_prior(p->family(), p->parameters());  // valid stored parameters
    for (double t : {1e-15, 0.01, 0.3}) {
      CHECK(std::isfinite(q->quantile_lower(t)));
      CHECK(q->quantile_lower(t) < q->quantile_upper(t));
    }
    // The spread stays on the data's scale (no collapse to a zero-width prior).
    CHECK(p->quantile_upper(1e-3) - p->quantile_lower(1e-3) > 1e-5);
  }
}
