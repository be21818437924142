// Context-adaptive coder (context_coder.hpp): round trips, random access,
// corrupt input, and what the contexts buy over order-0 coding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tests/support.hpp"
#include "vbq/context_coder.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::kind_of;

namespace {

// Order-0 empirical entropy of indices, in bits.
double order0_bits(const std::vector<uint32_t>& v) {
  std::vector<double> count(*std::max_element(v.begin(), v.end()) + 1, 0);
  for (uint32_t x : v) ++count[x];
  double bits = 0;
  for (double c : count)
    if (c > 0) bits -= c * std::log2(c / double(v.size()));
  return bits;
}

std::vector<uint32_t> uniform_indices(size_t n, uint32_t alphabet, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint32_t> u(0, alphabet - 1);
  std::vector<uint32_t> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Geometric(p) indices, capped at alphabet - 1: most mass on 0, a long tail.
std::vector<uint32_t> skewed_indices(size_t n, uint32_t alphabet, double p, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::geometric_distribution<uint32_t> g(p);
  std::vector<uint32_t> v(n);
  for (auto& x : v) x = std::min(g(rng), alphabet - 1);
  return v;
}

// rows x cols like the first layer of an MLP on images: a fraction of the rows
// (dead inputs) hold only index 0, the others i.i.d. indices rarely 0.
std::vector<uint32_t> run_heavy_indices(size_t rows, size_t cols, double dead_fraction, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution dead(dead_fraction);
  std::geometric_distribution<uint32_t> g(0.15);
  std::vector<uint32_t> v;
  for (size_t r = 0; r < rows; ++r) {
    const bool d = dead(rng);
    for (size_t c = 0; c < cols; ++c) v.push_back(d ? 0 : std::min<uint32_t>(g(rng), 40));
  }
  return v;
}

std::vector<uint32_t> decode_all(const ContextStream& s, int threads = 1) {
  std::vector<uint32_t> out(s.count);
  context_decode(s, out, threads);
  return out;
}

double coded_bits(const ContextStream& s) { return 8.0 * double(s.payload_bytes()); }

}  // namespace

TEST_CASE("context coder: round trip on random, skewed, run-heavy and tiny inputs") {
  struct Case {
    const char* name;
    std::vector<uint32_t> v;
    uint32_t alphabet;
    uint64_t row_length;
  };
  std::vector<Case> cases = {
      {"uniform 7", uniform_indices(5000, 7, 1), 7, 50},
      {"uniform 5000 (Exp-Golomb beyond the context tree)", uniform_indices(20000, 5000, 2), 5000, 100},
      {"skewed", skewed_indices(30000, 300, 0.2, 3), 300, 1},
      {"run-heavy", run_heavy_indices(120, 64, 0.4, 4), 41, 64},
      {"one element", {0}, 1, 1},
      {"one element, big alphabet", {12345}, 20000, 1},
      {"alphabet of one", std::vector<uint32_t>(999, 0), 1, 9},
      {"alphabet of two", uniform_indices(777, 2, 5), 2, 7},
      {"largest index of a 2^32 alphabet", {0, 0xFFFFFFFEu, 5, 0xFFFFFFFEu}, 0xFFFFFFFFu, 2},
      {"alphabet exactly kContextFlags + 1", uniform_indices(3000, kContextFlags + 1, 6), kContextFlags + 1, 30},
  };
  for (const Case& c : cases)
    for (uint64_t block : {uint64_t(1), uint64_t(7), c.row_length * 3, uint64_t(1) << 20}) {
      INFO(c.name << ", block " << block);
      const ContextStream s = context_encode(c.v, c.alphabet, c.row_length, block, 2);
      CHECK(s.blocks.size() == (c.v.size() + block - 1) / block);
      CHECK(decode_all(s) == c.v);
    }
}

TEST_CASE("context coder: rank-1 and rank-2 layouts, rows split by blocks, random access") {
  const auto v = run_heavy_indices(40, 25, 0.5, 7);
  for (uint64_t row_length : {uint64_t(1), uint64_t(25), uint64_t(1000)})
    for (uint64_t block : {uint64_t(25), uint64_t(60), uint64_t(333)}) {
      INFO("row length " << row_length << ", block " << block);
      const ContextStream s = context_encode(v, 41, row_length, block, 1);
      CHECK(decode_all(s, 2) == v);
      // Every range decodes from its own blocks only; a range inside one block
      // must not need the others, so damage the others first.
      for (auto [begin, end] : {std::pair<uint64_t, uint64_t>{0, 1}, {24, 26}, {100, 400}, {999, 1000}, {5, 5}}) {
        std::vector<uint32_t> part(end - begin);
        context_decode_range(s, begin, end, part);
        CHECK(std::equal(part.begin(), part.end(), v.begin() + begin));
      }
      ContextStream damaged = s;
      const uint64_t keep = 130 / block;  // the block holding element 130
      for (uint64_t b = 0; b < damaged.blocks.size(); ++b)
        if (b != keep) damaged.blocks[b].clear();
      std::vector<uint32_t> one(1);
      context_decode_range(damaged, 130, 131, one);
      CHECK(one[0] == v[130]);
    }
}

TEST_CASE("context coder: bytes do not depend on the thread count") {
  const auto v = skewed_indices(200000, 60, 0.3, 8);
  const ContextStream one = context_encode(v, 60, 100, 10000, 1);
  const ContextStream two = context_encode(v, 60, 100, 10000, 2);
  CHECK(one.blocks == two.blocks);
  CHECK(decode_all(one, 2) == v);
}

TEST_CASE("context coder: neighbour contexts beat order-0 entropy on runs, and stay near it on i.i.d. input") {
  // 784 x 400 like the first layer of a Fashion-MNIST MLP, 30% dead rows.
  const size_t rows = 784, cols = 400;
  const auto runs = run_heavy_indices(rows, cols, 0.3, 9);
  const ContextStream r = context_encode(runs, 41, cols, uint64_t(1) << 20, 2);
  // A coder told which rows are dead would pay the order-0 entropy of the live
  // rows' symbols; order-0 over the whole tensor pays -log2 P(0) for each element
  // of a dead row as well. Once "left" and "above" are 0 a dead row costs about
  // nothing, so the context coder comes close to the first: measured 0.892 x
  // order-0 and 1.061 x the live rows' entropy (the live rows' ~9 bins per
  // symbol each pay for the fast adaptation).
  std::vector<uint32_t> live;
  for (size_t row = 0; row < rows; ++row) {
    auto first = runs.begin() + std::ptrdiff_t(row * cols);
    if (std::any_of(first, first + std::ptrdiff_t(cols), [](uint32_t x) { return x != 0; }))
      live.insert(live.end(), first, first + std::ptrdiff_t(cols));
  }
  CHECK(coded_bits(r) < 0.92 * order0_bits(runs));
  CHECK(coded_bits(r) < 1.08 * order0_bits(live));
  // i.i.d.: contexts cannot help, adaptation costs a little: measured +1.3%
  // (geometric) and +1.9% (uniform over 100).
  const auto iid = skewed_indices(400000, 200, 0.25, 10);
  const ContextStream s = context_encode(iid, 200, 400, uint64_t(1) << 20, 2);
  CHECK(coded_bits(s) < 1.03 * order0_bits(iid));
  const auto flat = uniform_indices(400000, 100, 11);
  const ContextStream f = context_encode(flat, 100, 400, uint64_t(1) << 20, 2);
  CHECK(coded_bits(f) < 1.03 * order0_bits(flat));
}

TEST_CASE("context coder: bad arguments") {
  const std::vector<uint32_t> v = {0, 1, 2, 3};
  expect_error([&] { context_encode(v, 3, 2, 4); }, ErrorKind::argument, {"index 3", "position 3"});
  expect_error([&] { context_encode({}, 3, 2, 4); }, ErrorKind::argument, {"empty"});
  expect_error([&] { context_encode(v, 4, 2, 0); }, ErrorKind::argument, {"block size"});
  expect_error([&] { context_encode(v, 4, 0, 4); }, ErrorKind::argument, {"row length"});
  expect_error([&] { context_encode(v, 0, 2, 4); }, ErrorKind::argument, {"alphabet size"});
  const ContextStream s = context_encode(v, 4, 2, 3);
  std::vector<uint32_t> out(3);
  expect_error([&] { context_decode(s, out); }, ErrorKind::argument, {"output size"});
  expect_error([&] { context_decode_range(s, 2, 5, out); }, ErrorKind::argument, {"[2, 5)"});
}

TEST_CASE("context coder: truncated, extended, garbage and inconsistent streams are corrupt") {
  const auto v = run_heavy_indices(50, 40, 0.3, 12);
  const ContextStream s = context_encode(v, 41, 40, 1000, 1);
  std::vector<uint32_t> out(v.size());
  // Every truncation and one extra byte.
  const std::vector<uint8_t>& b0 = s.blocks[0];
  for (size_t len = 0; len < b0.size(); ++len) {
    ContextStream t = s;
    t.blocks[0].resize(len);
    CHECK(kind_of([&] { context_decode(t, out); }) == ErrorKind::corrupt);
  }
  ContextStream longer = s;
  longer.blocks[1].push_back(0);
  expect_error([&] { context_decode(longer, out); }, ErrorKind::corrupt, {"block 1", "trailing"});
  // Random bytes of every length up to 300, in every block: an error or (rarely)
  // some valid indices, never a crash or a read outside the bytes (ASan build).
  std::mt19937_64 rng(13);
  int rejected = 0, tries = 0;
  for (size_t len = 0; len < 300; ++len)
    for (int rep = 0; rep < 3; ++rep) {
      ContextStream g = s;
      for (auto& blk : g.blocks) {
        blk.resize(len);
        for (auto& x : blk) x = uint8_t(rng());
      }
      ++tries;
      try {
        context_decode(g, out);
        for (uint32_t x : out) REQUIRE(x < s.alphabet_size);
      } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::corrupt);
        ++rejected;
      }
    }
  CHECK(rejected > tries * 9 / 10);
  // Single flipped bytes: either detected or a wrong but in-range decode.
  for (size_t i = 0; i < b0.size(); ++i) {
    ContextStream f = s;
    f.blocks[0][i] ^= 0x5A;
    try {
      context_decode(f, out);
      for (uint32_t x : out) REQUIRE(x < s.alphabet_size);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::corrupt);
    }
  }
  // A big alphabet with a small declared one: decoded indices leave the alphabet.
  const auto wide = uniform_indices(2000, 5000, 14);
  ContextStream narrow = context_encode(wide, 5000, 1, 2000, 1);
  narrow.alphabet_size = 50;
  expect_error([&] { decode_all(narrow); }, ErrorKind::corrupt, {"block 0"});
  ContextStream missing = s;
  missing.blocks.pop_back();
  expect_error([&] { context_decode(missing, out); }, ErrorKind::corrupt, {"block count"});
  ContextStream zero_row = s;
  zero_row.row_length = 0;
  expect_error([&] { context_decode(zero_row, out); }, ErrorKind::corrupt, {"row length"});
}
