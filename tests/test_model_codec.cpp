#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "app/model_codec.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::TempDir;

namespace {
// Two tensors of 300 rows, a vocabulary with a word that looks like a number.
Model sample_model() {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> z(0.0, 0.3);
  Model m;
  for (auto [name, cols] : {std::pair{"word", 8}, std::pair{"context", 5}}) {
    Tensor t;
    t.name = name;
    t.mean_path = std::string(name) + "/mean";
    t.shape = {300, uint64_t(cols)};
    for (int i = 0; i < 300 * cols; ++i) t.mu.push_back(z(rng)), t.sigma.push_back(0.02 + 0.1 * std::fabs(z(rng)));
    m.tensors.push_back(std::move(t));
  }
  for (int i = 0; i < 300; ++i) m.vocab.push_back(i == 5 ? "1990" : "w" + std::to_string(i));
  return m;
}
}  // namespace

TEST_CASE("model_codec: compress_model keeps names, shapes and row-aligned blocks") {
  Model m = sample_model();
  Container c = compress_model(m, CompressSettings{});
  REQUIRE(c.tensors.size() == 2);
  CHECK(c.tensors[0].name == "word");
  CHECK(c.tensors[0].mean_path == "word/mean");
  CHECK(c.tensors[0].shape == std::vector<uint64_t>{300, 8});
  CHECK(c.tensors[1].symbols.block_symbols % 5 == 0);
  CHECK(c.vocab == m.vocab);
}

TEST_CASE("model_codec: get_row decodes one word's vector, by word or by row") {
  Model m = sample_model();
  Container c = compress_model(m, CompressSettings{});
  Model full = restore_model(c);
  auto row_of = [&](size_t tensor, uint64_t row) {
    const Tensor& t = full.tensors[tensor];
    const size_t len = t.shape[1];
    return std::vector<double>(t.mu.begin() + row * len, t.mu.begin() + (row + 1) * len);
  };
  DecodedRow r = get_row(c, "w42");
  CHECK(r.tensor == "word");
  CHECK(r.row == 42);
  CHECK(r.word == "w42");
  CHECK(r.values == row_of(0, 42));

  r = get_row(c, "17", "context");
  CHECK(r.row == 17);
  CHECK(r.word == "w17");
  CHECK(r.values == row_of(1, 17));

  {  // the same from the file, mapped: only the row's blocks are read
    TempDir d("get_row");
    Container more = c;  // and a tensor of three blocks, a row each
    std::vector<double> mu(3 * 600000), sigma(mu.size(), 0.1);
    for (size_t i = 0; i < mu.size(); ++i) mu[i] = std::sin(0.001 * double(i));
    const uint64_t shape[] = {3, 600000};
    more.tensors.push_back(encode_vbq(mu, sigma, VbqSettings{}, shape));
    more.tensors.back().name = "long";
    REQUIRE(more.tensors.back().symbols.blocks.size() == 3);
    write_container(d.file("m.vbq"), more, false);
    const MappedContainer mapped(d.file("m.vbq"));
    for (const char* key : {"0", "1", "w42", "299"})
      for (const char* tensor : {"word", "context", "long"}) {
        CAPTURE(key);
        CAPTURE(tensor);
        if (std::string(tensor) == "long" && std::string(key).size() > 1) continue;  // rows 0 and 1 only
        const DecodedRow want = get_row(more, key, tensor);
        CHECK(get_row(mapped, key, tensor).values == want.values);
      }
  }
  CHECK(get_row(c, "1990").row == 5);                      // a word first...
  CHECK_THROWS_AS(get_row(c, "1990", "", true), Error);    // ...a row number with as_row: 1990 >= 300 rows
  CHECK(get_row(c, "299", "", true).values == row_of(0, 299));

  auto lookup = [&](std::string key, std::string tensor = "") {  // a get_row call on "m.vbq"
    return [&c, key, tensor] { get_row(c, key, tensor, false, "m.vbq"); };
  };
  expect_error(lookup("nope"), ErrorKind::argument, {"neither a word of the vocabulary of m.vbq nor a row number"});
  expect_error(lookup("300"), ErrorKind::argument, {"row 300 does not exist"});
  expect_error(lookup("-1"), ErrorKind::argument, {"nor a row number"});
  expect_error(lookup("3", "bias"), ErrorKind::argument, {"m.vbq has no tensor 'bias'"});
}

namespace {
// A valid container of one constant tensor (all symbols 0, coded in zero bits:
// each 2^24-symbol block is just its 32-byte rANS state).
std::string constant_container(std::vector<uint64_t> shape) {
  const uint64_t block = uint64_t(1) << 24;
  std::vector<uint32_t> zeros(block, 0);
  EncodedTensor t;
  t.name = "huge";
  t.shape = std::move(shape);
  t.values = {1.0};
  t.quantizer = QuantizerKind::grid;
  t.symbols.alphabet = {0};
  t.symbols.tables = {FrequencyTable::from_counts(std::vector<uint64_t>{1}, 12)};
  t.symbols.count = t.element_count();
  t.symbols.block_symbols = block;
  t.symbols.blocks.assign(t.symbols.count / block, rans_encode(zeros, t.symbols.tables[0]));
  t.symbols.block_table.assign(t.symbols.blocks.size(), 0);
  Container c;
  c.tensors.push_back(std::move(t));
  return serialize_container(c);
}
}  // namespace

// 2^40 elements in 2 MB: decoding would need 12 TiB; restore_model says so first.
TEST_CASE("model_codec: a tiny container declaring a huge tensor is refused before allocating") {
  const std::string bytes = constant_container({uint64_t(1) << 20, uint64_t(1) << 20});
  CHECK(bytes.size() < 3'000'000);
  Container parsed = parse_container(bytes, "huge.vbq");  // valid
  CHECK(decode_rows(parsed.tensors[0], 123456).size() == size_t(1) << 20);  // one row decodes fine
  expect_error([&] { restore_model(parsed, 1, "huge.vbq"); }, ErrorKind::unsupported,
               {"huge.vbq: decoding 1099511627776 elements needs 12288.0 GiB"});
}

// 2^28 elements in 650 bytes would decode to 3 GiB: more than 2^16 x the file.
TEST_CASE("model_codec: a 1 KB file cannot make the decoder allocate gigabytes") {
  const std::string bytes = constant_container({uint64_t(1) << 28});
  CHECK(bytes.size() < 1024);
  Container parsed = parse_container(bytes, "small.vbq");
  CHECK(parsed.source_bytes == bytes.size());
  expect_error([&] { restore_model(parsed, 1, "small.vbq"); }, ErrorKind::unsupported,
               {"budget of 256.0 MiB (2^16 x the input's size"});
  // The same tensor at a size a real model could have decodes (a constant).
  Container fine = parse_container(constant_container({uint64_t(1) << 24}), "fine.vbq");
  Model m = restore_model(fine, 1, "fine.vbq");
  CHECK(m.tensors[0].mu.size() == size_t(1) << 24);
  CHECK(m.tensors[0].mu[12345] == 0.0);  // grid symbol 0: level 0
}

TEST_CASE("model_codec: spreads for point estimates: constant, from counts, Zipf") {
  Model m = sample_model();  // word and context: 300 rows each
  Tensor bias;
  bias.name = "bias";
  bias.shape = {7};
  bias.mu.assign(7, 0.5);
  m.tensors.push_back(bias);
  assign_spread(m, 0.1, SpreadRule::constant);
  for (const Tensor& t : m.tensors) CHECK(t.sigma == std::vector<double>(t.mu.size(), 0.1));

  CHECK_THROWS_AS(assign_spread(m, 0.1, SpreadRule::counts), Error);  // no counts yet
  for (size_t w = 0; w < 300; ++w) m.counts.push_back(10000 / (w + 1));
  assign_spread(m, 0.1, SpreadRule::counts);
  CHECK(m.tensors[0].sigma[0] == doctest::Approx(0.1));
  CHECK(m.tensors[0].sigma[99 * 8 + 3] == doctest::Approx(1.0));  // row 99: count 100
  CHECK(m.tensors[1].sigma[99 * 5] == m.tensors[0].sigma[99 * 8]);
  CHECK(m.tensors[2].sigma == std::vector<double>(7, 0.1));  // not a per-word tensor

  assign_spread(m, 0.1, SpreadRule::zipf);
  CHECK(m.tensors[0].sigma[8 * 8] == doctest::Approx(0.3));  // row 8: sqrt(9)
  CHECK_THROWS_AS(assign_spread(m, 0, SpreadRule::zipf), Error);

  // Compressible: rare rows cost fewer bits than frequent ones.
  m.tensors.pop_back();
  CompressSettings s;
  s.vbq.lambda = 0.5;
  Container c = compress_model(m, s);
  std::vector<double> bits = element_code_lengths(c.tensors[0]);
  double first = 0, last = 0;
  for (size_t i = 0; i < 50 * 8; ++i) first += bits[i], last += bits[bits.size() - 1 - i];
  CHECK(last < 0.5 * first);
}
