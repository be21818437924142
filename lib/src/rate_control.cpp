#include "vbq/rate_control.hpp"

#include <algorithm>
#include <cmath>

#include "vbq/error.hpp"

namespace vbq {

namespace {

struct Walk {
  LambdaProbe previous, last, extreme;
};

}  // namespace

LambdaSearchResult search_lambda(const std::function<LambdaProbe(double)>& probe, const LambdaSearch& s) {
  if (!(s.min_lambda > 0) || !(s.lo >= s.min_lambda) || !(s.hi > s.lo) || !(s.max_lambda >= s.hi) || !(s.step > 1) ||
      s.patience < 1 || s.max_probes < 2 || !(s.tight_ratio > 1))
    throw Error(ErrorKind::argument,
                "lambda search needs 0 < min_lambda <= lo < hi <= max_lambda, step > 1, tight_ratio > 1, "
                "patience >= 1 and max_probes >= 2");
  LambdaSearchResult out;
  auto run = [&](double lambda) {
    LambdaProbe p = probe(lambda);
    p.lambda = lambda;
    out.probes.push_back(p);
    return p;
  };
  auto budget_left = [&] { return int(out.probes.size()) < s.max_probes; };

  // Steps outwards from `from` (upwards or downwards in lambda) until feasibility
  // flips to `want`, the limit or the probe budget is reached, or the value has
  // not passed its extreme for `patience` probes. The value falls as lambda
  // grows, so going up a new extreme is a new minimum, going down a new maximum.
  auto walk = [&](const LambdaProbe& from, bool up, bool want) {
    Walk w{from, from, from};
    for (int stale = 0; w.last.feasible != want && stale < s.patience && budget_left();) {
      const double next = up ? std::min(w.last.lambda * s.step, s.max_lambda) : std::max(w.last.lambda / s.step, s.min_lambda);
      if (std::fabs(std::log(next / w.last.lambda)) < 1e-9) break;  // at the limit (up to rounding)
      w.previous = w.last;
      w.last = run(next);
      const bool moved = up ? w.last.value < w.extreme.value : w.last.value > w.extreme.value;
      if (moved) w.extreme = w.last, stale = 0;
      else ++stale;
    }
    return w;
  };

  // The bracket: `good` feasible, `bad` infeasible, neighbours on the lambda axis.
  const bool up = s.feasible_above;  // direction towards feasibility
  LambdaProbe good = run(up ? s.hi : s.lo), bad;
  if (!good.feasible) {
    Walk w = walk(good, up, true);
    if (!w.last.feasible) {
      out.best = w.extreme;
      return out;
    }
    good = w.last, bad = w.previous;
  } else if (s.done && s.done(good)) {
    out.best = good, out.met = true;
    return out;
  } else {
    bad = run(up ? s.lo : s.hi);
    if (bad.feasible) {  // the target holds across [lo, hi]: look beyond for the best lambda
      Walk w = walk(bad, !up, false);
      if (w.last.feasible) {
        out.best = w.last, out.met = true;
        return out;
      }
      good = w.previous, bad = w.last;
    }
  }
  while (budget_left() && !(s.done && s.done(good))) {
    if (std::max(good.lambda, bad.lambda) < s.tight_ratio * std::min(good.lambda, bad.lambda)) break;
    LambdaProbe mid = run(std::sqrt(good.lambda * bad.lambda));
    (mid.feasible ? good : bad) = mid;
  }
  out.best = good, out.met = true;
  return out;
}

}  // namespace vbq
