// Block tables: runs of blocks with their own frequency table (symbol_stream.hpp).
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <vector>

#include "formats/container.hpp"
#include "tests/support.hpp"
#include "vbq/codec.hpp"
#include "vbq/error.hpp"
#include "vbq/symbol_stream.hpp"

using namespace vbq;
using vbq::testing::expect_error;

namespace {

// blocks x block_symbols symbols; block b draws from a geometric distribution
// over symbols 10 + shift(b), ..., so the statistics change where shift does.
std::vector<uint64_t> drifting_message(size_t blocks, size_t block_symbols, size_t (*shift)(size_t), uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::geometric_distribution<uint64_t> g(0.3);
  std::vector<uint64_t> m;
  for (size_t b = 0; b < blocks; ++b)
    for (size_t i = 0; i < block_symbols; ++i) m.push_back(10 + shift(b) + std::min<uint64_t>(g(rng), 40));
  return m;
}

std::vector<uint64_t> decode_symbols(const SymbolStream& s) {
  std::vector<uint32_t> idx(s.count);
  decode_symbol_indices(s, idx, 2);
  std::vector<uint64_t> out;
  for (uint32_t i : idx) out.push_back(s.alphabet[i]);
  return out;
}

}  // namespace

TEST_CASE("symbol stream: drifting statistics get one table per run of similar blocks") {
  // Blocks 0-3 centred on 10, blocks 4-7 on 30, blocks 8-9 back on 10.
  const size_t B = 10, n = 4000;
  const auto msg = drifting_message(B, n, [](size_t b) -> size_t { return b >= 4 && b < 8 ? 20 : 0; }, 1);
  const SymbolStream shared = encode_symbols(msg, 2, n, false);
  const SymbolStream runs = encode_symbols(msg, 2, n, true);
  CHECK(shared.tables.size() == 1);
  REQUIRE(runs.tables.size() == 3);
  CHECK(runs.block_table == std::vector<uint32_t>{0, 0, 0, 0, 1, 1, 1, 1, 2, 2});
  CHECK(decode_symbols(runs) == msg);
  CHECK(decode_symbols(shared) == msg);
  // The split pays: about one bit per symbol (which of the two centres) saved.
  CHECK(double(runs.payload_bytes()) < 0.9 * double(shared.payload_bytes()));
  // A table gives 0 to symbols its blocks never use.
  CHECK(runs.tables[1].freq[0] == 0);
  // Thread count never changes the bytes.
  const SymbolStream one = encode_symbols(msg, 1, n, true);
  CHECK(one.block_table == runs.block_table);
  CHECK(one.blocks == runs.blocks);
}

TEST_CASE("symbol stream: stationary statistics keep a single table") {
  const auto msg = drifting_message(12, 3000, [](size_t) -> size_t { return 0; }, 2);
  const SymbolStream s = encode_symbols(msg, 2, 3000, true);
  CHECK(s.tables.size() == 1);
  CHECK(s.block_table == std::vector<uint32_t>(12, 0));
  CHECK(decode_symbols(s) == msg);
  std::vector<uint32_t> part(3000);
  decode_symbol_range(s, 5000, 8000, part);
  CHECK(s.alphabet[part[0]] == msg[5000]);
}

TEST_CASE("symbol stream: block tables survive the container, and bad table indices are corrupt") {
  const size_t n = 2000;
  const auto msg = drifting_message(6, n, [](size_t b) -> size_t { return b < 3 ? 0 : 25; }, 3);
  EncodedTensor t;
  t.name = "codebook";
  t.quantizer = QuantizerKind::codebook;
  t.shape = {6 * n};
  const SymbolStream s = encode_symbols(msg, 2, n, true);
  REQUIRE(s.tables.size() == 2);
  for (uint64_t x : s.alphabet) t.values.push_back(double(x));
  std::vector<uint64_t> indices;
  for (uint64_t x : msg) indices.push_back(uint64_t(std::lower_bound(s.alphabet.begin(), s.alphabet.end(), x) - s.alphabet.begin()));
  t.symbols = encode_symbols(indices, 2, n, true);
  Container c;
  c.tensors.push_back(t);
  const std::string bytes = serialize_container(c);
  Container back = parse_container(bytes, "mem.vbq");
  CHECK(back.tensors[0].symbols.block_table == t.symbols.block_table);
  CHECK(decode_tensor(back.tensors[0]) == decode_tensor(t));
  // Every truncation is rejected.
  for (size_t k = 0; k < bytes.size(); k += 97) CHECK_THROWS_AS(parse_container(bytes.substr(0, k), "cut.vbq"), Error);
  // A block naming a table that does not exist (checksums are recomputed by the writer).
  c.tensors[0].symbols.block_table[4] = 7;
  expect_error([&] { parse_container(serialize_container(c), "bad.vbq"); }, ErrorKind::corrupt,
               {"block 4 names frequency table 7 of 2"});
}

// plan_symbol_stream from per-block counts, then encode_block block by block,
// is encode_symbols: drifting blocks (3 tables), a short last block, symbols
// beyond the direct-table range (hashed alphabet), one table or per-run
// tables, and the context coder.
TEST_CASE("symbol stream: plan_symbol_stream and encode_block give encode_symbols' stream") {
  const size_t n = 4000;
  auto msg = drifting_message(10, n, [](size_t b) -> size_t { return b >= 4 && b < 8 ? 20 : 0; }, 3);
  msg.resize(msg.size() - 1234);
  for (size_t i = 0; i < msg.size(); i += 997) msg[i] += uint64_t(1) << 40;
  for (EntropyCoder coder : {EntropyCoder::rans, EntropyCoder::context})
    for (bool block_tables : {true, false}) {
      CAPTURE(block_tables);
      const SymbolStream expected = encode_symbols(msg, 2, n, block_tables, coder, 50);
      std::vector<std::vector<uint64_t>> counts;
      for (size_t begin = 0; begin < msg.size(); begin += n) {
        counts.emplace_back(expected.alphabet.size(), 0);
        for (size_t i = begin; i < std::min(begin + n, msg.size()); ++i)
          ++counts.back()[size_t(std::lower_bound(expected.alphabet.begin(), expected.alphabet.end(), msg[i]) -
                                 expected.alphabet.begin())];
      }
      SymbolStream s = plan_symbol_stream(expected.alphabet, counts, n, block_tables, coder, 50);
      CHECK(s.count == expected.count);
      CHECK(s.block_table == expected.block_table);
      REQUIRE(s.tables.size() == expected.tables.size());
      for (size_t k = 0; k < s.tables.size(); ++k) CHECK(s.tables[k].freq == expected.tables[k].freq);
      for (size_t begin = 0; begin < msg.size(); begin += n)
        s.blocks.push_back(encode_block(s, begin / n, std::span(msg).subspan(begin, std::min(n, msg.size() - begin))));
      CHECK(s.blocks == expected.blocks);
      // The same blocks from their distinct symbols and each symbol's index into them.
      for (size_t begin = 0; begin < msg.size(); begin += n) {
        const std::span<const uint64_t> block = std::span(msg).subspan(begin, std::min(n, msg.size() - begin));
        std::vector<uint32_t> indices(block.size());
        const SymbolCounts h = symbol_counts(block, indices);
        CHECK(encode_block(s, begin / n, h.symbols, indices) == expected.blocks[begin / n]);
      }
      std::vector<uint64_t> unknown(n, 5);  // symbol 5 is not in the alphabet
      CHECK(vbq::testing::kind_of([&] { encode_block(s, 0, unknown); }) == ErrorKind::argument);
    }
}

// symbol_counts against a std::map, on messages whose symbols are small (a
// direct table), large (a hash table beside it) or both, at sizes that change
// the direct table's size.
TEST_CASE("symbol stream: symbol_counts holds small and large symbols alike") {
  std::mt19937_64 rng(7);
  for (size_t n : {size_t(1), size_t(1000), size_t(1) << 21}) {
    for (uint64_t large : {uint64_t(0), uint64_t(1) << 16, uint64_t(1) << 20, uint64_t(1) << 40}) {
      CAPTURE(n);
      CAPTURE(large);
      std::vector<uint64_t> m(n);
      for (uint64_t& x : m) x = rng() % 8 == 0 && large ? large + rng() % 5000 : rng() % 300;
      std::vector<uint32_t> indices(n);
      const SymbolCounts h = symbol_counts(m, indices);
      std::map<uint64_t, uint64_t> want;
      for (uint64_t x : m) ++want[x];
      REQUIRE(h.symbols.size() == want.size());
      size_t k = 0;
      bool same = true;
      for (const auto& [x, c] : want) same = same && h.symbols[k] == x && h.counts[k] == c, ++k;
      CHECK(same);
      bool mapped = true;
      for (size_t i = 0; i < n; ++i) mapped = mapped && h.symbols[indices[i]] == m[i];
      CHECK(mapped);
    }
  }
}
