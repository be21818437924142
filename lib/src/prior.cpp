#include "vbq/prior.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <cstdio>
#include <limits>

#include "vbq/error.hpp"

namespace vbq {

namespace {
// Double precision throughout: never promote to long double, so results are the
// same on every platform.
using Policy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;
using StudentT = boost::math::students_t_distribution<double, Policy>;
constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kEps = std::numeric_limits<double>::epsilon();

bool finite_positive(double x) { return x > 0 && std::isfinite(x); }

std::string fmt(const char* format, double a, double b, double c = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}
}  // namespace

// ---------------------------------------------------------------- Gaussian

GaussianPrior::GaussianPrior(double mean, double std) : mean_(mean), std_(std) {
  if (!finite_positive(std) || !std::isfinite(mean))
    throw Error(ErrorKind::argument, "gaussian prior needs a finite mean and a finite std > 0");
}

std::string GaussianPrior::describe() const { return fmt("gaussian(mean=%.6g, std=%.6g)", mean_, std_); }

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

// ---------------------------------------------------------------- Laplace

LaplacePrior::LaplacePrior(double median, double scale) : m_(median), b_(scale) {
  if (!finite_positive(scale) || !std::isfinite(median))
    throw Error(ErrorKind::argument, "laplace prior needs a finite median and a finite scale > 0");
}

std::string LaplacePrior::describe() const { return fmt("laplace(median=%.6g, scale=%.6g)", m_, b_); }

// F(z) = exp((z - m) / b) / 2 below m, 1 - exp(-(z - m) / b) / 2 above (the latter as
// 1/2 - expm1(-x) / 2, which is exact near m).
double LaplacePrior::lower(double z) const {
  double x = (z - m_) / b_;
  return x <= 0 ? 0.5 * std::exp(x) : 0.5 - 0.5 * std::expm1(-x);
}
double LaplacePrior::upper(double z) const {
  double x = (m_ - z) / b_;
  return x <= 0 ? 0.5 * std::exp(x) : 0.5 - 0.5 * std::expm1(-x);
}
// F^{-1}(p) = m + b log(2p) for p <= 1/2, m - b log(2(1 - p)) = m - b log1p(1 - 2p) above.
double LaplacePrior::quantile_lower(double p) const {
  return p <= 0.5 ? m_ + b_ * std::log(2.0 * p) : m_ - b_ * std::log1p(1.0 - 2.0 * p);
}
double LaplacePrior::quantile_upper(double q) const {
  return q <= 0.5 ? m_ - b_ * std::log(2.0 * q) : m_ + b_ * std::log1p(1.0 - 2.0 * q);
}

// ---------------------------------------------------------------- Student-t

StudentTPrior::StudentTPrior(double location, double scale, double nu) : m_(location), s_(scale), nu_(nu) {
  if (!std::isfinite(location) || !finite_positive(scale) || !finite_positive(nu))
    throw Error(ErrorKind::argument, "student-t prior needs a finite location, scale > 0 and nu > 0");
}

std::string StudentTPrior::describe() const {
  return fmt("student_t(location=%.6g, scale=%.6g, nu=%.4g)", m_, s_, nu_);
}

double StudentTPrior::std_lower_tail(double x) const { return boost::math::cdf(StudentT(nu_), x); }
namespace {
// Below this lower-tail probability (far below every code point, p >= 2^-62)
// Boost's double-precision Student-t quantile loses accuracy (nu = 3, p = 1e-200:
// t off by a factor 2) and then throws overflow_error (p < ~1e-240), though t is
// finite. There x = nu / (nu + t^2) is small and the tail is a convergent series:
//   F(t) = I_x(a, 1/2) / 2 = x^a (1 - x)^(1/2) S(x) / (2 a B(a, 1/2)),  a = nu / 2,
//   S(x) = 2F1(a + 1/2, 1; a + 1; x) = sum_k prod_{i<k} (a + 1/2 + i) / (a + 1 + i) x^k,
// solved for log x by fixed-point iteration, all in logs (t may be near 1e300).
constexpr double kStudentFarTail = 1e-30;

// The lower-tail quantile t < 0 for p < kStudentFarTail, or NaN where x is not
// small (large nu: Boost is accurate there). -inf where |t| exceeds the double range.
double student_t_far_quantile(double nu, double p) {
  const double a = nu / 2;
  const double log_c = std::log(2 * p) + std::log(a) + std::lgamma(a) + std::lgamma(0.5) - std::lgamma(a + 0.5);
  double log_x = log_c / a;  // leading term: x^a = 2 p a B(a, 1/2)
  for (int it = 0; it < 100; ++it) {
    const double x = std::exp(log_x);
    if (!(x < 0.5)) return std::numeric_limits<double>::quiet_NaN();
    double term = 1, sum = 1;
    for (int k = 0; k < 2000 && term > 1e-18 * sum; ++k) sum += term *= (a + 0.5 + k) / (a + 1 + k) * x;
    const double next = (log_c - 0.5 * std::log1p(-x) - std::log(sum)) / a;
    const bool done = std::fabs(next - log_x) <= 1e-15 * std::fabs(log_x);
    log_x = next;
    if (done) break;
  }
  const double x = std::exp(log_x);
  const double log_t = 0.5 * (std::log(nu) + std::log1p(-x) - log_x);
  return log_t < std::log(std::numeric_limits<double>::max()) ? -std::exp(log_t)
                                                                : -std::numeric_limits<double>::infinity();
}
}  // namespace

double StudentTPrior::std_lower_quantile(double p) const {
  if (p < kStudentFarTail) {
    const double t = student_t_far_quantile(nu_, p);
    if (!std::isnan(t)) return t;
  }
  return boost::math::quantile(StudentT(nu_), p);
}

// Both sides use the lower tail of T, so the prior is exactly symmetric about m.
double StudentTPrior::lower(double z) const {
  double v = std_lower_tail((z - m_) / s_);
  return z <= m_ ? std::min(v, 0.5) : v;
}
double StudentTPrior::upper(double z) const {
  double v = std_lower_tail((m_ - z) / s_);
  return z >= m_ ? std::min(v, 0.5) : v;
}
double StudentTPrior::quantile_lower(double p) const {
  return p == 0.5 ? m_ : m_ + s_ * std_lower_quantile(p);
}
double StudentTPrior::quantile_upper(double q) const {
  return q == 0.5 ? m_ : m_ - s_ * std_lower_quantile(q);
}

// ---------------------------------------------------------------- Gaussian mixture

MixturePrior::MixturePrior(std::vector<double> parameters) : params_(std::move(parameters)) {
  const size_t k = params_.size() / 3;
  if (params_.size() % 3 != 0 || k < 1 || k > size_t(kMaxMixtureComponents))
    throw Error(ErrorKind::argument, "mixture prior needs 3K parameters (weight, mean, std) with 1 <= K <= " +
                                         std::to_string(kMaxMixtureComponents) + ", got " +
                                         std::to_string(params_.size()));
  double total = 0;
  for (size_t i = 0; i < k; ++i) {
    double w = params_[3 * i], m = params_[3 * i + 1], s = params_[3 * i + 2];
    if (!finite_positive(w) || !std::isfinite(m) || !finite_positive(s))
      throw Error(ErrorKind::argument, "mixture component " + std::to_string(i) +
                                           " needs a finite weight > 0, a finite mean and a finite std > 0");
    total += w;
    m_.push_back(m);
    s_.push_back(s);
  }
  if (!std::isfinite(total)) throw Error(ErrorKind::argument, "mixture weights overflow");
  for (size_t i = 0; i < k; ++i) w_.push_back(params_[3 * i] / total);
  // Median: bisection between the extreme component means (F <= 1/2 at the smallest,
  // >= 1/2 at the largest), down to adjacent doubles. median_ is the first double
  // where the lower tail is no longer below the upper one.
  double lo = *std::min_element(m_.begin(), m_.end()), hi = *std::max_element(m_.begin(), m_.end());
  while (true) {
    double mid = lo + 0.5 * (hi - lo);
    if (mid <= lo || mid >= hi) break;
    if (tail_sum(mid, false) < tail_sum(mid, true)) lo = mid;
    else hi = mid;
  }
  median_ = tail_sum(lo, false) < tail_sum(lo, true) ? hi : lo;
}

std::string MixturePrior::describe() const {
  std::string s = "mixture(K=" + std::to_string(w_.size());
  for (size_t i = 0; i < w_.size(); ++i) s += (i ? "; " : ": ") + fmt("w=%.4g m=%.6g s=%.6g", w_[i], m_[i], s_[i]);
  return s + ")";
}

// Sum of the components' tails, each with erfc's full relative precision.
double MixturePrior::tail_sum(double z, bool upper) const {
  double sum = 0;
  for (size_t i = 0; i < w_.size(); ++i) {
    double x = upper ? (z - m_[i]) : (m_[i] - z);
    sum += w_[i] * (0.5 * boost::math::erfc(x / (s_[i] * kSqrt2), Policy()));
  }
  return sum;
}

double MixturePrior::density(double z) const {
  double sum = 0;
  for (size_t i = 0; i < w_.size(); ++i) {
    double u = (z - m_[i]) / s_[i];
    sum += w_[i] * kInvSqrt2Pi / s_[i] * std::exp(-0.5 * u * u);
  }
  return sum;
}

double MixturePrior::lower(double z) const {
  double v = tail_sum(z, false);
  return z <= median_ ? std::min(v, 0.5) : v;
}
double MixturePrior::upper(double z) const {
  double v = tail_sum(z, true);
  return z >= median_ ? std::min(v, 0.5) : v;
}

// Solves tail(z) = t for the lower (F) or upper (1 - F) tail. The component
// quantiles bracket the root: at z = min_k Q_k(t) every component tail is on the
// far side of t, at max_k Q_k(t) on the near side. Newton steps on log tail(z)
// (nearly linear in z in the Gaussian tails), replaced by bisection whenever they
// would leave the bracket; stops once a step is below 4 ulp (quadratic convergence
// then puts the iterate within an ulp of the root).
double MixturePrior::solve(double t, bool upper) const {
  const double e = boost::math::erfc_inv(2.0 * t, Policy());
  double a = std::numeric_limits<double>::infinity(), b = -a;
  for (size_t i = 0; i < w_.size(); ++i) {
    // The same expression as GaussianPrior, so K = 1 is bit-identical to it.
    double q = upper ? m_[i] + s_[i] * kSqrt2 * e : m_[i] - s_[i] * kSqrt2 * e;
    a = std::min(a, q);
    b = std::max(b, q);
  }
  if (!(a < b)) return a;
  const double log_t = std::log(t);
  double z = a + 0.5 * (b - a);
  for (int it = 0; it < 200; ++it) {
    double v = tail_sum(z, upper);
    if (v == t) return z;
    // The lower tail increases with z, the upper one decreases.
    if ((v < t) != upper) a = z;
    else b = z;
    double f = density(z), next;
    if (v > 0 && f > 0) {
      double step = (std::log(v) - log_t) * v / f;  // d log tail / dz = +-f / tail
      next = upper ? z + step : z - step;
    } else {
      next = a + 0.5 * (b - a);
    }
    if (!(next > a && next < b)) next = a + 0.5 * (b - a);
    if (next == z || std::fabs(next - z) <= 4 * kEps * std::fabs(z) || b - a <= 2 * kEps * std::max(std::fabs(a), std::fabs(b)))
      return next;
    z = next;
  }
  return z;
}

double MixturePrior::quantile_lower(double p) const {
  if (p == 0.5) return median_;
  double z = solve(p, false);
  return p < 0.5 ? std::min(z, median_) : std::max(z, median_);
}
double MixturePrior::quantile_upper(double q) const {
  if (q == 0.5) return median_;
  double z = solve(q, true);
  return q < 0.5 ? std::max(z, median_) : std::min(z, median_);
}

// ---------------------------------------------------------------- Empirical (piecewise-linear CDF)

EmpiricalPrior::EmpiricalPrior(std::vector<double> parameters) : params_(std::move(parameters)) {
  const size_t n = params_.size();
  if (n % 2 != 0 || n < 6 || n > size_t(2 * kMaxEmpiricalKnots + 2))
    throw Error(ErrorKind::argument, "empirical prior needs 2K + 2 parameters with 2 <= K <= " +
                                         std::to_string(kMaxEmpiricalKnots) + ", got " + std::to_string(n));
  const size_t k = (n - 2) / 2;
  x_.assign(params_.begin(), params_.begin() + k);
  p_.assign(params_.begin() + k, params_.begin() + 2 * k);
  beta_lo_ = params_[2 * k];
  beta_hi_ = params_[2 * k + 1];
  for (size_t i = 0; i < k; ++i) {
    if (!std::isfinite(x_[i]) || !(p_[i] > 0 && p_[i] < 1))
      throw Error(ErrorKind::argument, "empirical prior knot " + std::to_string(i) +
                                           " needs a finite position and a level in (0, 1)");
    if (i > 0 && !(x_[i] > x_[i - 1] && p_[i] > p_[i - 1]))
      throw Error(ErrorKind::argument, "empirical prior knots must increase strictly, at knot " + std::to_string(i));
  }
  if (!finite_positive(beta_lo_) || !finite_positive(beta_hi_))
    throw Error(ErrorKind::argument, "empirical prior tail scales must be finite and > 0");
  for (size_t i = 0; i < k; ++i) q_.push_back(1.0 - p_[i]);
  for (size_t i = 0; i + 1 < k; ++i) {
    slope_.push_back((p_[i + 1] - p_[i]) / (x_[i + 1] - x_[i]));
    if (!finite_positive(slope_.back()))
      throw Error(ErrorKind::argument, "empirical prior segment " + std::to_string(i) + " has no finite slope");
  }
  // The median: the inverse at 1/2 of whichever piece holds it.
  if (0.5 < p_[0]) median_ = x_[0] + beta_lo_ * std::log(0.5 / p_[0]);
  else if (0.5 >= p_[k - 1]) median_ = x_[k - 1] - beta_hi_ * std::log(0.5 / q_[k - 1]);
  else {
    size_t i = size_t(std::upper_bound(p_.begin(), p_.end(), 0.5) - p_.begin()) - 1;
    median_ = std::clamp(x_[i] + (0.5 - p_[i]) / slope_[i], x_[i], x_[i + 1]);
  }
}

std::string EmpiricalPrior::describe() const {
  return fmt("empirical(K=%.0f, knots %.6g..%.6g", double(x_.size()), x_.front(), x_.back()) +
         fmt(", tails %.4g/%.4g)", beta_lo_, beta_hi_);
}

// F on each piece; inside segment i it is clamped to [p_i, p_{i+1}] so that
// rounding can never break monotonicity across a knot.
double EmpiricalPrior::raw_lower(double z) const {
  const size_t k = x_.size();
  if (z < x_[0]) return p_[0] * std::exp((z - x_[0]) / beta_lo_);
  if (z >= x_[k - 1]) return 1.0 - q_[k - 1] * std::exp((x_[k - 1] - z) / beta_hi_);
  size_t i = size_t(std::upper_bound(x_.begin(), x_.end(), z) - x_.begin()) - 1;
  return std::clamp(p_[i] + (z - x_[i]) * slope_[i], p_[i], p_[i + 1]);
}
// 1 - F, mirrored: measured from the segment's right knot, where 1 - p is exact.
double EmpiricalPrior::raw_upper(double z) const {
  const size_t k = x_.size();
  if (z > x_[k - 1]) return q_[k - 1] * std::exp((x_[k - 1] - z) / beta_hi_);
  if (z <= x_[0]) return 1.0 - p_[0] * std::exp((z - x_[0]) / beta_lo_);
  size_t i = size_t(std::lower_bound(x_.begin(), x_.end(), z) - x_.begin()) - 1;
  return std::clamp(q_[i + 1] + (x_[i + 1] - z) * slope_[i], q_[i + 1], q_[i]);
}

double EmpiricalPrior::lower(double z) const {
  double v = raw_lower(z);
  return z <= median_ ? std::min(v, 0.5) : v;
}
double EmpiricalPrior::upper(double z) const {
  double v = raw_upper(z);
  return z >= median_ ? std::min(v, 0.5) : v;
}

double EmpiricalPrior::quantile_lower(double p) const {
  if (p == 0.5) return median_;
  const size_t k = x_.size();
  double z;
  if (p < p_[0]) z = x_[0] + beta_lo_ * std::log(p / p_[0]);
  else if (p >= p_[k - 1]) z = x_[k - 1] - beta_hi_ * std::log((1.0 - p) / q_[k - 1]);
  else {
    size_t i = size_t(std::upper_bound(p_.begin(), p_.end(), p) - p_.begin()) - 1;
    z = std::clamp(x_[i] + (p - p_[i]) / slope_[i], x_[i], x_[i + 1]);
  }
  return p < 0.5 ? std::min(z, median_) : std::max(z, median_);
}

double EmpiricalPrior::quantile_upper(double q) const {
  if (q == 0.5) return median_;
  const size_t k = x_.size();
  double z;
  if (q < q_[k - 1]) z = x_[k - 1] - beta_hi_ * std::log(q / q_[k - 1]);
  else if (q >= q_[0]) z = x_[0] + beta_lo_ * std::log((1.0 - q) / p_[0]);
  else {
    // q_ decreases: the segment i with q_{i+1} <= q < q_i.
    size_t i = size_t(std::lower_bound(q_.begin(), q_.end(), q, std::greater<double>()) - q_.begin()) - 1;
    z = std::clamp(x_[i + 1] - (q - q_[i + 1]) / slope_[i], x_[i], x_[i + 1]);
  }
  return q < 0.5 ? std::max(z, median_) : std::min(z, median_);
}

std::unique_ptr<Prior> make_prior(PriorFamily family, std::span<const double> p) {
  std::vector<double> v(p.begin(), p.end());
  try {
    switch (family) {
      case PriorFamily::gaussian:
        if (v.size() != 2) break;
        return std::make_unique<GaussianPrior>(v[0], v[1]);
      case PriorFamily::laplace:
        if (v.size() != 2) break;
        return std::make_unique<LaplacePrior>(v[0], v[1]);
      case PriorFamily::student_t:
        if (v.size() != 3) break;
        return std::make_unique<StudentTPrior>(v[0], v[1], v[2]);
      case PriorFamily::mixture: return std::make_unique<MixturePrior>(std::move(v));
      case PriorFamily::empirical: return std::make_unique<EmpiricalPrior>(std::move(v));
      default:
        throw Error(ErrorKind::unsupported, "unknown prior family " + std::to_string(int(family)));
    }
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::argument) throw;
    throw Error(ErrorKind::corrupt, std::string("invalid prior parameters: ") + e.what());
  }
  throw Error(ErrorKind::corrupt, "invalid prior parameters: family " + std::to_string(int(family)) + " does not take " +
                                      std::to_string(p.size()) + " parameters");
}

}  // namespace vbq
