// Rate allocation across tensors (beyond the paper): one lambda per tensor.
//
// Eq. 9 prices a bit against squared error in units of posterior variance, at one
// price lambda for the whole model. When the spreads are calibrated differently
// per tensor (a tempered posterior, layers of different roles), a bit buys
// different quality in different tensors. The allocation measures each tensor
// alone on a grid of lambdas, the other tensors exact: the bytes the tensor costs
// and the quality the model loses. For a model-wide lambda it then picks one grid
// lambda per tensor, predicted to lose no more quality in total than that lambda
// everywhere, at the fewest bytes: equal slope of quality per byte across tensors,
// found by bisection on the slope. The prediction adds the tensors' losses; the
// caller measures what the allocation really gives.
#pragma once
#include <vector>

#include "app/compress.hpp"

namespace vbq {

class LambdaAllocation {
 public:
  // Encodes every tensor at every lambda of `grid` (ascending after sorting) with
  // `settings` (its tensor_lambdas ignored) and scores each with quality(means),
  // larger = better: tensors x grid evaluations.
  LambdaAllocation(const Model& model, const QualityFn& quality, const CompressSettings& settings,
                   std::vector<double> grid);

  // One lambda per tensor, in model order, for the model-wide lambda `lambda`.
  std::vector<double> tensor_lambdas(double lambda) const;

  // The measurements, [tensor][grid index]: bytes of the tensor's container, and
  // the quality lost, made non-decreasing in lambda (a loss below a smaller
  // lambda's is measurement noise) and >= 0.
  const std::vector<double>& grid() const { return grid_; }
  const std::vector<std::vector<double>>& bytes() const { return bytes_; }
  const std::vector<std::vector<double>>& loss() const { return loss_; }

 private:
  double predicted_loss(double lambda) const;       // every tensor at `lambda`
  std::vector<size_t> choice(double slope) const;  // per tensor: argmin bytes + slope x loss
  std::vector<double> grid_;
  std::vector<std::vector<double>> bytes_, loss_;
};

}  // namespace vbq
