#include "vbq/rate_control.hpp"

#include <cmath>

#include "vbq/error.hpp"

namespace vbq {

LambdaProbe search_lambda(const std::function<LambdaProbe(double)>& probe, bool feasible_above,
                          const std::function<bool(const LambdaProbe&)>& done, double lo, double hi, int max_probes,
                          std::vector<LambdaProbe>* log) {
  if (!(lo > 0) || !(hi > lo)) throw Error(ErrorKind::argument, "lambda search needs 0 < lo < hi");
  auto run = [&](double lambda) {
    LambdaProbe p = probe(lambda);
    p.lambda = lambda;
    if (log) log->push_back(p);
    return p;
  };
  // The feasible end of the bracket, and the infeasible one.
  LambdaProbe good = run(feasible_above ? hi : lo);
  if (!good.feasible) return good;
  if (done(good)) return good;
  LambdaProbe bad = run(feasible_above ? lo : hi);
  if (bad.feasible) return bad;  // the whole range meets the target: take the best-quality / smallest end
  for (int i = 2; i < max_probes; ++i) {
    LambdaProbe mid = run(std::sqrt(good.lambda * bad.lambda));
    (mid.feasible ? good : bad) = mid;
    if (mid.feasible && done(mid)) break;
    if (std::fabs(std::log(good.lambda / bad.lambda)) < 1e-9) break;
  }
  return good;
}

}  // namespace vbq
