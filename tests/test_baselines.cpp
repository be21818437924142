// Tests for eval/baselines.hpp: general compressors (round trips, real magic
// bytes, rejection of damaged streams), grid storage, 1-D k-means, bits_to_reach.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "eval/baselines.hpp"
#include "eval/rd_report.hpp"
#include "tests/support.hpp"
#include "vbq/codec.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::kind_of;

namespace {

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng());
  return s;
}

std::vector<double> gaussian(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

bool starts_with(const std::string& s, std::initializer_list<unsigned char> magic) {
  if (s.size() < magic.size()) return false;
  size_t i = 0;
  for (unsigned char m : magic)
    if (static_cast<unsigned char>(s[i++]) != m) return false;
  return true;
}

double mse(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s / double(a.size());
}

RdPoint pt(double bits, double quality, const std::string& method = "m") {
  RdPoint p;
  p.method = method;
  p.setting = std::to_string(bits);
  p.bits_per_dim = bits;
  p.ideal_bits_per_dim = bits / 2;
  p.metrics = {0, quality};  // the quality is metric 1, as hits10 is for analogies
  return p;
}

}  // namespace

TEST_CASE("baselines compressor labels") {
  CHECK(compressor_label(GeneralCompressor::gzip9) == "gzip -9");
  CHECK(compressor_label(GeneralCompressor::bzip2_9) == "bzip2 -9");
  CHECK(compressor_label(GeneralCompressor::xz9e) == "xz -9e");
  CHECK(compressor_label(GeneralCompressor::lzma_alone9e) == "lzma -9e (.lzma)");
  CHECK(compressor_label(GeneralCompressor::zstd19) == "zstd -19");
  CHECK(compressor_label(GeneralCompressor::zstd22) == "zstd --ultra -22");
}

TEST_CASE("baselines compressors round-trip and write the real formats") {
  const std::string random = random_bytes(50000, 1);
  // Structured: a q_max = 7 grid of Gaussian values, as the sweep compresses.
  const std::string structured = grid_bytes(grid_values(gaussian(100000, 2), 7), 7);
  const std::string inputs[] = {std::string(), std::string("a"), random, structured};

  for (GeneralCompressor c : kAllGeneralCompressors) {
    CAPTURE(compressor_label(c));
    std::vector<std::string> outputs;
    for (const std::string& in : inputs) {
      CAPTURE(in.size());
      const std::string& z = outputs.emplace_back(compress_bytes(c, in));
      CHECK(decompress_bytes(c, z) == in);
      switch (c) {
        case GeneralCompressor::gzip9:
          CHECK(starts_with(z, {0x1f, 0x8b, 0x08}));
          CHECK(static_cast<unsigned char>(z[8]) == 2);  // XFL: maximum compression
          break;
        case GeneralCompressor::bzip2_9: CHECK(starts_with(z, {'B', 'Z', 'h', '9'})); break;
        case GeneralCompressor::xz9e: CHECK(starts_with(z, {0xFD, '7', 'z', 'X', 'Z', 0x00})); break;
        case GeneralCompressor::lzma_alone9e:
          // lc=3 lp=0 pb=2, 64 MiB dictionary, size unknown (all ones).
          CHECK(starts_with(z, {0x5D, 0x00, 0x00, 0x00, 0x04, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
          break;
        case GeneralCompressor::zstd19:
        case GeneralCompressor::zstd22: CHECK(starts_with(z, {0x28, 0xB5, 0x2F, 0xFD})); break;
      }
    }
    CHECK(compress_bytes(c, structured) == outputs[3]);  // deterministic
    // Random data barely grows; a ~2.5-bit-entropy byte stream shrinks below 4 bits/byte.
    CHECK(outputs[2].size() > random.size());
    CHECK(outputs[2].size() < random.size() + random.size() / 50 + 200);
    CHECK(outputs[3].size() * 8 < structured.size() * 4);
  }
}

TEST_CASE("baselines decompressors reject damaged streams") {
  const std::string data = grid_bytes(grid_values(gaussian(20000, 3), 7), 7);
  for (GeneralCompressor c : kAllGeneralCompressors) {
    CAPTURE(compressor_label(c));
    const std::string z = compress_bytes(c, data);
    CHECK(kind_of([&] { decompress_bytes(c, z.substr(0, z.size() / 2)); }) == ErrorKind::corrupt);
    CHECK(kind_of([&] { decompress_bytes(c, z.substr(0, z.size() - 1)); }) == ErrorKind::corrupt);
    CHECK(kind_of([&] { decompress_bytes(c, z + "x"); }) == ErrorKind::corrupt);
    CHECK(kind_of([&] { decompress_bytes(c, std::string()); }) == ErrorKind::corrupt);
    CHECK(kind_of([&] { decompress_bytes(c, std::string(64, '\x17')); }) == ErrorKind::corrupt);
  }
}

TEST_CASE("baselines grid_bytes: int8 up to q_max 127, int16 little-endian above") {
  const std::vector<int32_t> q8 = {0, 1, -1, 127, -127, 5};
  const std::string b8 = grid_bytes(q8, 127);
  REQUIRE(b8.size() == q8.size());
  CHECK(b8 == std::string("\x00\x01\xff\x7f\x81\x05", 6));

  const std::vector<int32_t> q16 = {0, 1, -1, 128, -128, 300, -300};
  const std::string b16 = grid_bytes(q16, 300);
  REQUIRE(b16.size() == 2 * q16.size());
  CHECK(b16 == std::string("\x00\x00\x01\x00\xff\xff\x80\x00\x80\xff\x2c\x01\xd4\xfe", 14));
  CHECK(grid_bytes(q8, 128).size() == 2 * q8.size());  // the width follows q_max, not the values
  CHECK(grid_bytes(std::vector<int32_t>{-32767, 32767}, 32767) == std::string("\x01\x80\xff\x7f", 4));

  CHECK(kind_of([] { grid_bytes(std::vector<int32_t>{0, 8}, 7); }) == ErrorKind::argument);
  CHECK(kind_of([] { grid_bytes(std::vector<int32_t>{-129}, 128); }) == ErrorKind::argument);
  CHECK(kind_of([] { grid_bytes(std::vector<int32_t>{0}, 0); }) == ErrorKind::argument);
  CHECK(kind_of([] { grid_bytes(std::vector<int32_t>{0}, 32768); }) == ErrorKind::argument);
}

TEST_CASE("baselines kmeans_1d finds obvious clusters") {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> noise(0.0, 0.05);
  const double centres[] = {-5.0, 0.0, 3.0};
  const size_t sizes[] = {1000, 5000, 300};  // unequal, so quantile init starts off
  std::vector<double> v;
  for (int j = 0; j < 3; ++j)
    for (size_t i = 0; i < sizes[j]; ++i) v.push_back(centres[j] + noise(rng));
  std::shuffle(v.begin(), v.end(), rng);

  for (KMeansInit init : {KMeansInit::kmeans_plus_plus, KMeansInit::quantiles, KMeansInit::uniform}) {
    const auto c = kmeans_1d(v, 3, 100, 7, init);
    REQUIRE(c.size() == 3);
    for (int j = 0; j < 3; ++j) CHECK(std::fabs(c[size_t(j)] - centres[j]) < 0.01);
    CHECK(kmeans_1d(v, 3, 100, 7, init) == c);  // deterministic
  }
}

TEST_CASE("baselines kmeans_1d is a Lloyd fixed point and beats the uniform grid on Gaussian data") {
  const auto v = gaussian(100000, 5);
  for (int q_max : {1, 3, 7}) {
    const int k = 2 * q_max + 1;  // as many levels as the grid
    CAPTURE(k);
    const auto c = kmeans_1d(v, k, 1000, 0);
    REQUIRE(c.size() == size_t(k));
    CHECK(std::is_sorted(c.begin(), c.end()));
    CHECK(std::adjacent_find(c.begin(), c.end()) == c.end());

    const auto codebook = encode_codebook(v, c);
    const auto rec_km = decode_tensor(codebook);
    const auto rec_grid = decode_tensor(encode_grid(v, q_max));
    const double e_km = mse(v, rec_km), e_grid = mse(v, rec_grid);
    CHECK(e_km < 0.9 * e_grid);
    // Started on the grid's own levels, Lloyd can only improve on the grid.
    const auto from_grid = kmeans_1d(v, k, 1000, 0, KMeansInit::uniform);
    CHECK(mse(v, decode_tensor(encode_codebook(v, from_grid))) <= e_grid);
    CHECK(kmeans_1d(v, k, 0, 0, KMeansInit::uniform).size() == size_t(k));

    // Converged: every centroid is the mean of the values coded to it.
    std::vector<double> sum(size_t(k), 0), count(size_t(k), 0);
    for (size_t i = 0; i < v.size(); ++i) {
      const size_t j = std::min(c.size() - 1, size_t(std::lower_bound(c.begin(), c.end(), rec_km[i]) - c.begin()));
      sum[j] += v[i];
      count[j] += 1;
    }
    for (int j = 0; j < k; ++j) {
      REQUIRE(count[size_t(j)] > 0);
      CHECK(c[size_t(j)] == doctest::Approx(sum[size_t(j)] / count[size_t(j)]).epsilon(1e-9));
    }
  }
  // k-means++ is deterministic per seed; other seeds land near the same optimum,
  // which for N(0,1) at high rate is (6 sqrt(3) pi / 12) / k^2 (Panter-Dite).
  const int k = 63;
  const auto a = kmeans_1d(v, k, 1000, 11);
  CHECK(a == kmeans_1d(v, k, 1000, 11));
  const auto b = kmeans_1d(v, k, 1000, 12);
  CHECK(a != b);
  const double e_a = mse(v, decode_tensor(encode_codebook(v, a))), e_b = mse(v, decode_tensor(encode_codebook(v, b)));
  CHECK(e_a == doctest::Approx(e_b).epsilon(0.03));
  CHECK(e_a < 1.1 * (6 * std::sqrt(3.0) * M_PI / 12) / (k * k));
}

TEST_CASE("baselines kmeans_1d: duplicates, empty clusters, few distinct values, errors") {
  // Mostly zeros: quantile init puts nearly every centroid on 0; re-seeding must
  // still give k distinct centroids that each own values.
  std::vector<double> v(10000, 0.0);
  for (size_t i = 0; i < 100; ++i) v[i * 100] = double(i) - 50.0;
  for (KMeansInit init : {KMeansInit::kmeans_plus_plus, KMeansInit::quantiles, KMeansInit::uniform}) {
    const auto c = kmeans_1d(v, 16, 50, 3, init);
    REQUIRE(c.size() == 16);
    CHECK(std::adjacent_find(c.begin(), c.end(), [](double x, double y) { return !(x < y); }) == c.end());
    const auto rec = decode_tensor(encode_codebook(v, c));
    std::vector<int> used(16, 0);
    for (double r : rec) used[size_t(std::lower_bound(c.begin(), c.end(), r) - c.begin())] = 1;
    for (int u : used) CHECK(u == 1);
  }

  // Fewer distinct values than k: the distinct values themselves.
  const std::vector<double> few = {2, 1, 2, 3, 1, 1};
  CHECK(kmeans_1d(few, 5, 10, 0) == std::vector<double>{1, 2, 3});
  CHECK(kmeans_1d(few, 5, 10, 0, KMeansInit::quantiles) == std::vector<double>{1, 2, 3});
  CHECK(kmeans_1d(few, 5, 10, 0, KMeansInit::uniform) == std::vector<double>{1, 2, 3});
  CHECK(kmeans_1d(few, 1, 10, 0) == std::vector<double>{10.0 / 6});
  CHECK(kmeans_1d(std::vector<double>{4.5}, 3, 10, 0) == std::vector<double>{4.5});

  CHECK(kind_of([] { kmeans_1d(std::vector<double>{}, 2, 10, 0); }) == ErrorKind::argument);
  CHECK(kind_of([] { kmeans_1d(std::vector<double>{1.0}, 0, 10, 0); }) == ErrorKind::argument);
  CHECK(kind_of([] { kmeans_1d(std::vector<double>{1.0, NAN}, 2, 10, 0); }) == ErrorKind::argument);
}

TEST_CASE("baselines bits_to_reach interpolates the first crossing") {
  // Given out of order on purpose.
  const std::vector<RdPoint> curve = {pt(4, 0.8), pt(1, 0.2), pt(2, 0.6)};
  CHECK(bits_to_reach(curve, 0.4, RdRate::file_bits, 1) == doctest::Approx(1.5));
  CHECK(bits_to_reach(curve, 0.7, RdRate::file_bits, 1) == doctest::Approx(3.0));
  CHECK(bits_to_reach(curve, 0.6, RdRate::file_bits, 1) == doctest::Approx(2.0));
  CHECK(bits_to_reach(curve, 0.8, RdRate::file_bits, 1) == doctest::Approx(4.0));
  CHECK(bits_to_reach(curve, 0.2, RdRate::file_bits, 1) == 1.0);  // reached at the first point
  CHECK(bits_to_reach(curve, 0.05, RdRate::file_bits, 1) == 1.0);
  CHECK(std::isnan(bits_to_reach(curve, 0.81, RdRate::file_bits, 1)));
  CHECK(std::isnan(bits_to_reach({}, 0.5)));
  CHECK(kind_of([&] { bits_to_reach(curve, 0.4, RdRate::file_bits, 2); }) == ErrorKind::argument);  // no metric 2
  CHECK(bits_to_reach(curve, 0.0, RdRate::file_bits, 0) == 1.0);  // metric 0 is 0 everywhere: only 0 is reached
  CHECK(std::isnan(bits_to_reach(curve, 0.01, RdRate::file_bits, 0)));
  CHECK(bits_to_reach(curve, 0.4, RdRate::ideal_bits, 1) == doctest::Approx(0.75));

  // Non-monotone: the first crossing counts, a later dip does not.
  const std::vector<RdPoint> noisy = {pt(1, 0.2), pt(2, 0.9), pt(3, 0.5), pt(4, 0.95)};
  CHECK(bits_to_reach(noisy, 0.8, RdRate::file_bits, 1) == doctest::Approx(1 + 0.6 / 0.7));
  CHECK(bits_to_reach(noisy, 0.92, RdRate::file_bits, 1) == doctest::Approx(3 + 0.42 / 0.45));

  // Two points at the same rate: a vertical segment reaches target at that rate.
  const std::vector<RdPoint> vertical = {pt(1, 0.1), pt(2, 0.7), pt(2, 0.3)};
  CHECK(bits_to_reach(vertical, 0.5, RdRate::file_bits, 1) == doctest::Approx(2.0));
  CHECK(bits_to_reach(vertical, 0.2, RdRate::file_bits, 1) == doctest::Approx(1 + 0.1 / 0.2));

  CHECK(kind_of([] { bits_to_reach({pt(1, 0.1, "a"), pt(2, 0.2, "b")}, 0.1, RdRate::file_bits, 1); }) == ErrorKind::argument);
  CHECK(kind_of([] { bits_to_reach({pt(NAN, 0.1)}, 0.1, RdRate::file_bits, 1); }) == ErrorKind::argument);
  CHECK(kind_of([] { bits_to_reach({pt(1, NAN)}, 0.1, RdRate::file_bits, 1); }) == ErrorKind::argument);
}
