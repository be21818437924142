// Rate control's search: search_lambda on synthetic monotone measurements (whole
// models compressed to a target: test_app_compress.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "tests/support.hpp"
#include "vbq/rate_control.hpp"

using namespace vbq;
using vbq::testing::kind_of;

namespace {

// A quality-like measurement: falls from `top` (lambda -> 0) to 0 around lambda = knee.
struct Quality {
  double top = 1, knee = 1, target = 0.5;
  LambdaProbe operator()(double lambda) const {
    const double q = top / (1 + lambda / knee);
    return {lambda, q, q >= target, 0};
  }
  double boundary() const { return knee * (top / target - 1); }  // q(boundary) = target
};

// A size-like measurement: bytes = floor_bytes + 1e6 / sqrt(lambda), fits if <= target.
struct Size {
  double floor_bytes = 100, target = 1e4;
  LambdaProbe operator()(double lambda) const {
    const double b = floor_bytes + 1e6 / std::sqrt(lambda);
    return {lambda, b, b <= target, uint64_t(b)};
  }
  double boundary() const { return std::pow(1e6 / (target - floor_bytes), 2); }
};

LambdaSearch quality_search() {
  LambdaSearch s;
  s.feasible_above = false;
  s.lo = 1e-3, s.hi = 1e6;
  return s;
}

LambdaSearch size_search() {
  LambdaSearch s;
  s.feasible_above = true;
  s.lo = 1e-4, s.hi = 1e8;
  return s;
}

void check_bracketed(const LambdaSearchResult& r, double boundary, double ratio) {
  REQUIRE(r.met);
  CHECK(r.best.feasible);
  CHECK(r.best.lambda >= boundary / ratio);
  CHECK(r.best.lambda <= boundary * ratio);
}

}  // namespace

TEST_CASE("rate control: a boundary inside the first bracket is found to within tight_ratio") {
  Quality q{1, 1, 0.8};  // boundary 0.25
  LambdaSearchResult r = search_lambda(q, quality_search());
  check_bracketed(r, q.boundary(), 1.02);
  CHECK(r.best.lambda <= q.boundary());  // the feasible side
  CHECK(r.probes.size() < 30);
  CHECK(r.probes.front().lambda == 1e-3);  // the feasible end first

  Size s{100, 1e4};
  LambdaSearchResult z = search_lambda(s, size_search());
  check_bracketed(z, s.boundary(), 1.02);
  CHECK(z.best.lambda >= s.boundary());
  CHECK(z.best.bytes <= 1e4);
}

TEST_CASE("rate control: a quality target met only below the first bracket is found there") {
  // The old search gave up at lambda 1e-3 here although 1e-6 meets the target.
  Quality q{1, 1e-7, 0.09};  // q(1e-3) ~ 1e-4; boundary ~ 1e-6
  LambdaSearchResult r = search_lambda(q, quality_search());
  check_bracketed(r, q.boundary(), 1.02);
  CHECK(r.best.lambda < 1e-3);
}

TEST_CASE("rate control: a size target met only above the first bracket is found there") {
  Size s{100, 150};  // needs lambda = 4e8 > hi = 1e8
  LambdaSearchResult r = search_lambda(s, size_search());
  check_bracketed(r, s.boundary(), 1.02);
  CHECK(r.best.lambda > 1e8);
}

TEST_CASE("rate control: an unreachable quality target reports the best quality and stops once it saturates") {
  // Quality saturates at 0.9 below lambda 1e-5 (e.g. outliers clipped at any rate).
  auto saturating = [](double lambda) {
    const double q = 0.9 / (1 + std::max(lambda, 1e-5) / 1e-2);
    return LambdaProbe{lambda, q, q >= 0.95, uint64_t(1e6 / (1 + lambda))};
  };
  LambdaSearch s = quality_search();
  LambdaSearchResult r = search_lambda(saturating, s);
  CHECK_FALSE(r.met);
  CHECK_FALSE(r.best.feasible);
  CHECK(r.best.value == doctest::Approx(0.9 / (1 + 1e-3)));  // the best quality reached
  CHECK(r.best.lambda == doctest::Approx(1e-5));             // where it was first reached
  // 1e-3, then 1e-4, 1e-5 improve, 1e-6 and 1e-7 do not: patience 2 stops there.
  // Then the scan inside the bracket: 10^-2.5 and 1e-2, both lower: stop.
  REQUIRE(r.probes.size() == 7);
  CHECK(r.probes[4].lambda == doctest::Approx(1e-7));
  CHECK(r.probes[6].lambda == doctest::Approx(1e-2));

  s.patience = 4;  // more patience, more probes, same answer
  LambdaSearchResult longer = search_lambda(saturating, s);
  CHECK(longer.probes.size() == 11);
  CHECK(longer.best.lambda == r.best.lambda);
}

TEST_CASE("rate control: an unreachable quality target stops at min_lambda") {
  Quality q{0.5, 1, 0.9};  // never above 0.5, still improving as lambda falls
  LambdaSearch s = quality_search();
  s.min_lambda = 1e-6;
  LambdaSearchResult r = search_lambda(q, s);
  CHECK_FALSE(r.met);
  CHECK(r.best.lambda == doctest::Approx(1e-6));
  CHECK(r.probes.size() == 6);  // 1e-3 .. 1e-6, then 10^-2.5 and 1e-2 inside the bracket
}

TEST_CASE("rate control: a quality target missed at both ends but met inside the bracket is found") {
  // As on a real BNN: accuracy at small lambda stalls below the target (clipped
  // outliers), while quantization noise lifts it above at moderate lambda.
  auto bump = [](double lambda) {
    const double q = lambda < 2e-3 ? 0.85 : lambda < 0.05 ? 0.87 : 0.87 / (1 + (lambda - 0.05) * 10);
    return LambdaProbe{lambda, q, q >= 0.86, 0};
  };
  LambdaSearchResult r = search_lambda(bump, quality_search());
  REQUIRE(r.met);
  CHECK(bump(r.best.lambda).feasible);
  check_bracketed(r, 0.05 + (0.87 / 0.86 - 1) / 10, 1.02);  // the largest lambda meeting it
}

TEST_CASE("rate control: a size target below the smallest file is reported with that file") {
  Size s{100, 50};  // every file has more than 100 bytes
  LambdaSearchResult r = search_lambda(s, size_search());
  CHECK_FALSE(r.met);
  CHECK(r.best.value > 100);
  CHECK(r.best.value < 100.2);  // the smallest file the growth reached
  CHECK(r.best.lambda > 1e8);
}

TEST_CASE("rate control: a target met across the first bracket is followed outwards") {
  // Quality: met even at hi; the search walks up until the target fails.
  Quality q{1, 1e8, 0.5};  // boundary 1e8 > hi
  LambdaSearchResult r = search_lambda(q, quality_search());
  check_bracketed(r, q.boundary(), 1.02);

  // Size: fits even at lo; the search walks down (better quality) until it no longer fits.
  Size s{100, 1e9};  // boundary ~ 1e-6 < lo
  LambdaSearchResult z = search_lambda(s, size_search());
  check_bracketed(z, s.boundary(), 1.02);
  CHECK(z.best.lambda < 1e-4);

  // Met everywhere up to max_lambda: the largest lambda allowed.
  LambdaSearch capped = quality_search();
  capped.max_lambda = 1e7;
  LambdaSearchResult all = search_lambda(Quality{1, 1e12, 0.5}, capped);
  CHECK(all.met);
  CHECK(all.best.lambda == doctest::Approx(1e7));
}

TEST_CASE("rate control: done stops the bisection early, max_probes bounds it") {
  Size s{100, 1e4};
  LambdaSearch search = size_search();
  search.tight_ratio = 1 + 1e-12;
  search.done = [](const LambdaProbe& p) { return p.value >= 0.99 * 1e4; };
  LambdaSearchResult r = search_lambda(s, search);
  REQUIRE(r.met);
  CHECK(r.best.value >= 0.99e4);
  CHECK(r.best.value <= 1e4);

  search.done = nullptr;
  search.max_probes = 6;
  LambdaSearchResult few = search_lambda(s, search);
  CHECK(few.probes.size() == 6);
  CHECK(few.met);  // still a feasible answer, just a looser one
  CHECK(few.best.value <= 1e4);
}

TEST_CASE("rate control: a noisy quality curve still yields a lambda that meets the target") {
  // A dip at lambda ~ 1e-3 below a later plateau: bisection may stop at any
  // crossing, but what it returns must meet the target.
  auto noisy = [](double lambda) {
    double q = 1 / (1 + lambda);
    if (lambda > 5e-4 && lambda < 2e-3) q -= 0.3;
    return LambdaProbe{lambda, q, q >= 0.8, 0};
  };
  LambdaSearchResult r = search_lambda(noisy, quality_search());
  REQUIRE(r.met);
  CHECK(noisy(r.best.lambda).feasible);
  CHECK(r.best.lambda < 1e-3);
}

TEST_CASE("rate control: invalid search settings are argument errors") {
  Quality q;
  for (auto bad : {+[](LambdaSearch& s) { s.lo = 0; }, +[](LambdaSearch& s) { s.hi = s.lo; },
                   +[](LambdaSearch& s) { s.min_lambda = 1; }, +[](LambdaSearch& s) { s.max_lambda = 1; },
                   +[](LambdaSearch& s) { s.step = 1; }, +[](LambdaSearch& s) { s.patience = 0; },
                   +[](LambdaSearch& s) { s.max_probes = 1; }, +[](LambdaSearch& s) { s.tight_ratio = 1; }}) {
    LambdaSearch s = quality_search();
    bad(s);
    CHECK(kind_of([&] { search_lambda(q, s); }) == ErrorKind::argument);
  }
}
