// vbq/random.hpp: the generators against published and independently computed values.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "vbq/random.hpp"

using namespace vbq;

TEST_CASE("random: SplitMix64 gives the reference sequence of splitmix64.c") {
  // The first outputs for seed 1234567 of Vigna's reference implementation.
  SplitMix64 g(1234567);
  CHECK(g.next() == 6457827717110365317ull);
  CHECK(g.next() == 3203168211198807973ull);
  CHECK(g.next() == 9817491932198370423ull);
  // The stateless form is the output function of the counter: splitmix64(seed + k gamma).
  CHECK(splitmix64(1234567) == 6457827717110365317ull);
  CHECK(splitmix64(1234567 + 2 * kGoldenGamma) == 9817491932198370423ull);
  CHECK(splitmix64(0) == 0xe220a8397b1dcdafull);
  static_assert(splitmix64(1) == 0x910a2dec89025cc1ull, "usable at compile time");
}

TEST_CASE("random: xoshiro256+ matches an independent implementation") {
  // Values of a Python transcription of xoshiro256plus.c, state from SplitMix64(42).
  Xoshiro256Plus g(42);
  CHECK(g.next() == 0x15f414253e365229ull);
  CHECK(g.next() == 0x4f771f08f4211387ull);
  CHECK(g.next() == 0x100492bd8828891eull);
  CHECK(g.next() == 0x4e743fce495374aeull);
}

TEST_CASE("random: uniform and below cover their ranges evenly") {
  Xoshiro256Plus g(7);
  const int n = 200000, bins = 10;
  std::vector<int> hist(bins, 0), small(3, 0);
  double lo = 1, hi = 0;
  for (int i = 0; i < n; ++i) {
    const double u = g.uniform();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    ++hist[size_t(u * bins)];
    ++small[below(g.next(), 3)];
  }
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  // Each bin holds n/bins +- 5 standard deviations.
  for (int h : hist) CHECK(std::abs(h - n / bins) < 5 * std::sqrt(n / bins));
  for (int h : small) CHECK(std::abs(h - n / 3) < 5 * std::sqrt(n / 3));
  CHECK(below(~0ull, 5) == 4);  // the top of the range maps to n - 1, never n
  CHECK(below(0, 5) == 0);
}
