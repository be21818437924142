#include "app/lambda_allocation.hpp"

#include <algorithm>
#include <cmath>

#include "vbq/error.hpp"

namespace vbq {

LambdaAllocation::LambdaAllocation(const Model& model, const QualityFn& quality, const CompressSettings& settings,
                                   std::vector<double> grid)
    : grid_(std::move(grid)) {
  if (grid_.empty()) throw Error(ErrorKind::argument, "lambda allocation: empty lambda grid");
  if (!quality) throw Error(ErrorKind::argument, "lambda allocation: no quality function");
  std::sort(grid_.begin(), grid_.end());
  CompressSettings one = settings;
  one.tensor_lambdas.clear();
  one.include_vocab = false;
  const double exact = quality(model);
  for (size_t t = 0; t < model.tensors.size(); ++t) {
    Model single;
    single.tensors = {model.tensors[t]};
    Model trial = model;
    std::vector<double> bytes, loss;
    double worst = 0;
    for (double lambda : grid_) {
      one.vbq.lambda = lambda;
      const Container c = compress_model(single, one);
      bytes.push_back(double(serialize_container(c).size()));
      trial.tensors[t].mu = restore_model(c, settings.vbq.threads).tensors[0].mu;
      worst = std::max(worst, exact - quality(trial));
      loss.push_back(worst);
    }
    bytes_.push_back(std::move(bytes));
    loss_.push_back(std::move(loss));
  }
}

double LambdaAllocation::predicted_loss(double lambda) const {
  // Linear in log(lambda) between grid points, constant beyond the ends.
  const auto hi = std::lower_bound(grid_.begin(), grid_.end(), lambda);
  const size_t j = size_t(hi - grid_.begin());
  double sum = 0;
  for (const std::vector<double>& l : loss_) {
    if (j == 0) sum += l.front();
    else if (j == grid_.size()) sum += l.back();
    else {
      const double w = std::log(lambda / grid_[j - 1]) / std::log(grid_[j] / grid_[j - 1]);
      sum += (1 - w) * l[j - 1] + w * l[j];
    }
  }
  return sum;
}

std::vector<size_t> LambdaAllocation::choice(double slope) const {
  std::vector<size_t> pick(bytes_.size());
  for (size_t t = 0; t < bytes_.size(); ++t) {
    double best = INFINITY;
    for (size_t j = 0; j < grid_.size(); ++j) {  // ties go to the larger lambda: fewer bytes
      const double cost = bytes_[t][j] + slope * loss_[t][j];
      if (cost <= best) best = cost, pick[t] = j;
    }
  }
  return pick;
}

std::vector<double> LambdaAllocation::tensor_lambdas(double lambda) const {
  if (!(lambda > 0)) throw Error(ErrorKind::argument, "lambda allocation: lambda must be > 0");
  const double budget = predicted_loss(lambda) * (1 + 1e-12);
  auto loss_of = [&](const std::vector<size_t>& pick) {
    double sum = 0;
    for (size_t t = 0; t < pick.size(); ++t) sum += loss_[t][pick[t]];
    return sum;
  };
  // The predicted loss falls as the slope (bytes per unit of quality) grows: find
  // the smallest slope within budget, by bisection in log(slope).
  double lo = 1e-12, hi = 1e-12;
  while (loss_of(choice(hi)) > budget && hi < 1e300) hi *= 1e3;
  if (loss_of(choice(lo)) <= budget) hi = lo;
  for (int i = 0; i < 200 && hi / lo > 1 + 1e-9; ++i) {
    const double mid = std::sqrt(lo * hi);
    (loss_of(choice(mid)) <= budget ? hi : lo) = mid;
  }
  std::vector<double> out;
  for (size_t j : choice(hi)) out.push_back(grid_[j]);
  return out;
}

}  // namespace vbq
