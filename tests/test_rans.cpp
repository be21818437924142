// Tests for lib/vbq/rans.hpp: round trips, stream layout, table quantisation,
// compression efficiency and rejection of corrupt streams.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tests/support.hpp"
#include "vbq/error.hpp"
#include "vbq/rans.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::kind_of;

namespace {

std::vector<uint32_t> sample(const std::vector<double>& weights, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::discrete_distribution<uint32_t> dist(weights.begin(), weights.end());
  std::vector<uint32_t> out(n);
  for (auto& s : out) s = dist(rng);
  return out;
}

std::vector<uint64_t> histogram(const std::vector<uint32_t>& symbols, size_t alphabet) {
  std::vector<uint64_t> counts(alphabet, 0);
  for (uint32_t s : symbols) ++counts[s];
  return counts;
}

std::vector<double> gaussian_weights(size_t n, double sigma) {
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) {
    const double z = (double(i) - double(n - 1) / 2) / sigma;
    w[i] = std::exp(-0.5 * z * z);
  }
  return w;
}

std::vector<uint32_t> round_trip(const std::vector<uint32_t>& msg, const FrequencyTable& t) {
  const auto bytes = rans_encode(msg, t);
  std::vector<uint32_t> back(msg.size(), 0xFFFFFFFFu);
  rans_decode(bytes, t, back);
  return back;
}

void check_invariants(const FrequencyTable& t, const std::vector<uint64_t>& counts) {
  REQUIRE(t.size() == counts.size());
  REQUIRE(t.cumulative.size() == t.size() + 1);
  uint64_t sum = 0;
  for (size_t s = 0; s < t.size(); ++s) {
    CHECK(t.cumulative[s] == sum);
    sum += t.freq[s];
    if (counts[s] != 0) CHECK(t.freq[s] >= 1);
    else CHECK(t.freq[s] == 0);
  }
  CHECK(sum == (uint64_t(1) << t.precision_bits));
  CHECK(t.cumulative.back() == sum);
}

// Straightforward rANS with true divisions and a word list reversed at the end:
// the layout of the header spelled out, to pin the optimised encoder's bytes.
std::vector<uint8_t> reference_encode(const std::vector<uint32_t>& msg, const FrequencyTable& t) {
  const uint64_t M = uint64_t(1) << t.precision_bits;
  uint64_t x[kRansStreams];
  for (auto& v : x) v = kRansLower;
  std::vector<uint32_t> words;
  for (size_t i = msg.size(); i-- > 0;) {
    uint64_t& xs = x[i % kRansStreams];
    const uint64_t f = t.freq[msg[i]], c = t.cumulative[msg[i]];
    const uint64_t x_max = ((kRansLower / M) << 32) * f;
    if (xs >= x_max) {
      words.push_back(uint32_t(xs));
      xs >>= 32;
    }
    xs = (xs / f) * M + xs % f + c;
  }
  std::reverse(words.begin(), words.end());
  std::vector<uint8_t> out;
  for (uint64_t v : x)
    for (int b = 0; b < 8; ++b) out.push_back(uint8_t(v >> (8 * b)));
  for (uint32_t w : words)
    for (int b = 0; b < 4; ++b) out.push_back(uint8_t(w >> (8 * b)));
  return out;
}

// The optimised encoder writes the reference's bytes, and they decode to `msg`.
void check_against_reference(const std::vector<uint32_t>& msg, const FrequencyTable& t) {
  const auto bytes = rans_encode(msg, t);
  CHECK(bytes == reference_encode(msg, t));
  std::vector<uint32_t> back(msg.size());
  rans_decode(bytes, t, back);
  CHECK(back == msg);
}

}  // namespace

TEST_CASE("rans round trip across distributions and lengths") {
  struct Case {
    const char* name;
    std::vector<double> weights;
    uint32_t precision_bits;
  };
  std::vector<double> skewed(50, 1e-6);
  skewed[7] = 1.0;
  std::vector<double> geometric(64);
  for (size_t i = 0; i < geometric.size(); ++i) geometric[i] = std::pow(0.7, double(i));
  const std::vector<Case> cases = {
      {"one symbol", {1.0}, 16},
      {"two symbols", {0.3, 0.7}, 16},
      {"two symbols precision 1", {1.0, 1.0}, 1},
      {"very skewed", skewed, 16},
      {"geometric precision 28", geometric, 28},
      {"gaussian 200", gaussian_weights(200, 25.0), 16},
      {"uniform 256 precision 8", std::vector<double>(256, 1.0), 8},
      {"gaussian 100k precision 24", gaussian_weights(100000, 15000.0), 24},
  };
  for (const auto& c : cases) {
    for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(5), size_t(7), size_t(1001),
                     size_t(40003)}) {
      CAPTURE(c.name);
      CAPTURE(n);
      const auto msg = sample(c.weights, n, 1234 + n);
      auto counts = histogram(msg, c.weights.size());
      // make sure empty messages still get a table
      if (n == 0) counts[0] = 1;
      const auto t = FrequencyTable::from_counts(counts, c.precision_bits);
      CHECK(round_trip(msg, t) == msg);
    }
  }
}

TEST_CASE("rans round trip with a table built from a different model") {
  // The coder must not care that the table does not match the data.
  const auto msg = sample(gaussian_weights(300, 10.0), 20000, 5);
  std::vector<uint64_t> counts(300, 1);
  counts[0] = 1000000;
  const auto t = FrequencyTable::from_counts(counts, 20);
  CHECK(round_trip(msg, t) == msg);
}

// A row read decodes a block only up to its row: every prefix of a stream
// decodes to the same prefix of the message, for both decoders (slot table
// and bucketed search), and a truncated stream is still an error.
TEST_CASE("rans prefix decode equals the prefix of the full decode") {
  for (uint32_t prec : {12u, 24u}) {
    CAPTURE(prec);
    const auto msg = sample(gaussian_weights(40, 4.0), 5003, 21);
    const auto t = FrequencyTable::from_counts(histogram(msg, 40), prec);
    const auto bytes = rans_encode(msg, t);
    for (size_t n : {size_t(0), size_t(1), size_t(3), size_t(4), size_t(5), size_t(2500), size_t(5002), size_t(5003)}) {
      CAPTURE(n);
      std::vector<uint32_t> out(n);
      rans_decode_prefix(bytes, t, out);
      CHECK(std::equal(out.begin(), out.end(), msg.begin()));
    }
    std::vector<uint32_t> out(100);
    expect_error([&] { rans_decode_prefix(std::span(bytes).first(31), t, out); }, ErrorKind::corrupt, {"truncated"});
    std::vector<uint32_t> longer(msg.size() + 400);
    expect_error([&] { rans_decode_prefix(bytes, t, longer); }, ErrorKind::corrupt, {"truncated"});
  }
}

TEST_CASE("rans stream layout") {
  SUBCASE("empty message is just the four initial states") {
    const auto t = FrequencyTable::from_frequencies({8, 8}, 4);
    const auto bytes = rans_encode({}, t);
    REQUIRE(bytes.size() == 8 * kRansStreams);
    for (int j = 0; j < kRansStreams; ++j) {
      uint64_t v = 0;
      for (int b = 0; b < 8; ++b) v |= uint64_t(bytes[8 * j + b]) << (8 * b);
      CHECK(v == kRansLower);
    }
    rans_decode(bytes, t, {});
  }
  SUBCASE("one symbol: C(1, L) = (L / 8) * 16 + 8 in state 0, little-endian") {
    const auto t = FrequencyTable::from_frequencies({8, 8}, 4);
    const std::vector<uint32_t> msg = {1};
    const auto bytes = rans_encode(msg, t);
    REQUIRE(bytes.size() == 32);
    const uint64_t expect = (kRansLower / 8) * 16 + 8;
    for (int b = 0; b < 8; ++b) CHECK(bytes[b] == uint8_t(expect >> (8 * b)));
    CHECK(round_trip(msg, t) == msg);
  }
  SUBCASE("bytes equal a plain-division reference encoder") {
    // Covers every frequency from 1 (the special reciprocal) to large ones.
    for (uint32_t prec : {1u, 5u, 12u, 16u, 23u, 28u}) {
      CAPTURE(prec);
      std::vector<uint64_t> counts;
      for (uint64_t c = 1; counts.size() < std::min<uint64_t>(600, uint64_t(1) << prec); c = c * 5 / 4 + 1)
        counts.push_back(c);
      const auto t = FrequencyTable::from_counts(counts, prec);
      std::vector<uint32_t> msg(30011);
      std::mt19937_64 rng(prec);
      for (auto& s : msg) s = uint32_t(rng() % counts.size());
      check_against_reference(msg, t);
    }
  }
  SUBCASE("a skewed message: the bytes are the reference encoder's, and they decode") {
    const auto msg = sample(gaussian_weights(100, 9.0), 5000, 9);
    const auto t = FrequencyTable::from_counts(histogram(msg, 100), 16);
    check_against_reference(msg, t);
  }
}

TEST_CASE("rans compressed size is close to the ideal cost") {
  struct Case {
    size_t alphabet;
    double sigma;
    uint32_t precision_bits;
    size_t n;
  };
  for (const Case& c : {Case{200, 20.0, 16, 1000000}, Case{100000, 8000.0, 24, 400000},
                        Case{2, 0.0, 16, 1000000}}) {
    CAPTURE(c.alphabet);
    const auto weights = c.alphabet == 2 ? std::vector<double>{0.995, 0.005} : gaussian_weights(c.alphabet, c.sigma);
    const auto msg = sample(weights, c.n, 77);
    const auto counts = histogram(msg, c.alphabet);
    const auto t = FrequencyTable::from_counts(counts, c.precision_bits);
    const double ideal_bits = t.cost_bits(counts);
    const auto bytes = rans_encode(msg, t);
    MESSAGE("alphabet " << c.alphabet << ": " << bytes.size() << " bytes, ideal " << ideal_bits / 8);
    CHECK(double(bytes.size()) * 8 <= ideal_bits * 1.005 + 8 * 64);
    // and cannot beat the ideal by more than the flushed state bits
    CHECK(double(bytes.size()) * 8 >= ideal_bits - 64 * kRansStreams);
    // the quantised table costs little over the empirical entropy
    double entropy_bits = 0;
    for (uint64_t k : counts)
      if (k) entropy_bits -= double(k) * std::log2(double(k) / double(c.n));
    CHECK(ideal_bits <= entropy_bits * 1.002 + 64);
  }
}

TEST_CASE("rans from_counts invariants") {
  SUBCASE("random counts") {
    std::mt19937_64 rng(42);
    for (int trial = 0; trial < 200; ++trial) {
      const size_t n = 1 + rng() % 300;
      std::vector<uint64_t> counts(n);
      for (auto& k : counts) k = (rng() % 3 == 0) ? 0 : rng() % (uint64_t(1) << (rng() % 40));
      if (std::all_of(counts.begin(), counts.end(), [](uint64_t k) { return k == 0; })) counts[0] = 1;
      const size_t nonzero = size_t(std::count_if(counts.begin(), counts.end(), [](uint64_t k) { return k; }));
      uint32_t prec = 1 + uint32_t(rng() % kMaxPrecisionBits);
      while ((uint64_t(1) << prec) < nonzero) ++prec;
      CAPTURE(trial);
      check_invariants(FrequencyTable::from_counts(counts, prec), counts);
    }
  }
  SUBCASE("extreme skew") {
    std::vector<uint64_t> counts(1000, 1);
    counts[500] = uint64_t(1) << 62;
    counts.push_back(~uint64_t(0));  // sum overflows 64 bits
    const auto t = FrequencyTable::from_counts(counts, 12);
    check_invariants(t, counts);
    CHECK(t.freq[0] == 1);
    CHECK(t.freq[1000] > t.freq[500]);
  }
  SUBCASE("exactly as many symbols as slots: all ones") {
    const std::vector<uint64_t> counts = {1000, 1, 5, 7, 0, 3, 2, 9, 4};
    const auto t = FrequencyTable::from_counts(counts, 3);
    check_invariants(t, counts);
    for (size_t s = 0; s < counts.size(); ++s) CHECK(t.freq[s] == (counts[s] ? 1u : 0u));
  }
  SUBCASE("optimal on small cases (brute force)") {
    std::mt19937_64 rng(3);
    for (int trial = 0; trial < 300; ++trial) {
      const uint32_t prec = 3 + uint32_t(rng() % 3);
      const uint32_t M = 1u << prec;
      std::vector<uint64_t> counts(3);
      for (auto& k : counts) k = 1 + rng() % 1000;
      const auto t = FrequencyTable::from_counts(counts, prec);
      check_invariants(t, counts);
      double best = 1e300;
      for (uint32_t a = 1; a < M; ++a)
        for (uint32_t b = 1; a + b < M; ++b) {
          const auto alt = FrequencyTable::from_frequencies({a, b, M - a - b}, prec);
          best = std::min(best, alt.cost_bits(counts));
        }
      CAPTURE(trial);
      CHECK(t.cost_bits(counts) <= best + 1e-9 * best);
    }
  }
  SUBCASE("ties break on the lower symbol index") {
    // 16 slots for 7 equal counts: 2 each, and the 2 left over to symbols 0 and 1
    const std::vector<uint64_t> counts = {5, 5, 5, 5, 5, 5, 5};
    const auto t = FrequencyTable::from_counts(counts, 4);
    CHECK(t.freq == std::vector<uint32_t>{3, 3, 2, 2, 2, 2, 2});
    // 8 slots for 3 equal counts: 3 each rounds to 9, and symbol 0 gives one back
    const auto u = FrequencyTable::from_counts(std::vector<uint64_t>{5, 5, 5}, 3);
    CHECK(u.freq == std::vector<uint32_t>{2, 3, 3});
  }
  SUBCASE("argument errors") {
    const std::vector<uint64_t> zeros(10, 0);
    CHECK(kind_of([&] { FrequencyTable::from_counts(zeros, 16); }) == ErrorKind::argument);
    CHECK(kind_of([&] { FrequencyTable::from_counts({}, 16); }) == ErrorKind::argument);
    const std::vector<uint64_t> five(5, 1);
    CHECK(kind_of([&] { FrequencyTable::from_counts(five, 2); }) == ErrorKind::argument);
    CHECK(kind_of([&] { FrequencyTable::from_counts(five, 0); }) == ErrorKind::argument);
    CHECK(kind_of([&] { FrequencyTable::from_counts(five, kMaxPrecisionBits + 1); }) == ErrorKind::argument);
  }
}

TEST_CASE("rans from_frequencies validation and cost_bits") {
  const auto t = FrequencyTable::from_frequencies({4, 0, 12}, 4);
  CHECK(t.cumulative == std::vector<uint32_t>{0, 4, 4, 16});
  CHECK(t.cost_bits(std::vector<uint64_t>{2, 0, 1}) == doctest::Approx(2 * 2 + (4 - std::log2(12.0))));
  CHECK(std::isinf(t.cost_bits(std::vector<uint64_t>{1, 1, 1})));
  CHECK(kind_of([] { FrequencyTable::from_frequencies({4, 4}, 4); }) == ErrorKind::corrupt);
  CHECK(kind_of([] { FrequencyTable::from_frequencies({}, 4); }) == ErrorKind::corrupt);
  CHECK(kind_of([] { FrequencyTable::from_frequencies({1}, 0); }) == ErrorKind::corrupt);
  CHECK(kind_of([] { FrequencyTable::from_frequencies({0, 1u << 29}, 29); }) == ErrorKind::corrupt);
  // a sum that wraps around 32 bits must not pass
  CHECK(kind_of([] { FrequencyTable::from_frequencies({0xFFFFFFFFu, 17}, 4); }) == ErrorKind::corrupt);
}

TEST_CASE("rans default_precision_bits") {
  CHECK(default_precision_bits(0) == 16);
  CHECK(default_precision_bits(1) == 16);
  CHECK(default_precision_bits(256) == 16);
  CHECK(default_precision_bits(257) == 17);
  CHECK(default_precision_bits(100000) == 25);
  CHECK(default_precision_bits(uint64_t(1) << 24) == kMaxPrecisionBits);
}

TEST_CASE("rans encode rejects uncodable symbols") {
  const auto t = FrequencyTable::from_frequencies({8, 0, 8}, 4);
  const std::vector<uint32_t> zero_freq = {0, 2, 1, 0, 1};
  expect_error([&] { rans_encode(zero_freq, t); }, ErrorKind::argument, {"index 2"});
  const std::vector<uint32_t> out_of_range = {0, 3};
  CHECK(kind_of([&] { rans_encode(out_of_range, t); }) == ErrorKind::argument);
  FrequencyTable broken = t;
  broken.cumulative.pop_back();
  CHECK(kind_of([&] { rans_encode(std::vector<uint32_t>{0}, broken); }) == ErrorKind::argument);
}

TEST_CASE("rans corrupt streams are rejected") {
  for (uint32_t prec : {12u, 24u}) {  // slot-table and bucketed-search decoders
    CAPTURE(prec);
    const auto msg = sample(gaussian_weights(40, 4.0), 999, 11);
    const auto t = FrequencyTable::from_counts(histogram(msg, 40), prec);
    const auto good = rans_encode(msg, t);
    REQUIRE(good.size() > 64);
    std::vector<uint32_t> out(msg.size());

    auto expect_corrupt = [&](const std::vector<uint8_t>& bytes, const char* what) {
      INFO(what);
      expect_error([&] { rans_decode(bytes, t, out); }, ErrorKind::corrupt, {"offset"});
    };
    for (size_t len = 0; len < good.size(); ++len) {
      CAPTURE(len);
      expect_corrupt(std::vector<uint8_t>(good.begin(), good.begin() + ptrdiff_t(len)), "truncated");
    }
    for (size_t extra : {1, 3, 4, 8}) {
      auto bytes = good;
      bytes.insert(bytes.end(), extra, 0);
      expect_corrupt(bytes, "trailing bytes");
    }
    for (size_t pos = 0; pos < good.size(); ++pos) {
      auto bytes = good;
      bytes[pos] ^= uint8_t(1 + pos % 255);
      CAPTURE(pos);
      expect_corrupt(bytes, "flipped byte");
    }
    // decoding more or fewer symbols than were encoded
    std::vector<uint32_t> longer(msg.size() + 1), shorter(msg.size() - 1);
    CHECK(kind_of([&] { rans_decode(good, t, longer); }) == ErrorKind::corrupt);
    CHECK(kind_of([&] { rans_decode(good, t, shorter); }) == ErrorKind::corrupt);
  }
  SUBCASE("random garbage never crashes") {
    const auto t = FrequencyTable::from_counts(std::vector<uint64_t>{1, 2, 3, 1000, 5}, 16);
    std::mt19937_64 rng(8);
    std::vector<uint32_t> out(300);
    for (int trial = 0; trial < 500; ++trial) {
      std::vector<uint8_t> bytes(rng() % 400);
      for (auto& b : bytes) b = uint8_t(rng());
      // states in range half of the time so the decoder loop actually runs
      if (bytes.size() >= 32 && trial % 2)
        for (int j = 0; j < kRansStreams; ++j) bytes[8 * j + 7] = uint8_t(0x01 + (bytes[8 * j + 7] & 0x3F));
      try {
        rans_decode(bytes, t, out);
        // accepted: then every symbol must be one the table can code
        for (uint32_t s : out) REQUIRE((s < t.size() && t.freq[s] > 0));
      } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::corrupt);
      }
    }
  }
}

// A block's own indices mapped through to_table code exactly as the table's
// symbols would, and an index whose symbol cannot be coded is named as the
// table sees it.
TEST_CASE("rans encode through to_table equals encoding the mapped symbols") {
  const auto t = FrequencyTable::from_frequencies({5, 0, 7, 3, 9, 8}, 5);
  const std::vector<uint32_t> to_table = {4, 0, 2, 5};
  std::mt19937 rng(3);
  std::vector<uint32_t> local(10001), mapped(local.size());
  for (size_t i = 0; i < local.size(); ++i) local[i] = rng() % 4, mapped[i] = to_table[local[i]];
  CHECK(rans_encode(local, t, to_table) == rans_encode(mapped, t));
  const std::vector<uint32_t> to_zero = {4, 1};  // table symbol 1 has frequency 0
  expect_error([&] { rans_encode(std::vector<uint32_t>{0, 0, 1}, t, to_zero); }, ErrorKind::argument,
               {"symbol 1 at index 2", "frequency 0"});
  expect_error([&] { rans_encode(std::vector<uint32_t>{0, 7}, t, to_table); }, ErrorKind::argument, {"index 1"});
}
