#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "formats/atomic_file.hpp"
#include "formats/container.hpp"
#include "formats/crc32c.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::kind_of;

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
}  // namespace

TEST_CASE("container: round trip keeps every field and decodes identically") {
  Container c = sample_container();
  ContainerLayout lay;
  std::string bytes = serialize_container(c, &lay);
  CHECK(lay.total_bytes == bytes.size());
  CHECK(lay.header_bytes + lay.tensor_bytes[0] + lay.tensor_bytes[1] + lay.vocab_bytes == bytes.size());
  ContainerLayout parsed_lay;
  Container d = parse_container(bytes, "mem", &parsed_lay);
  CHECK(parsed_lay.tensor_bytes == lay.tensor_bytes);
  REQUIRE(d.tensors.size() == 2);
  CHECK(d.vocab == c.vocab);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(d.tensors[i].name == c.tensors[i].name);
    CHECK(d.tensors[i].mean_path == c.tensors[i].mean_path);
    CHECK(d.tensors[i].shape == c.tensors[i].shape);
    CHECK(d.tensors[i].float32 == c.tensors[i].float32);
    CHECK(d.tensors[i].quantizer == c.tensors[i].quantizer);
    CHECK(d.tensors[i].prior_parameters == c.tensors[i].prior_parameters);
    CHECK(d.tensors[i].lambda == c.tensors[i].lambda);
    CHECK(decode_tensor(d.tensors[i]) == decode_tensor(c.tensors[i]));
  }
  CHECK(serialize_container(d) == bytes);  // compressing twice gives the same bytes
}

TEST_CASE("container: every truncation and every flipped byte is detected") {
  Container c = sample_container(40, 5);
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

TEST_CASE("container: errors name the file and have the right category") {
  std::string bytes = serialize_container(sample_container(40, 5));
  expect_error([&] { parse_container(bytes.substr(0, bytes.size() - 9), "model.vbq"); }, ErrorKind::corrupt,
               {"model.vbq", "byte offset"});
  CHECK(kind_of([] { parse_container("PK\x03\x04 not ours", "zip.vbq"); }) == ErrorKind::format);
  std::string future = bytes;
  future[4] = 4;  // major version 4
  CHECK(kind_of([&] { parse_container(future, "future.vbq"); }) == ErrorKind::unsupported);
}

// Golden files written from sample_container(40, 5): small-v1.0.vbq by vbq 0.1.0
// (container 1.0, CRC-32), small-v2.0.vbq by container 2.0 (CRC-32C),
// small-v3.0.vbq by container 3.0 (block tables). Their decoded means must never
// change, and today's writer must reproduce 3.0 byte for byte.
// VBQ_WRITE_GOLDEN=1 rewrites the current version's file (by hand, once).
TEST_CASE("container: golden files keep decoding") {
  const std::string dir = std::string(VBQ_SOURCE_DIR) + "/tests/golden/";
  Container fresh = sample_container(40, 5);
  if (std::getenv("VBQ_WRITE_GOLDEN")) write_container(dir + "small-v3.0.vbq", fresh, true);
  for (const char* name : {"small-v1.0.vbq", "small-v2.0.vbq", "small-v3.0.vbq"}) {
    CAPTURE(name);
    ContainerLayout layout;
    Container golden = read_container(dir + name, &layout);
    CHECK(layout.major == name[7] - '0');
    REQUIRE(golden.tensors.size() == 2);
    CHECK(decode_tensor(golden.tensors[0]) == decode_tensor(fresh.tensors[0]));
    CHECK(decode_tensor(golden.tensors[1]) == decode_tensor(fresh.tensors[1]));
    CHECK(golden.vocab == fresh.vocab);
  }
  CHECK(read_file_bytes(dir + "small-v3.0.vbq") == serialize_container(fresh));
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
