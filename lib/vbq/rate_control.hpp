// Rate control: choose lambda for a target instead of by hand (beyond the paper).
//
// File size falls and distortion rises monotonically (up to quantization noise)
// as lambda grows, so the lambda meeting a target is found by bisection in
// log(lambda) on a monotone predicate.
#pragma once
#include <functional>
#include <vector>

namespace vbq {

struct LambdaProbe {
  double lambda = 0;
  double value = 0;  // what the probe measured (bytes, quality, ...)
  bool feasible = false;
};

// `probe(lambda)` measures and says whether lambda is feasible (meets the target);
// feasibility must be monotone in lambda: `feasible_above` = true means every
// lambda above a feasible one is feasible (size targets), false the reverse
// (quality targets). Returns the feasible probe closest to the boundary after
// bisecting [lo, hi] until `done(best)` holds or `max_probes` probes were spent.
// If no lambda in [lo, hi] is feasible, returns the best infeasible end probe with
// feasible = false. All probes are appended to `log` when given.
LambdaProbe search_lambda(const std::function<LambdaProbe(double)>& probe, bool feasible_above,
                          const std::function<bool(const LambdaProbe&)>& done, double lo = 1e-4, double hi = 1e8,
                          int max_probes = 40, std::vector<LambdaProbe>* log = nullptr);

}  // namespace vbq
