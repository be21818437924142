// formats/idx: reading MNIST-style idx files (plain and gzip) and their failure modes.
#include <doctest/doctest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "formats/idx.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

namespace {

namespace fs = std::filesystem;
using vbq::testing::expect_error;
using vbq::testing::TempDir;

std::vector<uint8_t> header(uint32_t magic, std::vector<uint32_t> dims) {
  std::vector<uint8_t> h;
  auto put = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) h.push_back(uint8_t(v >> s));
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  return h;
}

void write_plain(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
  gzclose(f);
}

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Two 2x3 images with pixels 0..11 and labels {3, 9}.
const std::vector<uint8_t> kPixels{0, 1, 2, 3, 4, 255, 6, 7, 8, 9, 10, 11};
const std::vector<uint8_t> kLabels{3, 9};

}  // namespace

TEST_CASE("idx reads images and labels, plain and gzip") {
  TempDir t("idx");
  write_gz(t.file("img.gz"), concat(header(0x803, {2, 2, 3}), kPixels));
  write_plain(t.file("lab"), concat(header(0x801, {2}), kLabels));
  vbq::Dataset d = vbq::read_idx_dataset(t.file("img.gz"), t.file("lab"));
  CHECK(d.rows == 2);
  CHECK(d.cols == 6);
  CHECK(d.num_classes == 10);
  REQUIRE(d.x.size() == 12);
  CHECK(d.x[1] == doctest::Approx(1.0 / 255));
  CHECK(d.x[5] == 1.0f);
  CHECK(d.x[11] == doctest::Approx(11.0 / 255));
  CHECK(d.y == kLabels);

  vbq::IdxArray a = vbq::read_idx(t.file("img.gz"), 3);
  CHECK(a.dims == std::vector<uint32_t>{2, 2, 3});
  CHECK(a.data == kPixels);
}

TEST_CASE("idx bad magic names the file and the value") {
  TempDir t("idx");
  write_plain(t.file("lab"), concat(header(0x803, {2, 1, 1}), {1, 2}));
  expect_error([&] { vbq::read_idx(t.file("lab"), 1); }, vbq::ErrorKind::format,
               {t.file("lab"), "bad magic value 0x00000803", "0x00000801"});
  write_plain(t.file("junk"), {'h', 'e', 'l', 'l', 'o', '!', '!', '!'});
  expect_error([&] { vbq::read_idx(t.file("junk"), 3); }, vbq::ErrorKind::format, {"bad magic value 0x68656c6c"});
}

TEST_CASE("idx truncated files report expected and actual byte counts") {
  TempDir t("idx");
  auto full = concat(header(0x803, {2, 2, 3}), kPixels);
  write_plain(t.file("short"), std::vector<uint8_t>(full.begin(), full.end() - 5));
  expect_error([&] { vbq::read_idx(t.file("short"), 3); }, vbq::ErrorKind::format,
               {t.file("short"), "truncated: expected 12 bytes of data got 7"});
  write_plain(t.file("nodims"), header(0x803, {2}));
  expect_error([&] { vbq::read_idx(t.file("nodims"), 3); }, vbq::ErrorKind::format,
               {"truncated: expected 12 bytes of dimensions got 4"});
  write_plain(t.file("empty"), {});
  expect_error([&] { vbq::read_idx(t.file("empty"), 1); }, vbq::ErrorKind::format, {"truncated"});

  // A gzip stream cut in the middle is a truncation too, not a crash.
  std::vector<uint8_t> big = header(0x803, {100, 28, 28});
  for (int i = 0; i < 100 * 28 * 28; ++i) big.push_back(uint8_t(i * 7919 >> 3));
  write_gz(t.file("big.gz"), big);
  auto gz = [&] {
    std::ifstream f(t.file("big.gz"), std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
  }();
  write_plain(t.file("cut.gz"), std::vector<uint8_t>(gz.begin(), gz.begin() + gz.size() / 2));
  expect_error([&] { vbq::read_idx(t.file("cut.gz"), 3); }, vbq::ErrorKind::format,
               {t.file("cut.gz"), "truncated: expected 78400 bytes"});
}

TEST_CASE("idx huge declared dims fail cleanly without allocating them") {
  TempDir t("idx");
  // 60000 x 28 x 28000 = 47 GB declared, 16 bytes present.
  write_plain(t.file("huge"), concat(header(0x803, {60000, 28, 28000}), {1, 2, 3, 4}));
  expect_error([&] { vbq::read_idx(t.file("huge"), 3); }, vbq::ErrorKind::format,
               {"truncated: expected 47040000000 bytes of data got 4"});
  write_plain(t.file("overflow"), header(0x803, {0xffffffffu, 0xffffffffu, 0xffffffffu}));
  expect_error([&] { vbq::read_idx(t.file("overflow"), 3); }, vbq::ErrorKind::format, {"overflow"});
}

TEST_CASE("idx trailing data, label range, count mismatch and missing files") {
  TempDir t("idx");
  write_plain(t.file("img"), concat(header(0x803, {2, 2, 3}), kPixels));
  write_plain(t.file("long"), concat(header(0x801, {2}), {1, 2, 3}));
  expect_error([&] { vbq::read_idx(t.file("long"), 1); }, vbq::ErrorKind::format, {"trailing data"});
  write_plain(t.file("badlab"), concat(header(0x801, {2}), {1, 10}));
  expect_error([&] { vbq::read_idx_dataset(t.file("img"), t.file("badlab")); }, vbq::ErrorKind::format,
               {t.file("badlab"), "label 10 at index 1"});
  write_plain(t.file("three"), concat(header(0x801, {3}), {1, 2, 3}));
  expect_error([&] { vbq::read_idx_dataset(t.file("img"), t.file("three")); }, vbq::ErrorKind::format,
               {"2 images", "3 labels"});
  expect_error([&] { vbq::read_idx(t.file("absent"), 1); }, vbq::ErrorKind::io, {t.file("absent")});
  expect_error([&] { vbq::load_mnist_split(t.dir.string(), "t10k"); }, vbq::ErrorKind::io,
               {"t10k-images-idx3-ubyte"});
}

TEST_CASE("idx loads the Fashion-MNIST test split when installed") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(dir + "/t10k-labels-idx1-ubyte.gz")) {
    MESSAGE("skipped: " << dir << " not installed (Debian package dataset-fashion-mnist)");
    return;
  }
  vbq::Dataset d = vbq::load_mnist_split(dir, "t10k");
  CHECK(d.rows == 10000);
  CHECK(d.cols == 784);
  std::vector<int> per_class(10);
  for (uint8_t y : d.y) per_class[y]++;
  for (int c : per_class) CHECK(c == 1000);  // the test split is balanced
  float mx = 0;
  for (float v : d.x) mx = std::max(mx, v);
  CHECK(mx == 1.0f);
}
