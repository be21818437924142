#include "vbq/prior.hpp"

#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <cstdio>

#include "vbq/error.hpp"

namespace vbq {

namespace {
// Double precision throughout: never promote to long double, so results are the
// same on every platform.
using Policy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;
constexpr double kSqrt2 = 1.41421356237309504880;
}  // namespace

GaussianPrior::GaussianPrior(double mean, double std) : mean_(mean), std_(std) {
  if (!(std > 0) || !std::isfinite(std) || !std::isfinite(mean))
    throw Error(ErrorKind::argument, "gaussian prior needs a finite mean and a finite std > 0");
}

std::string GaussianPrior::describe() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "gaussian(mean=%.6g, std=%.6g)", mean_, std_);
  return buf;
}

// F(z) = erfc((m - z) / (s sqrt 2)) / 2: erfc keeps full relative precision in the tail.
double GaussianPrior::lower(double z) const {
  return 0.5 * boost::math::erfc((mean_ - z) / (std_ * kSqrt2), Policy());
}
double GaussianPrior::upper(double z) const {
  return 0.5 * boost::math::erfc((z - mean_) / (std_ * kSqrt2), Policy());
}
// F^{-1}(p) = m - s sqrt2 erfc^{-1}(2p), evaluated on the side where p is small.
double GaussianPrior::quantile_lower(double p) const {
  return mean_ - std_ * kSqrt2 * boost::math::erfc_inv(2.0 * p, Policy());
}
double GaussianPrior::quantile_upper(double q) const {
  return mean_ + std_ * kSqrt2 * boost::math::erfc_inv(2.0 * q, Policy());
}

GaussianPrior fit_gaussian_prior(std::span<const double> mu, bool fit_mean) {
  if (mu.empty()) throw Error(ErrorKind::argument, "cannot fit a prior to an empty tensor");
  double mean = 0;
  if (fit_mean) {
    for (double x : mu) mean += x;
    mean /= double(mu.size());
  }
  double var = 0;
  for (double x : mu) var += (x - mean) * (x - mean);
  var /= double(mu.size());
  if (!(var > 0)) throw Error(ErrorKind::argument, "cannot fit a prior: all means are equal");
  return GaussianPrior(mean, std::sqrt(var));
}

std::unique_ptr<Prior> make_prior(PriorFamily family, std::span<const double> p) {
  switch (family) {
    case PriorFamily::gaussian:
      if (p.size() != 2 || !std::isfinite(p[0]) || !(p[1] > 0) || !std::isfinite(p[1]))
        throw Error(ErrorKind::corrupt, "invalid gaussian prior parameters");
      return std::make_unique<GaussianPrior>(p[0], p[1]);
  }
  throw Error(ErrorKind::unsupported, "unknown prior family " + std::to_string(int(family)));
}

}  // namespace vbq
