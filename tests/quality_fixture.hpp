// A synthetic posterior and a data-free quality task, shared by the R-D sweep
// and rate-control tests.
#pragma once
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "eval/rd.hpp"

namespace vbq::testing {

// One tensor "word" of rows x cols: mu ~ N(0, 0.3^2), sigma log-uniform in [0.005, 0.5].
inline Model posterior(size_t rows, size_t cols, uint64_t seed = 21) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 0.3);
  std::uniform_real_distribution<double> ls(std::log(0.005), std::log(0.5));
  Model m;
  Tensor t;
  t.name = "word";
  t.mean_path = "word/mean";
  t.shape = {rows, cols};
  for (size_t i = 0; i < rows * cols; ++i) t.mu.push_back(z(rng)), t.sigma.push_back(std::exp(ls(rng)));
  m.tensors.push_back(t);
  return m;
}

// Quality of decompressed means: 1 / (1 + 100 mse) against the original (1 = exact).
class Fidelity final : public QualityTask {
 public:
  explicit Fidelity(const Model& original) : original_(original) {}
  std::vector<std::string> metric_names() const override { return {"fidelity"}; }
  size_t primary_metric() const override { return 0; }
  std::vector<double> evaluate(const Model& m) const override {
    double se = 0, n = 0;
    for (size_t k = 0; k < m.tensors.size(); ++k)
      for (size_t i = 0; i < m.tensors[k].mu.size(); ++i) {
        const double d = m.tensors[k].mu[i] - original_.tensors[k].mu[i];
        se += d * d, ++n;
      }
    return {1 / (1 + 100 * se / n)};
  }

 private:
  const Model& original_;
};

}  // namespace vbq::testing
