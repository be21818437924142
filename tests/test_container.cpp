#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "formats/atomic_file.hpp"
#include "formats/container.hpp"
#include "formats/crc32c.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::kind_of;
using vbq::testing::TempDir;

namespace {
Container sample_container(size_t rows = 200, size_t cols = 10) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> z(0.0, 0.4);
  std::vector<double> mu(rows * cols), sigma(rows * cols);
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = z(rng), sigma[i] = 0.01 + 0.2 * std::fabs(z(rng));
  VbqSettings s;
  s.lambda = 0.3;
  Container c;
  c.tensors.push_back(encode_vbq(mu, sigma, s));
  c.tensors[0].name = "word";
  c.tensors[0].mean_path = "word/mean";
  c.tensors[0].shape = {rows, cols};
  c.tensors.push_back(encode_grid(std::vector<double>(mu.begin(), mu.begin() + 50), 7));
  c.tensors[1].name = "bias";
  c.tensors[1].shape = {50};
  c.tensors[1].float32 = false;
  for (size_t i = 0; i < rows; ++i) c.vocab.push_back("w" + std::to_string(i) + (i % 7 ? "" : "\xc3\xa9"));
  return c;
}

// `e` with the name, mean path and dtype of `like`.
EncodedTensor labelled_copy(EncodedTensor e, const EncodedTensor& like) {
  e.name = like.name, e.mean_path = like.mean_path, e.float32 = like.float32;
  return e;
}

// sample_container(40, 5) with what 4.0 added: two outliers beyond the prior's
// range (escaped), and a float64 Student-t tensor with one more escape.
Container sample_container_v4() {
  Container c = sample_container(40, 5);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> z(0.0, 0.4);
  std::vector<double> mu(120), sigma(120);
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = z(rng), sigma[i] = 0.01 + 0.1 * std::fabs(z(rng));
  std::vector<double> word_mu(mu.begin(), mu.end()), word_sigma(200, 0.05);
  word_mu.resize(200, 0.1);
  word_mu[3] = 1e4, word_mu[177] = -1e4;  // 10 sigma_0 of the fitted Gaussian: beyond its 8.2
  VbqSettings s;
  s.lambda = 0.3;
  const uint64_t word_shape[] = {40, 5}, ctx_shape[] = {30, 4};
  c.tensors[0] = labelled_copy(encode_vbq(word_mu, word_sigma, s, word_shape), c.tensors[0]);
  mu[50] = 1e3, sigma[50] = 1e-6;  // representable, but only at a rate above the escape's
  s.prior = "student";
  EncodedTensor ctx = encode_vbq(mu, sigma, s, ctx_shape);
  ctx.name = "context";
  ctx.float32 = false;
  c.tensors.push_back(std::move(ctx));
  return c;
}

// sample_container_v4() with its first and last tensors context-coded (4.1).
Container sample_container_ctx() {
  Container c = sample_container_v4();
  for (size_t i : {size_t(0), c.tensors.size() - 1})
    c.tensors[i].symbols = recode_with_context(c.tensors[i].symbols, row_length(c.tensors[i]), 1);
  return c;
}
}  // namespace

TEST_CASE("container: round trip keeps every field and decodes identically") {
  for (const Container& c : {sample_container(), sample_container_v4(), sample_container_ctx()}) {
  ContainerLayout lay;
  std::string bytes = serialize_container(c, &lay);
  CHECK(lay.total_bytes == bytes.size());
  CHECK(lay.header_bytes + std::accumulate(lay.tensor_bytes.begin(), lay.tensor_bytes.end(), uint64_t(0)) +
            lay.vocab_bytes == bytes.size());
  ContainerLayout parsed_lay;
  Container d = parse_container(bytes, "mem", &parsed_lay);
  CHECK(parsed_lay.tensor_bytes == lay.tensor_bytes);
  REQUIRE(d.tensors.size() == c.tensors.size());
  CHECK(d.vocab == c.vocab);
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    CHECK(d.tensors[i].name == c.tensors[i].name);
    CHECK(d.tensors[i].mean_path == c.tensors[i].mean_path);
    CHECK(d.tensors[i].shape == c.tensors[i].shape);
    CHECK(d.tensors[i].float32 == c.tensors[i].float32);
    CHECK(d.tensors[i].quantizer == c.tensors[i].quantizer);
    CHECK(d.tensors[i].prior_parameters == c.tensors[i].prior_parameters);
    CHECK(d.tensors[i].lambda == c.tensors[i].lambda);
    CHECK(d.tensors[i].symbols.coder == c.tensors[i].symbols.coder);
    CHECK(d.tensors[i].symbols.row_length == c.tensors[i].symbols.row_length);
    CHECK(d.tensors[i].block_escapes == c.tensors[i].block_escapes);
    CHECK(d.tensors[i].levels.size() == c.tensors[i].levels.size());
    std::vector<double> escapes = c.tensors[i].escapes;
    for (double& v : escapes) v = to_dtype(c.tensors[i], v);
    CHECK(d.tensors[i].escapes == escapes);  // stored in the dtype
    CHECK(decode_tensor(d.tensors[i]) == decode_tensor(c.tensors[i]));
  }
  CHECK(serialize_container(d) == bytes);  // compressing twice gives the same bytes
  }
}

TEST_CASE("container: the coder byte, escape counts and values are checked") {
  Container c = sample_container_v4();
  c.tensors[0].block_escapes[0] += 1;
  CHECK(kind_of([&] { serialize_container(c); }) == ErrorKind::argument);
  CHECK(kind_of([&] { decode_tensor(c.tensors[0]); }) == ErrorKind::corrupt);
  c.tensors[0].block_escapes[0] -= 1;
  c.tensors[0].escapes.push_back(1.0);  // one more value than escape symbols
  c.tensors[0].block_escapes[0] += 1;
  expect_error([&] { decode_tensor(c.tensors[0]); }, ErrorKind::corrupt, {"block 0", "fewer escape symbols"});
  // A row read decodes its block up to the row: the count is checked when that
  // reaches the block's end (the 40 x 5 tensor is one block); earlier rows decode.
  expect_error([&] { decode_rows(c.tensors[0], 39); }, ErrorKind::corrupt, {"block 0", "fewer escape symbols"});
  CHECK(decode_rows(c.tensors[0], 2).size() == 5);

  Container big = sample_container_v4();
  big.tensors[0].levels.back() = 1e39;  // beyond float32: the writer refuses rather than store inf
  CHECK(kind_of([&] { serialize_container(big); }) == ErrorKind::argument);

  // A 4.0 reader rejects coders it does not know: one grid tensor "g" of shape {3},
  // whose coder byte follows name, path, dtype, rank, dim, quantizer, varint 1, f64.
  Container g;
  g.tensors.push_back(encode_grid(std::vector<double>{0.5, -1.0, 0.25}, 3));
  g.tensors[0].name = "g";
  std::string bytes = serialize_container(g);
  const size_t body = 16 + 8, coder = body + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 8;
  REQUIRE(bytes[coder] == 0);
  bytes[coder] = 7;
  const uint64_t length = bytes.size() - body - 4;
  const uint32_t crc = crc32c(std::string_view(bytes).substr(body, length));
  for (int i = 0; i < 4; ++i) bytes[body + length + i] = char(crc >> (8 * i));
  expect_error([&] { parse_container(bytes, "coder.vbq"); }, ErrorKind::unsupported, {"coder.vbq", "coder 7"});
}

TEST_CASE("container: a context-coded tensor makes the file 4.1, rANS alone keeps 4.0") {
  ContainerLayout lay;
  const std::string v40 = serialize_container(sample_container_v4(), &lay);
  CHECK((v40[4] == 4 && v40[5] == 0));
  CHECK((lay.major == 4 && lay.minor == 0));
  const Container ctx = sample_container_ctx();
  const std::string v41 = serialize_container(ctx, &lay);
  CHECK((v41[4] == 4 && v41[5] == 1));
  CHECK((lay.major == 4 && lay.minor == 1));
  CHECK(v41.size() < v40.size());  // no frequency tables, and an adaptive model
  const Container back = parse_container(v41, "ctx.vbq");
  CHECK(back.tensors[0].symbols.coder == EntropyCoder::context);
  CHECK(back.tensors[0].symbols.tables.empty());
  CHECK(back.tensors[1].symbols.coder == EntropyCoder::rans);
  // Row access decodes the blocks of a row alone, as with rANS.
  const EncodedTensor& word = back.tensors[0];
  const std::vector<double> all = decode_tensor(word);
  for (uint64_t row : {uint64_t(0), uint64_t(3), uint64_t(39)}) {
    const std::vector<double> r = decode_rows(word, row, 1);
    CHECK(r == std::vector<double>(all.begin() + long(row * 5), all.begin() + long(row * 5 + 5)));
  }
  // The coder byte of a context-coded grid tensor (layout as in the case above).
  Container tiny;
  tiny.tensors.push_back(encode_grid(std::vector<double>{0.5, -1.0, 0.25}, 3, 1, {}, EntropyCoder::context));
  tiny.tensors[0].name = "g";
  std::string bytes = serialize_container(tiny);
  const size_t body = 16 + 8, coder = body + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 8;
  REQUIRE(bytes[coder] == 1);
  CHECK(decode_tensor(parse_container(bytes, "g.vbq").tensors[0]) == decode_tensor(tiny.tensors[0]));
}

TEST_CASE("container: every truncation and every flipped byte is detected") {
  for (const Container& c : {sample_container_v4(), sample_container_ctx()}) {
  std::string bytes = serialize_container(c);
  for (size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS(parse_container(std::string_view(bytes).substr(0, n), "cut.vbq"), Error);
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x10;
    CAPTURE(i);
    CHECK_THROWS_AS(parse_container(bad, "flip.vbq"), Error);
  }
  CHECK_THROWS_AS(parse_container(bytes + "x", "extra.vbq"), Error);
  }
}

TEST_CASE("container: errors name the file and have the right category") {
  std::string bytes = serialize_container(sample_container(40, 5));
  expect_error([&] { parse_container(bytes.substr(0, bytes.size() - 9), "model.vbq"); }, ErrorKind::corrupt,
               {"model.vbq", "byte offset"});
  CHECK(kind_of([] { parse_container("PK\x03\x04 not ours", "zip.vbq"); }) == ErrorKind::format);
  std::string future = bytes;
  future[4] = 5;  // major version 5
  CHECK(kind_of([&] { parse_container(future, "future.vbq"); }) == ErrorKind::unsupported);
}


// Golden files written from sample_container(40, 5): small-v1.0.vbq by vbq 0.1.0
// (container 1.0, CRC-32), small-v2.0.vbq by container 2.0 (CRC-32C),
// small-v3.0.vbq by container 3.0 (block tables). Their decoded means must never
// change: they come from F^{-1} of the stored prior, as when they were written.
// small-v4.0.vbq holds sample_container_v4() (values in the table, escapes, xz
// vocabulary); today's writer must reproduce it byte for byte.
// VBQ_WRITE_GOLDEN=1 rewrites the current version's file (by hand, once).
TEST_CASE("container: golden files keep decoding") {
  const std::string dir = std::string(VBQ_SOURCE_DIR) + "/tests/golden/";
  Container fresh = sample_container(40, 5), fresh4 = sample_container_v4();
  if (std::getenv("VBQ_WRITE_GOLDEN")) write_container(dir + "small-v4.0.vbq", fresh4, true);
  // Where today's encoder escapes a rare code point, the old files keep their code point.
  std::vector<uint32_t> index(fresh.tensors[0].symbols.count);
  decode_symbol_indices(fresh.tensors[0].symbols, index);
  const std::vector<double> today = decode_tensor(fresh.tensors[0]);
  std::vector<double> v1;
  for (const char* name : {"small-v1.0.vbq", "small-v2.0.vbq", "small-v3.0.vbq"}) {
    CAPTURE(name);
    ContainerLayout layout;
    Container golden = read_container(dir + name, &layout);
    CHECK(layout.major == name[7] - '0');
    REQUIRE(golden.tensors.size() == 2);
    CHECK(golden.tensors[0].levels.empty());  // values from F^{-1} of the prior, as when written
    const std::vector<double> old = decode_tensor(golden.tensors[0]);
    if (v1.empty()) v1 = old;
    CHECK(old == v1);
    size_t same = 0;
    for (size_t i = 0; i < old.size(); ++i)  // the float32 values decompress restores
      same += fresh.tensors[0].symbols.alphabet[index[i]] == kEscapeSymbol || double(float(old[i])) == today[i];
    CHECK(same == old.size());
    CHECK(decode_tensor(golden.tensors[1]) == decode_tensor(fresh.tensors[1]));
    CHECK(golden.vocab == fresh.vocab);
  }
  ContainerLayout layout;
  Container golden = read_container(dir + "small-v4.0.vbq", &layout);
  CHECK(layout.major == 4);
  REQUIRE(golden.tensors.size() == 3);
  auto escaped = [](const EncodedTensor& t, double v) { return std::count(t.escapes.begin(), t.escapes.end(), v); };
  CHECK(escaped(golden.tensors[0], 1e4) == 1);
  CHECK(escaped(golden.tensors[0], -1e4) == 1);
  CHECK(escaped(golden.tensors[2], 1e3) == 1);
  for (size_t i = 0; i < 3; ++i) CHECK(decode_tensor(golden.tensors[i]) == decode_tensor(fresh4.tensors[i]));
  CHECK(golden.vocab == fresh4.vocab);
  CHECK(read_file_bytes(dir + "small-v4.0.vbq") == serialize_container(fresh4));
}

TEST_CASE("container: MappedContainer parses as read_container, its blocks one at a time") {
  TempDir dir("mapped");
  const std::string golden = std::string(VBQ_SOURCE_DIR) + "/tests/golden/";
  std::vector<std::string> files = {golden + "small-v1.0.vbq", golden + "small-v3.0.vbq", golden + "small-v4.0.vbq"};
  for (const Container& c : {sample_container(), sample_container_ctx()}) {
    files.push_back(dir.file("c" + std::to_string(files.size()) + ".vbq"));
    write_container(files.back(), c, false);
  }
  for (const std::string& path : files) {
    CAPTURE(path);
    ContainerLayout whole_layout, mapped_layout;
    const Container whole = read_container(path, &whole_layout);
    const MappedContainer mapped(path, &mapped_layout);
    CHECK(mapped_layout.tensor_bytes == whole_layout.tensor_bytes);
    CHECK(mapped.container().vocab == whole.vocab);
    REQUIRE(mapped.container().tensors.size() == whole.tensors.size());
    for (size_t i = 0; i < whole.tensors.size(); ++i) {
      EncodedTensor t = mapped.container().tensors[i];
      CHECK(t.symbols.blocks.empty());
      for (uint64_t b = 0; b < whole.tensors[i].symbols.blocks.size(); ++b)
        t.symbols.blocks.push_back(mapped.block(i, b));
      CHECK(t.symbols.blocks == whole.tensors[i].symbols.blocks);
      CHECK(decode_tensor(t) == decode_tensor(whole.tensors[i]));
    }
    CHECK_THROWS_AS(mapped.block(whole.tensors.size(), 0), std::out_of_range);
  }
  // A damaged payload byte fails on opening, with read_container's error.
  std::string bytes = read_file_bytes(files.back());
  bytes[bytes.size() - 40] ^= 1;
  const std::string bad = dir.file("bad.vbq");
  std::ofstream(bad, std::ios::binary) << bytes;
  std::string whole_error, mapped_error;
  try { read_container(bad); } catch (const Error& e) { whole_error = e.what(); }
  try { MappedContainer m(bad); } catch (const Error& e) { mapped_error = e.what(); }
  CHECK(whole_error.find("mismatch") != std::string::npos);
  CHECK(mapped_error == whole_error);
  std::ofstream(dir.file("empty.vbq"));
  CHECK(kind_of([&] { MappedContainer m(dir.file("empty.vbq")); }) == ErrorKind::format);
}

TEST_CASE("container: CRC-32C known values, hardware and table paths agree") {
  CHECK(crc32c("") == 0u);
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c_portable("123456789") == 0xE3069283u);
  std::string bytes = serialize_container(sample_container());
  for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(8), size_t(9), size_t(1000), bytes.size()})
    CHECK(crc32c(std::string_view(bytes).substr(0, n)) == crc32c_portable(std::string_view(bytes).substr(0, n)));
}

TEST_CASE("container: write refuses to overwrite without force and leaves no temp file") {
  namespace fs = std::filesystem;
  vbq::testing::TempDir tmp("container");
  std::string path = tmp.file("m.vbq");
  Container c = sample_container(20, 5);
  write_container(path, c, false);
  auto size = fs::file_size(path);
  CHECK(kind_of([&] { write_container(path, c, false); }) == ErrorKind::argument);
  CHECK(fs::file_size(path) == size);
  write_container(path, c, true);
  CHECK(tmp.entries() == 1);
}

TEST_CASE("container: damaged column means are corrupt, naming the tensor") {
  Container c = sample_container_v4();
  EncodedTensor& t = c.tensors[0];
  REQUIRE(t.quantizer == QuantizerKind::vbq);
  uint64_t columns = 1;
  for (size_t i = 1; i < t.shape.size(); ++i) columns *= t.shape[i];
  t.column_means.assign(size_t(columns), 0.25);
  ContainerLayout lay;
  const Container good = parse_container(serialize_container(c, &lay), "means.vbq");
  CHECK(lay.minor == 3);
  CHECK(good.tensors[0].column_means == t.column_means);
  CHECK(good.tensors[1].column_means.empty());
  t.column_means.pop_back();  // one short: the section ends early
  expect_error([&] { parse_container(serialize_container(c), "means.vbq"); }, ErrorKind::corrupt, {"means.vbq"});
  t.column_means.push_back(0.25);
  t.column_means.push_back(0.25);  // one too many in memory: the decoder refuses it
  expect_error([&] { decode_tensor(t); }, ErrorKind::corrupt, {"column means"});
}

TEST_CASE("container: damaged row-group gains are corrupt, naming the tensor") {
  Container c = sample_container_v4();
  EncodedTensor& t = c.tensors[0];
  REQUIRE(t.quantizer == QuantizerKind::vbq);
  t.gain_rows = 1;
  t.gains.assign(size_t(t.shape[0]), 1.5);
  const Container good = parse_container(serialize_container(c), "gains.vbq");
  CHECK(good.tensors[0].gains == t.gains);
  CHECK(good.tensors[1].gains.empty());
  t.gains[1] = -1.5;
  expect_error([&] { parse_container(serialize_container(c), "gains.vbq"); }, ErrorKind::corrupt,
               {"gains.vbq", "tensor '" + t.name + "'", "row-group gain 1 is not a positive number"});
  t.gains[1] = 1.5, t.gain_rows = 0;
  expect_error([&] { parse_container(serialize_container(c), "gains.vbq"); }, ErrorKind::corrupt,
               {"gains.vbq", "invalid rows per gain group 0"});
  t.gain_rows = 1, t.gains.pop_back();  // one gain short: the section ends early
  expect_error([&] { parse_container(serialize_container(c), "gains.vbq"); }, ErrorKind::corrupt, {"gains.vbq"});
  t.gains.push_back(1.5);
  t.gains.push_back(1.5);  // one too many in memory: the decoder refuses it
  expect_error([&] { decode_tensor(t); }, ErrorKind::corrupt, {"row-group gains"});
}
