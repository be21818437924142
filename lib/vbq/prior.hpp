// Priors p(z) of the VBQ paper (Sec. 3.3, Eq. 5): the quantizer reaches a prior
// only through its CDF F and quantile function F^{-1}.
//
// Precision contract: every prior gives both tails directly, so that F(z) close
// to 0 OR close to 1 keeps full relative precision (a double 1 - 1e-20 would
// round to 1). lower(z) = F(z), upper(z) = 1 - F(z); quantile_lower(p) =
// F^{-1}(p), quantile_upper(q) = F^{-1}(1 - q). Each is accurate to a few ulp for
// arguments in (0, 1/2] (the "symmetric side"). F and F^{-1} are monotone and
// inverse to each other.
//
// Every family also keeps these invariants, which Algorithm 1 relies on:
//  - lower(z) <= 1/2 for z <= median() and upper(z) <= 1/2 for z >= median(), exactly
//    (the quantizer indexes its tail table by them);
//  - quantile_lower(1/2) == quantile_upper(1/2) == median();
//  - a prior is a pure function of parameters(): make_prior(family(), parameters())
//    behaves bit for bit like the prior that wrote them, so encoder and decoder agree.
//    parameters() returns exactly what the constructor was given; anything derived
//    (normalised weights, median, tail scales) is recomputed the same way on both sides.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace vbq {

// Stored as u8 in the container (formats/SPEC.md lists the parameter layouts).
enum class PriorFamily : uint8_t { gaussian = 1, laplace = 2, student_t = 3, mixture = 4, empirical = 5 };

class Prior {
 public:
  virtual ~Prior() = default;
  virtual PriorFamily family() const = 0;
  virtual std::vector<double> parameters() const = 0;  // as stored in the container
  virtual std::string describe() const = 0;            // e.g. "gaussian(mean=0, std=0.31)"
  virtual double median() const = 0;
  virtual double lower(double z) const = 0;             // F(z)
  virtual double upper(double z) const = 0;             // 1 - F(z)
  virtual double quantile_lower(double p) const = 0;    // F^{-1}(p),     p in (0, 1/2]
  virtual double quantile_upper(double q) const = 0;    // F^{-1}(1 - q), q in (0, 1/2]

  double cdf(double z) const { return z < median() ? lower(z) : 1.0 - upper(z); }
  double ppf(double xi) const { return xi <= 0.5 ? quantile_lower(xi) : quantile_upper(1.0 - xi); }
};

// N(mean, std^2). Requires std > 0 and finite.
class GaussianPrior final : public Prior {
 public:
  GaussianPrior(double mean, double std);
  PriorFamily family() const override { return PriorFamily::gaussian; }
  std::vector<double> parameters() const override { return {mean_, std_}; }
  std::string describe() const override;
  double median() const override { return mean_; }
  double lower(double z) const override;
  double upper(double z) const override;
  double quantile_lower(double p) const override;
  double quantile_upper(double q) const override;
  double mean() const { return mean_; }
  double std() const { return std_; }

 private:
  double mean_, std_;
};

// Laplace(m, b): density exp(-|z - m| / b) / (2 b). Closed form both ways.
// Parameters {m, b}; requires finite m and finite b > 0.
class LaplacePrior final : public Prior {
 public:
  LaplacePrior(double median, double scale);
  PriorFamily family() const override { return PriorFamily::laplace; }
  std::vector<double> parameters() const override { return {m_, b_}; }
  std::string describe() const override;
  double median() const override { return m_; }
  double lower(double z) const override;
  double upper(double z) const override;
  double quantile_lower(double p) const override;
  double quantile_upper(double q) const override;
  double scale() const { return b_; }

 private:
  double m_, b_;
};

// Student-t location-scale: z = m + s T with T ~ t(nu). Boost.Math in double
// precision; both sides evaluated as the lower tail of T (exact symmetry).
// Parameters {m, s, nu}; requires finite m, finite s > 0, finite nu > 0.
class StudentTPrior final : public Prior {
 public:
  StudentTPrior(double location, double scale, double nu);
  PriorFamily family() const override { return PriorFamily::student_t; }
  std::vector<double> parameters() const override { return {m_, s_, nu_}; }
  std::string describe() const override;
  double median() const override { return m_; }
  double lower(double z) const override;
  double upper(double z) const override;
  double quantile_lower(double p) const override;
  double quantile_upper(double q) const override;
  double scale() const { return s_; }
  double nu() const { return nu_; }

 private:
  double std_lower_tail(double x) const;     // P(T <= x), accurate for x <= 0
  double std_lower_quantile(double p) const;  // the x <= 0 with P(T <= x) = p, p <= 1/2
  double m_, s_, nu_;
};

// Gaussian mixture sum_k w_k N(m_k, s_k^2), 1 <= K <= kMaxMixtureComponents.
// Parameters {w_1, m_1, s_1, ..., w_K, m_K, s_K} (components in increasing m_k, as
// fit_prior writes them; any order is accepted); requires finite w_k > 0, m_k, and
// s_k > 0. Weights are used divided by their sum. The tails sum the components'
// erfc tails, so they keep relative precision; F^{-1} is a safeguarded Newton
// iteration on log F inside the bracket [min_k, max_k] of the component quantiles
// (exact for K = 1: the same formula as GaussianPrior).
class MixturePrior final : public Prior {
 public:
  static constexpr int kMaxMixtureComponents = 16;
  explicit MixturePrior(std::vector<double> parameters);
  PriorFamily family() const override { return PriorFamily::mixture; }
  std::vector<double> parameters() const override { return params_; }
  std::string describe() const override;
  double median() const override { return median_; }
  double lower(double z) const override;
  double upper(double z) const override;
  double quantile_lower(double p) const override;
  double quantile_upper(double q) const override;
  int components() const { return int(w_.size()); }

 private:
  double tail_sum(double z, bool upper) const;     // unclamped lower/upper tail
  double density(double z) const;
  double solve(double t, bool upper) const;        // tail(z) = t
  std::vector<double> params_, w_, m_, s_;
  double median_ = 0;
};

// Smooth nonparametric prior: a piecewise-linear CDF through K knots (x_i, p_i),
// 2 <= K <= kMaxEmpiricalKnots, with exponential tails beyond the outer knots:
//   F(z) = p_0 exp((z - x_0) / beta_lo)            for z < x_0,
//   1 - F(z) = (1 - p_{K-1}) exp(-(z - x_{K-1}) / beta_hi)   for z > x_{K-1}.
// Parameters {x_0..x_{K-1}, p_0..p_{K-1}, beta_lo, beta_hi}: 2K + 2 values;
// requires finite, strictly increasing x and p, 0 < p_i < 1, finite beta > 0.
// F and F^{-1} are closed forms per segment, clamped to the segment, so both are
// monotone and inverse to a few ulp (inside a segment up to the conditioning of
// p - p_i near the knots).
class EmpiricalPrior final : public Prior {
 public:
  static constexpr int kMaxEmpiricalKnots = 31;  // 2K + 2 <= 64 stored parameters
  explicit EmpiricalPrior(std::vector<double> parameters);
  PriorFamily family() const override { return PriorFamily::empirical; }
  std::vector<double> parameters() const override { return params_; }
  std::string describe() const override;
  double median() const override { return median_; }
  double lower(double z) const override;
  double upper(double z) const override;
  double quantile_lower(double p) const override;
  double quantile_upper(double q) const override;
  int knots() const { return int(x_.size()); }

 private:
  double raw_lower(double z) const;
  double raw_upper(double z) const;
  std::vector<double> params_, x_, p_, q_, slope_;  // q_i = 1 - p_i; slope_i = (p_{i+1} - p_i) / (x_{i+1} - x_i)
  double beta_lo_ = 0, beta_hi_ = 0, median_ = 0;
};

// The paper's "empirical prior" (Sec. 4.1): N(0, s^2) with s^2 = mean(mu^2).
// With fit_mean, N(m, v) with the sample mean m and variance v instead.
// Throws ErrorKind::argument if mu is empty or all zero.
GaussianPrior fit_gaussian_prior(std::span<const double> mu, bool fit_mean = false);

// fit_gaussian_prior in pieces, for encoders that see a tensor in chunks (slices
// of a file, blocks on a cluster): folding the chunks in element order gives its
// sums bit for bit. The mean is gaussian_fold_sum / count with fit_mean, else 0.
double gaussian_fold_sum(double carry, std::span<const double> mu);
double gaussian_fold_squares(double carry, std::span<const double> mu, double mean);  // sum (mu - mean)^2
GaussianPrior gaussian_prior_from_sums(double mean, double sum_squares, uint64_t count);

// "wide:K": the paper's N(0, mean mu^2) made K times wider, N(0, K^2 mean mu^2).
// On a sparse network the paper's prior fits the many near-zero weights, and the
// few that matter lie in its far tails, where the dyadic grid of its quantiles is
// coarse and uneven; K times wider, they lie where it is nearly even.
// wide_prior_factor: K of a "wide:K" spec (2 <= K <= 1024), 0 for any other spec;
// throws ErrorKind::argument for a malformed K. widen: the Gaussian fitted for
// `spec` (gauss, gauss-fit or wide:K) as the spec asks, N(mean, (K std)^2) for
// wide:K and unchanged otherwise.
int wide_prior_factor(const std::string& spec);
GaussianPrior widen(const GaussianPrior& fitted, const std::string& spec);

// Fits a prior to the means of one tensor. spec is one of
//   "gauss"        the paper's N(0, mean mu^2)          (fit_gaussian_prior)
//   "gauss-fit"    N(sample mean, sample variance)
//   "wide:K"       2 <= K <= 1024: N(0, K^2 mean mu^2)                 (wide_prior_factor)
//   "laplace"      maximum likelihood: m = median, b = mean |mu - m|
//   "student"      maximum likelihood: (m, s) by EM for each nu of a fixed log grid, best nu kept
//   "mixture:K"    1 <= K <= 16 Gaussians by EM (on finely binned data) from a quantile initialisation
//   "empirical:K"  2 <= K <= 31 knots at levels (i + 1/2) / K, exponential tails by maximum likelihood
// Deterministic (no clock, no thread-count dependence). student, mixture and
// empirical fit a fixed, stratified subsample of at most 2^18 (student) or 2^20
// values when mu is larger; about 1 s or less on 1e7 values. Throws ErrorKind::argument for an
// unknown spec (the message lists the valid ones), an empty mu, non-finite means
// (naming the flat index) or means that are all equal.
std::unique_ptr<Prior> fit_prior(const std::string& spec, std::span<const double> mu);

// The subsample fit_prior(spec, .) fits, for encoders that read a tensor in
// slices: prior_fit_sample_cap is its size (2^18 for student, 2^20 for mixture
// and empirical; 0 when the fit reads every mean), subsample_positions(n, cap)
// the ascending positions of the means it takes from n (all of them when
// n <= cap). fit_prior(spec, the means at those positions) == fit_prior(spec, mu).
size_t prior_fit_sample_cap(const std::string& spec);
std::vector<uint64_t> subsample_positions(uint64_t n, size_t cap);

// Rebuilds a prior from the container. Throws ErrorKind::unsupported for an
// unknown family, ErrorKind::corrupt for invalid parameters.
std::unique_ptr<Prior> make_prior(PriorFamily family, std::span<const double> parameters);

}  // namespace vbq
