// Rate control: choose lambda for a target instead of by hand (beyond the paper).
//
// File size falls and distortion rises monotonically (up to quantization noise)
// as lambda grows, so the lambda meeting a target is found by bisection in
// log(lambda) on a monotone predicate.
//
// The first bracket is only a guess. A target that its feasible end misses may
// still be met further out (a quality target at a smaller lambda, a size target
// at a larger one), so the search grows the bracket outwards until the target is
// met or the measured value stops moving: towards small lambda Algorithm 1 ends
// at full precision (every coordinate at its max rate), towards large lambda at
// one code point per tensor. Because measured quality is monotone only up to
// noise, a target still unmet there is looked for once more inside the first
// bracket (steps of sqrt(step) from its feasible end, until the value recedes
// from the target, or stays flat, `patience` probes in a row). Only then is it
// unreachable.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace vbq {

struct LambdaProbe {
  double lambda = 0;
  double value = 0;    // what the probe measured (bytes, quality, ...)
  bool feasible = false;
  uint64_t bytes = 0;  // file size at this lambda, when the probe knows it (0: not measured)
};

struct LambdaSearch {
  // Feasibility is monotone in lambda: true means every lambda above a feasible
  // one is feasible (size targets), false every lambda below (quality targets).
  bool feasible_above = false;
  double lo = 1e-3, hi = 1e6;                    // the first bracket
  double min_lambda = 1e-40, max_lambda = 1e40;  // how far the bracket may grow
  double step = 10;                              // growth factor per probe outside [lo, hi]
  // Growth ends after this many probes in a row without a new extreme value (the
  // value saturated: full precision, or the smallest file).
  int patience = 2;
  int max_probes = 60;
  // Bisection stops once the bracket's ends are within this factor in lambda
  // (1.02: within 2%), or when `done` holds.
  double tight_ratio = 1.02;
  // Optional: true once a feasible probe is close enough to the target (bisection stops).
  std::function<bool(const LambdaProbe&)> done;
};

struct LambdaSearchResult {
  // met: the feasible probe nearest the boundary (the largest feasible lambda for
  // quality targets, the smallest for size targets). Not met: the probe whose
  // value came closest to the target (the best quality, the smallest file).
  LambdaProbe best;
  bool met = false;
  std::vector<LambdaProbe> probes;  // every probe, in the order run
};

// `probe(lambda)` measures at lambda and says whether it meets the target. Its
// `value` must be (up to noise) non-increasing in lambda, as bytes and quality
// are. Throws ErrorKind::argument unless 0 < min_lambda <= lo < hi <= max_lambda,
// step > 1, tight_ratio > 1, patience >= 1 and max_probes >= 2.
LambdaSearchResult search_lambda(const std::function<LambdaProbe(double)>& probe, const LambdaSearch& search);

}  // namespace vbq
