// Determinism: the bytes of a compressed model never depend on the thread count
// or on the run, and decoding gives the same floats on any thread count.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "formats/atomic_file.hpp"
#include "formats/container.hpp"
#include "formats/hdf5_model.hpp"
#include "app/model_codec.hpp"
#include "tests/support.hpp"
#include "vbq/codec.hpp"

using namespace vbq;

namespace {

// Two tensors, 200,000 parameters in all, with per-parameter spreads.
Model determinism_model() {
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> z(0.0, 1.0);
  Model m;
  for (auto [name, rows, cols] : {std::tuple{"word", 1000, 150}, std::tuple{"context", 500, 100}}) {
    Tensor t;
    t.name = name;
    t.mean_path = std::string(name) + "/mean";
    t.shape = {uint64_t(rows), uint64_t(cols)};
    for (int i = 0; i < rows * cols; ++i) {
      t.mu.push_back(0.3 * z(rng));
      t.sigma.push_back(std::exp(-3.0 + 0.8 * z(rng)));
    }
    m.tensors.push_back(std::move(t));
  }
  for (int i = 0; i < 1000; ++i) m.vocab.push_back("w" + std::to_string(i));
  return m;
}

std::string compress_bytes(const Model& m, int threads) {
  CompressSettings s;
  s.vbq.lambda = 0.5;
  s.vbq.threads = threads;
  return serialize_container(compress_model(m, s));
}

}  // namespace

TEST_CASE("determinism: compressed bytes do not depend on thread count or run") {
  const Model m = determinism_model();
  const std::string one = compress_bytes(m, 1);
  CHECK(compress_bytes(m, 1) == one);  // twice in a row
  CHECK(compress_bytes(m, 2) == one);
  CHECK(compress_bytes(m, 8) == one);
  CHECK(compress_bytes(m, 8) == one);

  // Decoding on another thread count gives the same floats, bit for bit.
  Container c = parse_container(one, "determinism");
  Model a = restore_model(c, 1), b = restore_model(c, 8);
  REQUIRE(a.tensors.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    REQUIRE(a.tensors[i].mu.size() == m.tensors[i].mu.size());
    CHECK(std::memcmp(a.tensors[i].mu.data(), b.tensors[i].mu.data(), a.tensors[i].mu.size() * sizeof(double)) == 0);
  }
}

TEST_CASE("determinism: many small blocks encode and decode alike on 1, 2 and 8 threads") {
  // The default block holds 2^20 symbols, so the model above is one block per
  // tensor; here 4096-symbol blocks make the block-parallel paths run.
  std::mt19937_64 rng(7);
  std::geometric_distribution<uint64_t> g(0.2);
  std::vector<uint64_t> symbols(100000);
  for (auto& s : symbols) s = g(rng);
  auto as_bytes = [](const SymbolStream& s) {
    EncodedTensor t;
    t.name = "s";
    t.quantizer = QuantizerKind::codebook;
    t.values.resize(s.alphabet.back() + 1, 0.0);
    for (size_t i = 0; i < t.values.size(); ++i) t.values[i] = double(i);
    t.shape = {s.count};
    t.symbols = s;
    Container c;
    c.tensors.push_back(std::move(t));
    return serialize_container(c);
  };
  const std::string one = as_bytes(encode_symbols(symbols, 1, 4096));
  CHECK(as_bytes(encode_symbols(symbols, 2, 4096)) == one);
  CHECK(as_bytes(encode_symbols(symbols, 8, 4096)) == one);
  Container c = parse_container(one, "blocks");
  REQUIRE(c.tensors[0].symbols.blocks.size() == 25);
  std::vector<double> d1 = decode_tensor(c.tensors[0], 1), d8 = decode_tensor(c.tensors[0], 8);
  REQUIRE(d1.size() == symbols.size());
  CHECK(d1 == d8);
  for (size_t i = 0; i < symbols.size(); i += 997) CHECK(d1[i] == double(symbols[i]));
}

TEST_CASE("determinism: vbq compress -T 1 and -T 2 write identical files") {
  vbq::testing::TempDir tmp("determinism");
  Model m = determinism_model();
  m.tensors.pop_back();
  m.tensors[0].shape = {200, 150};
  m.tensors[0].mu.resize(30000), m.tensors[0].sigma.resize(30000);
  m.vocab.resize(200);
  write_model(tmp.file("in.h5"), m, true);
  std::string base = std::string("'") + VBQ_BINARY + "' compress '" + tmp.file("in.h5") + "' 2>/dev/null -o '";
  CHECK(std::system((base + tmp.file("t1.vbq") + "' -T 1").c_str()) == 0);
  CHECK(std::system((base + tmp.file("t2.vbq") + "' -T 2").c_str()) == 0);
  std::string t1 = read_file_bytes(tmp.file("t1.vbq")), t2 = read_file_bytes(tmp.file("t2.vbq"));
  CHECK(t1.size() > 1000);
  CHECK(t1 == t2);
}
