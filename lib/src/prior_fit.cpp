// Fitting a prior to a tensor's means (vbq/prior.hpp fit_prior): moments, ML and
// EM. Only the encoder fits; a decoder rebuilds its prior from the stored
// parameters (make_prior, prior.cpp).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "vbq/error.hpp"
#include "vbq/random.hpp"
#include "vbq/prior.hpp"

namespace vbq {

namespace {
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr size_t kSubsample = size_t(1) << 18;           // student
constexpr size_t kEmpiricalSubsample = size_t(1) << 20;  // mixture, empirical
}  // namespace

// One position from each of `cap` equal strata, fixed by a hash of the stratum
// index: deterministic, and unlike every-n-th sampling it cannot alias with the
// row length of a matrix.
std::vector<uint64_t> subsample_positions(uint64_t n, size_t cap) {
  std::vector<uint64_t> out(std::min<uint64_t>(n, cap));
  if (n <= cap) {
    std::iota(out.begin(), out.end(), uint64_t(0));
    return out;
  }
  for (size_t j = 0; j < cap; ++j) {
    uint64_t begin = uint64_t((unsigned __int128)j * n / cap), end = uint64_t((unsigned __int128)(j + 1) * n / cap);
    out[j] = begin + splitmix64(j) % (end - begin);
  }
  return out;
}

size_t prior_fit_sample_cap(const std::string& spec) {
  if (spec == "student") return kSubsample;
  if (spec.rfind("mixture:", 0) == 0 || spec.rfind("empirical:", 0) == 0) return kEmpiricalSubsample;
  return 0;
}

double gaussian_fold_sum(double carry, std::span<const double> mu) {
  for (double x : mu) carry += x;
  return carry;
}

double gaussian_fold_squares(double carry, std::span<const double> mu, double mean) {
  for (double x : mu) carry += (x - mean) * (x - mean);
  return carry;
}

GaussianPrior gaussian_prior_from_sums(double mean, double sum_squares, uint64_t count) {
  if (count == 0) throw Error(ErrorKind::argument, "cannot fit a prior to an empty tensor");
  const double var = sum_squares / double(count);
  if (!(var > 0)) throw Error(ErrorKind::argument, "cannot fit a prior: all means are equal");
  return GaussianPrior(mean, std::sqrt(var));
}

GaussianPrior fit_gaussian_prior(std::span<const double> mu, bool fit_mean) {
  const double mean = fit_mean && !mu.empty() ? gaussian_fold_sum(0.0, mu) / double(mu.size()) : 0.0;
  return gaussian_prior_from_sums(mean, gaussian_fold_squares(0.0, mu, mean), mu.size());
}

namespace {

std::vector<double> subsample(std::span<const double> mu, size_t cap) {
  if (mu.size() <= cap) return std::vector<double>(mu.begin(), mu.end());
  std::vector<double> out;
  out.reserve(cap);
  for (uint64_t i : subsample_positions(mu.size(), cap)) out.push_back(mu[i]);
  return out;
}

void check_fit_input(std::span<const double> mu) {
  if (mu.empty()) throw Error(ErrorKind::argument, "cannot fit a prior to an empty tensor");
  for (size_t i = 0; i < mu.size(); ++i)
    if (!std::isfinite(mu[i]))
      throw Error(ErrorKind::argument, "cannot fit a prior: mean at flat index " + std::to_string(i) + " is not finite");
}

void require_spread(const std::vector<double>& sorted) {
  if (!(sorted.back() > sorted.front())) throw Error(ErrorKind::argument, "cannot fit a prior: all means are equal");
}

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }

// Empirical quantile of sorted data at level p, interpolating order statistics.
double sorted_quantile(const std::vector<double>& v, double p) {
  double pos = p * double(v.size() - 1);
  size_t i = std::min(size_t(pos), v.size() - 1);
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (pos - double(i)) * (v[i + 1] - v[i]);
}

std::unique_ptr<Prior> fit_laplace(std::span<const double> mu) {
  // Maximum likelihood on all values: the median, then the mean absolute deviation.
  std::vector<double> v(mu.begin(), mu.end());
  auto mid = v.begin() + ptrdiff_t(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  double m = *mid, b = 0;
  for (double x : mu) b += std::fabs(x - m);
  b /= double(mu.size());
  if (!(b > 0)) throw Error(ErrorKind::argument, "cannot fit a prior: all means are equal");
  return std::make_unique<LaplacePrior>(m, b);
}

// Student-t maximum likelihood. For fixed nu, (m, s) by the EM / iteratively
// reweighted fixed point (weights (nu + 1) / (nu + d^2)); nu from the log grid
// 2^(i/4), 1/2 <= nu <= 1024, warm-starting each nu from the previous one.
std::unique_ptr<Prior> fit_student(std::span<const double> mu) {
  std::vector<double> v = subsample(mu, kSubsample);
  std::sort(v.begin(), v.end());
  require_spread(v);
  const double n = double(v.size());
  double m = sorted_quantile(v, 0.5);
  double var = 0, mean = mean_of(v);
  for (double x : v) var += (x - mean) * (x - mean);
  // A point mass (e.g. pruned zeros) makes the likelihood unbounded as s -> 0: floor
  // s at 1e-4 of the std, as for the mixture components.
  const double s_floor = 1e-4 * std::sqrt(var / n);
  double s = (sorted_quantile(v, 0.75) - sorted_quantile(v, 0.25)) / 1.349;
  if (!(s > s_floor)) s = std::sqrt(var / n);
  double best_ll = -std::numeric_limits<double>::infinity(), best_m = m, best_s = s, best_nu = 1;
  for (int i = -4; i <= 40; ++i) {
    const double nu = std::exp2(i / 4.0);
    for (int it = 0; it < 100; ++it) {
      double sw = 0, swx = 0, swd = 0;
      const double inv_s2 = 1.0 / (s * s);
      for (double x : v) {
        double d = x - m;
        double w = (nu + 1) / (nu + d * d * inv_s2);
        sw += w, swx += w * x, swd += w * d * d;
      }
      double m_new = swx / sw, s_new = std::max(std::sqrt(swd / n), s_floor);
      bool done = std::fabs(m_new - m) <= 1e-10 * s && std::fabs(s_new - s) <= 1e-10 * s;
      m = m_new, s = s_new;
      if (done) break;
    }
    double sum_log = 0;
    for (double x : v) sum_log += std::log1p((x - m) * (x - m) / (nu * s * s));
    double ll = n * (std::lgamma(0.5 * (nu + 1)) - std::lgamma(0.5 * nu) - 0.5 * std::log(nu * M_PI) - std::log(s)) -
                0.5 * (nu + 1) * sum_log;
    if (ll > best_ll) best_ll = ll, best_m = m, best_s = s, best_nu = nu;
  }
  return std::make_unique<StudentTPrior>(best_m, best_s, best_nu);
}

// Gaussian mixture by EM on a binned sample. The sorted subsample (<= 2^20 values)
// is cut into bins no wider than 1/512 of a robust std (IQR / 1.349); each bin keeps
// its count, mean and within-bin sum of squares, so the M step's moments are exact
// and only the responsibilities are taken at the bin mean. This makes an
// iteration cost O(bins * K) (a few thousand bins) instead of O(n * K).
// Initialisation: K equal-count slices of the sorted sample, each giving weight
// 1/K, its mean and std. Stops when the mean log-likelihood per value gains less
// than 1e-7 nats in an iteration (overlapping components crawl on for thousands of
// iterations gaining nothing a file would notice: 1e-7 nats x 1e7 values is 1.4 bits),
// or after 500 iterations. A std floor (1e-4 of the overall std)
// keeps components from collapsing onto repeated values. Single-threaded and
// fully deterministic.
std::unique_ptr<Prior> fit_mixture(std::span<const double> mu, int k) {
  std::vector<double> v = subsample(mu, kEmpiricalSubsample);
  std::sort(v.begin(), v.end());
  require_spread(v);
  const size_t n = v.size(), K = size_t(k);
  const double overall_mean = mean_of(v);
  double overall_var = 0;
  for (double x : v) overall_var += (x - overall_mean) * (x - overall_mean);
  overall_var /= double(n);
  const double s_floor = 1e-4 * std::sqrt(overall_var);
  double robust = (sorted_quantile(v, 0.75) - sorted_quantile(v, 0.25)) / 1.349;
  if (!(robust > 0)) robust = std::sqrt(overall_var);
  const double width = robust / 512;

  struct Bin { double count, mean, m2; };
  std::vector<Bin> bins;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    double sum = 0;
    while (j < n && v[j] - v[i] <= width) sum += v[j++];
    double mean = sum / double(j - i), m2 = 0;
    for (size_t t = i; t < j; ++t) m2 += (v[t] - mean) * (v[t] - mean);
    bins.push_back({double(j - i), mean, m2});
    i = j;
  }

  std::vector<double> w(K), m(K), s(K);
  for (size_t c = 0; c < K; ++c) {
    size_t b = c * n / K, e = std::max((c + 1) * n / K, b + 1);
    double sum = 0, sq = 0;
    for (size_t i = b; i < e; ++i) sum += v[i];
    double mean = sum / double(e - b);
    for (size_t i = b; i < e; ++i) sq += (v[i] - mean) * (v[i] - mean);
    w[c] = 1.0 / double(K), m[c] = mean, s[c] = std::max(std::sqrt(sq / double(e - b)), s_floor);
  }
  if (K == 1) m[0] = overall_mean, s[0] = std::max(std::sqrt(overall_var), s_floor);

  std::vector<double> resp(bins.size() * K), log_coef(K), inv_s(K);
  double prev_ll = -std::numeric_limits<double>::infinity();
  for (int it = 0; it < 500 && K > 1; ++it) {
    // E step: responsibilities per bin (log-sum-exp), and the log-likelihood.
    for (size_t c = 0; c < K; ++c) log_coef[c] = std::log(w[c] * kInvSqrt2Pi / s[c]), inv_s[c] = 1.0 / s[c];
    double ll = 0;
    for (size_t b = 0; b < bins.size(); ++b) {
      double* r = &resp[b * K];
      double top = -std::numeric_limits<double>::infinity();
      for (size_t c = 0; c < K; ++c) {
        double u = (bins[b].mean - m[c]) * inv_s[c];
        r[c] = log_coef[c] - 0.5 * u * u;
        top = std::max(top, r[c]);
      }
      double z = 0;
      for (size_t c = 0; c < K; ++c) z += (r[c] = std::exp(r[c] - top));
      for (size_t c = 0; c < K; ++c) r[c] /= z;
      ll += bins[b].count * (top + std::log(z));
    }
    ll /= double(n);
    // M step: weights, means, then spreads about the new means.
    for (size_t c = 0; c < K; ++c) {
      double rn = 0, rx = 0;
      for (size_t b = 0; b < bins.size(); ++b) rn += resp[b * K + c] * bins[b].count, rx += resp[b * K + c] * bins[b].count * bins[b].mean;
      if (!(rn > 1e-12 * double(n))) {  // an emptied component keeps its place with a tiny weight
        w[c] = 1e-12;
        continue;
      }
      double mean = rx / rn, rv = 0;
      for (size_t b = 0; b < bins.size(); ++b) {
        double d = bins[b].mean - mean;
        rv += resp[b * K + c] * (bins[b].m2 + bins[b].count * d * d);
      }
      w[c] = rn / double(n), m[c] = mean, s[c] = std::max(std::sqrt(rv / rn), s_floor);
    }
    if (ll - prev_ll < 1e-7) break;
    prev_ll = ll;
  }
  std::vector<size_t> order(K);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return m[a] < m[b]; });
  std::vector<double> params;
  for (size_t c : order) params.insert(params.end(), {w[c], m[c], s[c]});
  return std::make_unique<MixturePrior>(std::move(params));
}

// Knots at levels (i + 1/2) / K of the sorted sample; exponential tails whose
// scales are the maximum-likelihood ones, the mean excess beyond the outer knots.
std::unique_ptr<Prior> fit_empirical(std::span<const double> mu, int k) {
  std::vector<double> v = subsample(mu, kEmpiricalSubsample);
  std::sort(v.begin(), v.end());
  require_spread(v);
  const size_t K = size_t(k);
  std::vector<double> x(K), p(K);
  for (size_t i = 0; i < K; ++i) {
    p[i] = (double(i) + 0.5) / double(K);
    x[i] = sorted_quantile(v, p[i]);
  }
  // Repeated values (e.g. pruned zeros) can make knots coincide: keep them strictly
  // increasing with a tiny gap; the CDF is then nearly vertical there, as it should be.
  const double gap = 1e-9 * (v.back() - v.front());
  for (size_t i = 1; i < K; ++i) x[i] = std::max(x[i], x[i - 1] + gap);
  double lo_sum = 0, hi_sum = 0;
  size_t lo_n = 0, hi_n = 0;
  for (double z : v) {
    if (z < x[0]) lo_sum += x[0] - z, ++lo_n;
    if (z > x[K - 1]) hi_sum += z - x[K - 1], ++hi_n;
  }
  double beta_lo = lo_n ? lo_sum / double(lo_n) : 0, beta_hi = hi_n ? hi_sum / double(hi_n) : 0;
  // Too few values beyond a knot: fall back to the density-continuous scale.
  if (!(beta_lo > 0)) beta_lo = p[0] * (x[1] - x[0]) / (p[1] - p[0]);
  if (!(beta_hi > 0)) beta_hi = (1 - p[K - 1]) * (x[K - 1] - x[K - 2]) / (p[K - 1] - p[K - 2]);
  std::vector<double> params = x;
  params.insert(params.end(), p.begin(), p.end());
  params.push_back(beta_lo);
  params.push_back(beta_hi);
  return std::make_unique<EmpiricalPrior>(std::move(params));
}

const char* kValidSpecs =
    "gauss, gauss-fit, wide:K (2 <= K <= 1024), laplace, student, mixture:K (1 <= K <= 16), empirical:K (2 <= K <= 31)";

// "name:K" -> K, or -1 when spec does not start with "name:".
int parse_count(const std::string& spec, const std::string& name, int lo, int hi) {
  if (spec.rfind(name + ":", 0) != 0) return -1;
  const char* b = spec.data() + name.size() + 1;
  const char* e = spec.data() + spec.size();
  int k = 0;
  auto [ptr, ec] = std::from_chars(b, e, k);
  if (ec != std::errc() || ptr != e || b == e || k < lo || k > hi)
    throw Error(ErrorKind::argument, "prior '" + spec + "': K must be an integer in " + std::to_string(lo) + ".." +
                                         std::to_string(hi) + " (valid priors: " + kValidSpecs + ")");
  return k;
}

}  // namespace

int wide_prior_factor(const std::string& spec) { return std::max(parse_count(spec, "wide", 2, 1024), 0); }

GaussianPrior widen(const GaussianPrior& fitted, const std::string& spec) {
  const int k = wide_prior_factor(spec);
  return k > 0 ? GaussianPrior(fitted.mean(), k * fitted.std()) : fitted;
}

std::unique_ptr<Prior> fit_prior(const std::string& spec, std::span<const double> mu) {
  const bool known = spec == "gauss" || spec == "gauss-fit" || spec == "laplace" || spec == "student" ||
                     spec.rfind("wide:", 0) == 0 || spec.rfind("mixture:", 0) == 0 || spec.rfind("empirical:", 0) == 0;
  if (!known) throw Error(ErrorKind::argument, "unknown prior '" + spec + "' (valid: " + kValidSpecs + ")");
  int mixture_k = parse_count(spec, "mixture", 1, MixturePrior::kMaxMixtureComponents);
  int empirical_k = parse_count(spec, "empirical", 2, EmpiricalPrior::kMaxEmpiricalKnots);
  const int wide_k = wide_prior_factor(spec);
  check_fit_input(mu);
  if (wide_k > 0 || spec == "gauss" || spec == "gauss-fit")
    return std::make_unique<GaussianPrior>(widen(fit_gaussian_prior(mu, spec == "gauss-fit"), spec));
  if (spec == "laplace") return fit_laplace(mu);
  if (spec == "student") return fit_student(mu);
  if (mixture_k > 0) return fit_mixture(mu, mixture_k);
  return fit_empirical(mu, empirical_k);
}

}  // namespace vbq
