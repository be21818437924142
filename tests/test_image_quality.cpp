// eval/image_quality, eval/jpeg, formats/png: PSNR by its formula, MS-SSIM bounds, JPEG byte counts.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "eval/image_quality.hpp"
#include "eval/jpeg.hpp"
#include "formats/png.hpp"
#include "vbq/error.hpp"

TEST_CASE("PSNR is 10 log10(1 / MSE) over all pixels of all images") {
  const std::vector<float> ref(2 * 784, 0.5f);
  std::vector<float> dist(ref.size(), 0.6f);  // MSE 0.01: 20 dB
  CHECK(vbq::psnr_db(ref, dist) == doctest::Approx(20.0).epsilon(1e-5));
  for (size_t i = 0; i < 784; ++i) dist[i] = 0.5f;  // first image exact: MSE 0.005
  CHECK(vbq::psnr_db(ref, dist) == doctest::Approx(10 * std::log10(1 / 0.005)).epsilon(1e-5));
}

TEST_CASE("MS-SSIM at 28x28: 1 for identical images, lower for noisier ones") {
  std::mt19937 rng(1);
  std::vector<float> a(784), b(784), c(784);
  for (size_t i = 0; i < 784; ++i) a[i] = float((i / 28 + i % 28) % 17) / 16.0f;
  std::normal_distribution<float> g(0, 0.05f), h(0, 0.2f);
  for (size_t i = 0; i < 784; ++i) b[i] = a[i] + g(rng), c[i] = a[i] + h(rng);
  CHECK(vbq::ms_ssim(a, a, 28, 28) == doctest::Approx(1.0).epsilon(1e-12));
  const double sb = vbq::ms_ssim(a, b, 28, 28), sc = vbq::ms_ssim(a, c, 28, 28);
  CHECK(sb < 1);
  CHECK(sc < sb);
  CHECK(sc >= 0);
  CHECK_THROWS_AS(vbq::ms_ssim(std::span(a).first(100), std::span(a).first(100), 10, 10), vbq::Error);
}

TEST_CASE("JPEG: payload bytes are the scan data, decoding restores the size, quality raises bytes") {
  std::vector<float> a(784);
  for (size_t i = 0; i < 784; ++i) a[i] = float((i / 28) * (i % 28) % 29) / 28.0f;
  const std::vector<uint8_t> lo = vbq::jpeg_encode(a, 28, 28, 5), hi = vbq::jpeg_encode(a, 28, 28, 90);
  CHECK(hi.size() > lo.size());
  const size_t payload = vbq::jpeg_payload_bytes(lo);
  CHECK(payload > 0);
  CHECK(payload < lo.size() - 100);  // headers and tables of a baseline JPEG take hundreds of bytes
  CHECK(vbq::jpeg_decode(hi, 28, 28).size() == 784);
  CHECK(vbq::psnr_db(a, vbq::jpeg_decode(hi, 28, 28)) > vbq::psnr_db(a, vbq::jpeg_decode(lo, 28, 28)));
  std::vector<uint8_t> broken(lo.begin(), lo.begin() + 20);
  CHECK_THROWS_AS(vbq::jpeg_decode(broken, 28, 28), vbq::Error);
}

TEST_CASE("PNG: signature, IHDR size fields") {
  const std::vector<uint8_t> png = vbq::png_grey(std::vector<uint8_t>(6, 128), 3, 2);
  CHECK(png[0] == 0x89);
  CHECK(png[1] == 'P');
  CHECK(png[19] == 3);  // width, big-endian, at bytes 16..19
  CHECK(png[23] == 2);
  CHECK_THROWS_AS(vbq::png_grey(std::vector<uint8_t>(5), 3, 2), vbq::Error);
}
