// app/image_codec and eval/vae_images: .vbqi round trips (bit-exact latents), byte
// accounting, restriction to the shared tables, bad input.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <random>

#include "app/image_codec.hpp"
#include "eval/vae_images.hpp"
#include "tests/support.hpp"
#include "train/vae.hpp"
#include "vbq/error.hpp"
#include "vbq/prior.hpp"
#include "vbq/quantizer.hpp"

namespace {

struct Posteriors {
  std::vector<double> mu, sigma;
};
// n x dims posteriors: dimension d has mean spread 1 / (d + 1) and std 0.05 (d + 1), so
// the last dimensions are nearly collapsed.
Posteriors posteriors(size_t n, size_t dims, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g;
  Posteriors p;
  for (size_t i = 0; i < n; ++i)
    for (size_t d = 0; d < dims; ++d) {
      p.mu.push_back(g(rng) / double(d + 1));
      p.sigma.push_back(0.05 * double(d + 1) * (0.5 + std::abs(g(rng)) * 0.5));
    }
  return p;
}

const vbq::VaeCoder& tiny_coder() {
  static const vbq::VaeCoder coder = [] {
    vbq::Dataset train;
    train.rows = 200, train.cols = 784, train.num_classes = 10;
    std::mt19937 rng(4);
    for (size_t i = 0; i < 200 * 784; ++i) train.x.push_back(float(rng() % 256) / 255.0f * (i % 784 < 392 ? 1.0f : 0.3f));
    train.y.assign(200, 0);
    vbq::VaeConfig cfg;
    cfg.latent = 4, cfg.hidden = 16, cfg.epochs = 1, cfg.batch = 50, cfg.code_table_images = 200;
    return vbq::vae_coder(vbq::train_vae(train, nullptr, cfg).model);
  }();
  return coder;
}

vbq::Dataset images(size_t n, uint32_t seed) {
  vbq::Dataset d;
  d.rows = n, d.cols = 784, d.num_classes = 10;
  std::mt19937 rng(seed);
  for (size_t i = 0; i < n * 784; ++i) d.x.push_back(float(rng() % 256) / 255.0f);
  d.y.assign(n, 0);
  return d;
}

}  // namespace

TEST_CASE("vbqi round trip restores every symbol for vbq, vbq+refine, vbq+wide+refine and uniform") {
  const Posteriors train = posteriors(500, 5, 1), test = posteriors(64, 5, 2);
  for (auto [method, parameter] : {std::pair{vbq::LatentMethod::vbq, 0.5}, std::pair{vbq::LatentMethod::vbq_refine, 0.5},
                                   std::pair{vbq::LatentMethod::vbq_wide_refine, 0.5},
                                   std::pair{vbq::LatentMethod::uniform, 0.1}}) {
    const vbq::LatentTables t = vbq::latent_tables(method, parameter, train.mu, train.sigma, 5);
    const std::vector<uint32_t> sym = vbq::quantize_latents(t, test.mu, test.sigma);
    const vbq::VbqiHeader h{method, parameter, 1234, 64, 5, 28, 28};
    std::vector<size_t> dim_bytes;
    const std::vector<uint8_t> file = vbq::write_vbqi(h, t, sym, &dim_bytes);
    CHECK(vbq::read_vbqi_symbols(file, t, "f") == sym);
    const vbq::VbqiHeader back = vbq::read_vbqi_header(file, "f");
    CHECK(back.images == 64);
    CHECK(back.model_crc == 1234);
    // Bytes: 20 fixed header bytes, 4 one-byte varints, the streams, the checksum.
    size_t streams = 0;
    for (size_t b : dim_bytes) streams += b;
    CHECK(file.size() == 20 + 4 + streams + 4);
  }
}

TEST_CASE("vbq latents of the shared table are Algorithm 1's code points where the table has them") {
  const Posteriors train = posteriors(2000, 3, 1), test = posteriors(100, 3, 2);
  const vbq::LatentTables t = vbq::latent_tables(vbq::LatentMethod::vbq, 2.0, train.mu, train.sigma, 3);
  const std::vector<uint32_t> sym = vbq::quantize_latents(t, test.mu, test.sigma);
  const std::vector<double> z = vbq::latent_values(t, sym);
  const vbq::GaussianPrior prior(0, 1);
  size_t same = 0;
  for (size_t i = 0; i < sym.size(); ++i) {
    const vbq::CodeKey k = vbq::quantize_reference(prior, test.mu[i], test.sigma[i], 2.0);
    if (t.keys[i % 3][sym[i]] != k) continue;
    ++same;
    CHECK(z[i] == vbq::reconstruct(prior, k));
  }
  CHECK(same >= sym.size() * 95 / 100);
  // A mean far outside the training range still maps to a code point of the table.
  const std::vector<double> far_mu{40, -40, 0}, far_sigma{0.01, 0.01, 1};
  const std::vector<uint32_t> far = vbq::quantize_latents(t, far_mu, far_sigma);
  for (size_t d = 0; d < 3; ++d) CHECK(far[d] < t.keys[d].size());
}

TEST_CASE("vbq+wide+refine reconstructs at the quantiles of N(0, 4) and refines on them") {
  const Posteriors train = posteriors(2000, 3, 1);
  const vbq::LatentTables wide = vbq::latent_tables(vbq::LatentMethod::vbq_wide_refine, 0.5, train.mu, train.sigma, 3);
  const vbq::LatentTables standard = vbq::latent_tables(vbq::LatentMethod::vbq_refine, 0.5, train.mu, train.sigma, 3);
  const vbq::GaussianPrior unit(0, 1), four(0, 2);
  CHECK(vbq::kWideGridStd == 2.0);
  for (size_t d = 0; d < 3; ++d) {
    REQUIRE(wide.keys[d].size() >= 4);
    for (size_t j = 0; j < wide.keys[d].size(); ++j) {
      const vbq::CodeKey k = wide.keys[d][j];
      CHECK(wide.values[d][j] == vbq::reconstruct(four, k));
      CHECK(wide.values[d][j] == doctest::Approx(2 * vbq::reconstruct(unit, k)).epsilon(1e-12));
    }
  }
  // The same training posteriors give other code points on the wider grid.
  CHECK(wide.keys != standard.keys);
  // An image's coordinate takes the table point of least (z - mu)^2 + 2 lambda sigma^2 (code bits).
  const Posteriors test = posteriors(50, 3, 2);
  const std::vector<uint32_t> sym = vbq::quantize_latents(wide, test.mu, test.sigma);
  for (size_t i = 0; i < sym.size(); ++i) {
    const auto& t = wide.tables[i % 3];
    auto loss = [&](uint32_t j) {
      const double e = wide.values[i % 3][j] - test.mu[i];
      return e * e + 2 * 0.5 * test.sigma[i] * test.sigma[i] * (double(t.precision_bits) - std::log2(double(t.freq[j])));
    };
    for (uint32_t j = 0; j < wide.keys[i % 3].size(); ++j) CHECK(loss(sym[i]) <= loss(j));
  }
}

TEST_CASE("encode_images and decode_images: decoded latents are bit for bit the encoder's") {
  const vbq::VaeCoder& c = tiny_coder();
  const vbq::Dataset x = images(30, 9);
  for (auto [method, lambda] : {std::pair{vbq::LatentMethod::vbq, 0.01}, std::pair{vbq::LatentMethod::vbq, 1.0},
                                std::pair{vbq::LatentMethod::vbq, 100.0}, std::pair{vbq::LatentMethod::vbq_wide_refine, 1.0}}) {
    const std::vector<uint8_t> file = vbq::encode_images(c, x, method, lambda);
    const vbq::DecodedImages d = vbq::decode_images(c, file, "x.vbqi");
    std::vector<double> mu, sigma;
    vbq::vae_encode(c.net, x.x.data(), x.rows, mu, sigma);
    const vbq::LatentTables t = c.tables(method, lambda);
    const std::vector<double> z = vbq::latent_values(t, vbq::quantize_latents(t, mu, sigma));
    REQUIRE(d.latents.size() == z.size());
    for (size_t i = 0; i < z.size(); ++i) CHECK(std::bit_cast<uint64_t>(d.latents[i]) == std::bit_cast<uint64_t>(z[i]));
    CHECK(d.pixels.size() == 30 * 784);
  }
}

TEST_CASE("vbqi bad input: magic, version, truncation, damage, another model") {
  const vbq::VaeCoder& c = tiny_coder();
  const std::vector<uint8_t> file = vbq::encode_images(c, images(10, 3), vbq::LatentMethod::vbq, 1.0);
  using vbq::ErrorKind;
  auto decode = [&](std::vector<uint8_t> f) { return [&c, f] { vbq::decode_images(c, f, "bad.vbqi"); }; };
  std::vector<uint8_t> f = file;
  f[0] = 'X';
  vbq::testing::expect_error(decode(f), ErrorKind::format, {"bad.vbqi", "not a .vbqi"});
  f = file;
  f[4] = 2;
  vbq::testing::expect_error(decode(f), ErrorKind::format, {"major version 2"});
  f = file;
  f.resize(12);
  vbq::testing::expect_error(decode(f), ErrorKind::corrupt, {"truncated"});
  f = file;
  REQUIRE(f.size() >= 28);  // header, four length varints, checksum
  f[f.size() - 6] ^= 0x10;
  vbq::testing::expect_error(decode(f), ErrorKind::corrupt, {"checksum"});
  f = file;
  f[16] ^= 1;  // the model fingerprint
  vbq::testing::expect_error(decode(f), ErrorKind::argument, {"another VAE model"});
  f = file;
  f[7] = 1;
  vbq::testing::expect_error(decode(f), ErrorKind::corrupt, {"reserved"});
  const Posteriors p = posteriors(10, 2, 1);
  vbq::testing::expect_error([&] { vbq::latent_tables(vbq::LatentMethod::vbq, 0, p.mu, p.sigma, 2); },
                             ErrorKind::argument, {"lambda"});
}
