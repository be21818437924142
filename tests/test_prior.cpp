#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "vbq/error.hpp"
#include "vbq/prior.hpp"

using namespace vbq;

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
  try {
    make_prior(PriorFamily::gaussian, std::vector<double>{0.0, -1.0});
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::corrupt);
  }
  try {
    make_prior(PriorFamily(77), std::vector<double>{});
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unsupported);
  }
}
