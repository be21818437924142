// Priors p(z) of the VBQ paper (Sec. 3.3, Eq. 5): the quantizer reaches a prior
// only through its CDF F and quantile function F^{-1}.
//
// Precision contract: every prior gives both tails directly, so that F(z) close
// to 0 OR close to 1 keeps full relative precision (a double 1 - 1e-20 would
// round to 1). lower(z) = F(z), upper(z) = 1 - F(z); quantile_lower(p) =
// F^{-1}(p), quantile_upper(q) = F^{-1}(1 - q). Each is accurate to a few ulp for
// arguments in (0, 1/2] (the "symmetric side"). F and F^{-1} are monotone and
// inverse to each other.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace vbq {

enum class PriorFamily : uint8_t { gaussian = 1 };

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

// The paper's "empirical prior" (Sec. 4.1): N(0, s^2) with s^2 = mean(mu^2).
// With fit_mean, N(m, v) with the sample mean m and variance v instead.
// Throws ErrorKind::argument if mu is empty or all zero.
GaussianPrior fit_gaussian_prior(std::span<const double> mu, bool fit_mean = false);

// Rebuilds a prior from the container. Throws ErrorKind::unsupported for an
// unknown family, ErrorKind::corrupt for invalid parameters.
std::unique_ptr<Prior> make_prior(PriorFamily family, std::span<const double> parameters);

}  // namespace vbq
