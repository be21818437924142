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
    const LambdaProbe start = good;
    Walk w = walk(start, up, true);
    if (w.last.feasible) {
      good = w.last, bad = w.previous;
    } else {
      // Quality is monotone only up to noise (quantization can even help a
      // little), so before calling the target unreachable scan the first bracket
      // inwards from `start` in finer steps, until the value has moved away from
      // the target (or stayed flat) `patience` probes in a row.
      LambdaProbe closest = w.extreme, previous = start, found;
      const double fine = std::sqrt(s.step);
      for (int away = 0; away < s.patience && budget_left();) {
        const double next = up ? previous.lambda / fine : previous.lambda * fine;
        if (up ? next < s.lo : next > s.hi) break;
        const LambdaProbe p = run(next);
        if (p.feasible) {
          found = p;
          break;
        }
        if (up ? p.value < closest.value : p.value > closest.value) closest = p;
        const bool receding = up ? p.value >= previous.value : p.value <= previous.value;  // or flat
        away = receding ? away + 1 : 0;
        previous = p;
      }
      if (!found.feasible) {
        out.best = closest;
        return out;
      }
      // Follow the feasible stretch inwards to where the target fails again.
      Walk inner = walk(found, !up, false);
      if (inner.last.feasible) {
        out.best = inner.last, out.met = true;
        return out;
      }
      good = inner.previous, bad = inner.last;
    }
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
