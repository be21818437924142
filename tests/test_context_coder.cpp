// Context-adaptive coder (context_coder.hpp), alone and as the coder of a
// SymbolStream (EntropyCoder::context): round trips, random access, corrupt
// input, and what the contexts buy over order-0 coding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tests/support.hpp"
#include "vbq/codec.hpp"
#include "vbq/context_coder.hpp"
#include "vbq/error.hpp"
#include "vbq/symbol_stream.hpp"

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

// The indices as a message coded by the context coder in blocks.
SymbolStream context_stream(const std::vector<uint32_t>& v, uint64_t row_length, uint64_t block, int threads = 1) {
  return encode_symbols(std::vector<uint64_t>(v.begin(), v.end()), threads, block, true, EntropyCoder::context,
                        row_length);
}

std::vector<uint32_t> decode_all(const SymbolStream& s, int threads = 1) {
  std::vector<uint32_t> idx(s.count);
  decode_symbol_indices(s, idx, threads);
  std::vector<uint32_t> out;
  for (uint32_t i : idx) out.push_back(uint32_t(s.alphabet[i]));
  return out;
}

std::vector<uint32_t> block_round_trip(const std::vector<uint32_t>& v, uint32_t alphabet, uint64_t row_length,
                                       uint64_t first_column = 0) {
  const std::vector<uint8_t> bytes = context_encode_block(v, alphabet, row_length, first_column);
  std::vector<uint32_t> out(v.size());
  context_decode_block(bytes, alphabet, row_length, out, first_column);
  return out;
}

double coded_bits(const SymbolStream& s) { return 8.0 * double(s.payload_bytes()); }

}  // namespace

TEST_CASE("context coder: block round trip on random, skewed, run-heavy and tiny inputs") {
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
      {"empty", {}, 3, 1},
      {"one element", {0}, 1, 1},
      {"one element, big alphabet", {12345}, 20000, 1},
      {"alphabet of one", std::vector<uint32_t>(999, 0), 1, 9},
      {"alphabet of two", uniform_indices(777, 2, 5), 2, 7},
      {"largest index of a 2^32 alphabet", {0, 0xFFFFFFFEu, 5, 0xFFFFFFFEu}, 0xFFFFFFFFu, 2},
      {"alphabet exactly kContextFlags + 1", uniform_indices(3000, kContextFlags + 1, 6), kContextFlags + 1, 30},
  };
  for (const Case& c : cases)
    for (uint64_t first_column : {uint64_t(0), c.row_length - 1}) {
      INFO(c.name << ", first column " << first_column);
      CHECK(block_round_trip(c.v, c.alphabet, c.row_length, first_column) == c.v);
    }
  // The per-element costs are what the coder pays: their sum is the stream's
  // size to within its 4-byte flush.
  const auto& skewed = cases[2];
  const std::vector<double> bits = context_code_lengths_block(skewed.v, skewed.alphabet, skewed.row_length);
  double total = 0;
  for (double b : bits) total += b;
  const double coded = 8.0 * double(context_encode_block(skewed.v, skewed.alphabet, skewed.row_length).size());
  CHECK(coded >= total);
  CHECK(coded <= total + 40);
}

TEST_CASE("context coder: streams in blocks of rank-1 and rank-2 layouts, random access") {
  const auto v = run_heavy_indices(40, 25, 0.5, 7);
  for (uint64_t row_length : {uint64_t(1), uint64_t(25), uint64_t(1000)})
    for (uint64_t block : {uint64_t(1), uint64_t(25), uint64_t(60), uint64_t(333), uint64_t(1) << 20}) {
      INFO("row length " << row_length << ", block " << block);
      const SymbolStream s = context_stream(v, row_length, block);
      CHECK(s.tables.empty());
      CHECK(s.blocks.size() == (v.size() + block - 1) / block);
      CHECK(decode_all(s, 2) == v);
      for (auto [begin, end] : {std::pair<uint64_t, uint64_t>{0, 1}, {24, 26}, {100, 400}, {999, 1000}, {5, 5}}) {
        std::vector<uint32_t> part(end - begin);
        decode_symbol_range(s, begin, end, part);
        for (uint64_t i = begin; i < end; ++i) CHECK(s.alphabet[part[i - begin]] == v[i]);
      }
      // A range decodes from its own block only: damage all the others.
      SymbolStream damaged = s;
      const uint64_t keep = 130 / block;
      for (uint64_t b = 0; b < damaged.blocks.size(); ++b)
        if (b != keep) damaged.blocks[b].clear();
      std::vector<uint32_t> one(1);
      decode_symbol_range(damaged, 130, 131, one);
      CHECK(damaged.alphabet[one[0]] == v[130]);
    }
}

TEST_CASE("context coder: a rANS stream recoded with the context coder decodes to the same symbols") {
  const auto v = run_heavy_indices(300, 100, 0.3, 15);
  const std::vector<uint64_t> symbols(v.begin(), v.end());
  const SymbolStream rans = encode_symbols(symbols, 2, 2000, true);
  const SymbolStream ctx = recode_with_context(rans, 100, 2);
  CHECK(ctx.coder == EntropyCoder::context);
  CHECK(ctx.alphabet == rans.alphabet);
  CHECK(ctx.blocks == context_stream(v, 100, 2000, 2).blocks);
  CHECK(decode_all(ctx) == v);
}

TEST_CASE("context coder: bytes do not depend on the thread count") {
  const auto v = skewed_indices(200000, 60, 0.3, 8);
  const SymbolStream one = context_stream(v, 100, 10000, 1);
  const SymbolStream two = context_stream(v, 100, 10000, 2);
  CHECK(one.blocks == two.blocks);
  CHECK(decode_all(one, 2) == v);
}

TEST_CASE("context coder: neighbour contexts beat order-0 entropy on runs, and stay near it on i.i.d. input") {
  // 784 x 400 like the first layer of a Fashion-MNIST MLP, 30% dead rows.
  const size_t rows = 784, cols = 400;
  const auto runs = run_heavy_indices(rows, cols, 0.3, 9);
  const SymbolStream r = context_stream(runs, cols, uint64_t(1) << 20, 2);
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
  const SymbolStream s = context_stream(iid, 400, uint64_t(1) << 20, 2);
  CHECK(coded_bits(s) < 1.03 * order0_bits(iid));
  const auto flat = uniform_indices(400000, 100, 11);
  const SymbolStream f = context_stream(flat, 400, uint64_t(1) << 20, 2);
  CHECK(coded_bits(f) < 1.03 * order0_bits(flat));
}

TEST_CASE("context coder: bad arguments") {
  const std::vector<uint32_t> v = {0, 1, 2, 3};
  expect_error([&] { context_encode_block(v, 3, 2); }, ErrorKind::argument, {"index 3", "position 3"});
  expect_error([&] { context_encode_block(v, 4, 0); }, ErrorKind::argument, {"row length"});
  expect_error([&] { context_encode_block(v, 0, 2); }, ErrorKind::argument, {"alphabet size"});
  expect_error([&] { context_encode_block(v, 4, 2, 2); }, ErrorKind::argument, {"first column 2"});
  expect_error([&] { context_code_lengths_block(v, 3, 2); }, ErrorKind::argument, {"index 3"});
  expect_error([&] { context_stream(v, 0, 4); }, ErrorKind::argument, {"row length"});
}

TEST_CASE("context coder: truncated, extended, garbage and inconsistent streams are corrupt") {
  const auto v = run_heavy_indices(50, 40, 0.3, 12);
  const std::vector<uint8_t> bytes = context_encode_block(v, 41, 40);
  std::vector<uint32_t> out(v.size());
  auto decode = [&](std::span<const uint8_t> b, uint32_t alphabet = 41) { context_decode_block(b, alphabet, 40, out); };
  // Every truncation and one extra byte.
  for (size_t len = 0; len < bytes.size(); ++len)
    CHECK(kind_of([&] { decode(std::span(bytes).first(len)); }) == ErrorKind::corrupt);
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  expect_error([&] { decode(longer); }, ErrorKind::corrupt, {"trailing"});
  // Random bytes of every length up to 300: an error or (rarely) some valid
  // indices, never a crash or a read outside the bytes (ASan build).
  std::mt19937_64 rng(13);
  int rejected = 0, tries = 0;
  for (size_t len = 0; len < 300; ++len)
    for (int rep = 0; rep < 3; ++rep) {
      std::vector<uint8_t> g(len);
      for (auto& x : g) x = uint8_t(rng());
      ++tries;
      try {
        decode(g);
        for (uint32_t x : out) REQUIRE(x < 41);
      } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::corrupt);
        ++rejected;
      }
    }
  CHECK(rejected > tries * 9 / 10);
  // Single flipped bytes: either detected or a wrong but in-range decode.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> f = bytes;
    f[i] ^= 0x5A;
    try {
      decode(f);
      for (uint32_t x : out) REQUIRE(x < 41);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::corrupt);
    }
  }
  // Decoded with a smaller alphabet than it was coded with: indices leave it.
  const auto wide = uniform_indices(2000, 5000, 14);
  const std::vector<uint8_t> wide_bytes = context_encode_block(wide, 5000, 1);
  std::vector<uint32_t> wide_out(wide.size());
  CHECK(kind_of([&] { context_decode_block(wide_bytes, 50, 1, wide_out); }) == ErrorKind::corrupt);
  CHECK(kind_of([&] { context_decode_block(wide_bytes, 0, 1, wide_out); }) == ErrorKind::corrupt);
  // Streams: the failing block is named; inconsistent fields are corrupt.
  const SymbolStream s = context_stream(v, 40, 1000);
  SymbolStream cut = s;
  cut.blocks[1].pop_back();
  expect_error([&] { decode_all(cut); }, ErrorKind::corrupt, {"block 1", "truncated"});
  SymbolStream missing = s;
  missing.blocks.pop_back();
  expect_error([&] { decode_all(missing); }, ErrorKind::corrupt, {"block count"});
  SymbolStream zero_row = s;
  zero_row.row_length = 0;
  expect_error([&] { decode_all(zero_row); }, ErrorKind::corrupt, {"row length"});
  SymbolStream unknown = s;
  unknown.coder = EntropyCoder(7);
  CHECK(kind_of([&] { decode_all(unknown); }) == ErrorKind::unsupported);
}

TEST_CASE("context coder: tensors of every quantizer, decoded whole and by rows") {
  // 60 x 50 means, rows 10..29 "dead" (all near 0), the rest spread out.
  std::mt19937_64 rng(16);
  std::normal_distribution<double> normal(0.0, 1.0);
  const std::vector<uint64_t> shape = {60, 50};
  std::vector<double> mu(3000), sigma(3000);
  for (size_t i = 0; i < mu.size(); ++i) {
    const bool dead = i / 50 >= 10 && i / 50 < 30;
    mu[i] = dead ? 1e-4 * normal(rng) : normal(rng);
    sigma[i] = dead ? 1.0 : 0.05;
  }
  VbqSettings vs;
  vs.lambda = 0.1;
  VbqSettings vs_ctx = vs;
  vs_ctx.coder = EntropyCoder::context;
  const std::pair<EncodedTensor, EncodedTensor> pairs[] = {
      {encode_vbq(mu, sigma, vs, shape), encode_vbq(mu, sigma, vs_ctx, shape)},
      {encode_grid(mu, 7, 2, shape), encode_grid(mu, 7, 2, shape, EntropyCoder::context)},
      {encode_codebook(mu, {-1, 0, 1}, 2, shape), encode_codebook(mu, {-1, 0, 1}, 2, shape, EntropyCoder::context)},
  };
  for (const auto& [rans, ctx] : pairs) {
    CHECK(ctx.symbols.coder == EntropyCoder::context);
    CHECK(ctx.symbols.row_length == 50);
    CHECK(ctx.symbols.alphabet == rans.symbols.alphabet);
    const std::vector<double> whole = decode_tensor(ctx, 2);
    CHECK(whole == decode_tensor(rans, 2));
    const std::vector<double> rows = decode_rows(ctx, 25, 3);
    CHECK(std::equal(rows.begin(), rows.end(), whole.begin() + 25 * 50));
    // The per-element costs add up to the payload, to within the flush.
    const std::vector<double> bits = element_code_lengths(ctx, 2);
    REQUIRE(bits.size() == mu.size());
    double total = 0;
    for (double b : bits) total += b;
    CHECK(total <= 8.0 * double(ctx.symbols.payload_bytes()));
    CHECK(total >= 8.0 * double(ctx.symbols.payload_bytes()) - 32);
  }
}
