#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "vbq/codec.hpp"
#include "vbq/error.hpp"
#include "vbq/quantizer.hpp"

using namespace vbq;

namespace {
struct Posterior {
  std::vector<double> mu, sigma;
};
Posterior random_posterior(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 0.3);
  std::uniform_real_distribution<double> ls(std::log(0.003), std::log(0.5));
  Posterior p{std::vector<double>(n), std::vector<double>(n)};
  for (size_t i = 0; i < n; ++i) p.mu[i] = z(rng), p.sigma[i] = std::exp(ls(rng));
  return p;
}
}  // namespace

TEST_CASE("codec: vbq round trip rebuilds exactly F^{-1} of the chosen code points") {
  Posterior p = random_posterior(300000, 1);
  VbqSettings s;
  s.lambda = 0.5;
  EncodedTensor t = encode_vbq(p.mu, p.sigma, s);
  t.shape = {3000, 100};
  GaussianPrior prior = fit_gaussian_prior(p.mu);
  std::vector<CodeKey> keys = quantize(prior, p.mu, p.sigma, s.lambda);
  std::vector<double> restored = decode_tensor(t);
  REQUIRE(restored.size() == keys.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < keys.size(); ++i) mismatches += restored[i] != reconstruct(prior, keys[i]);
  CHECK(mismatches == 0);
  // The file pays close to the ideal entropy of the code points (table aside).
  double ideal = empirical_entropy_bits(keys) / 8;
  CHECK(double(t.symbols.payload_bytes()) < ideal * 1.01 + 64 * t.symbols.blocks.size());
  CHECK(double(t.symbols.payload_bytes()) > ideal * 0.99);
}

TEST_CASE("codec: larger lambda, fewer bits and larger error") {
  Posterior p = random_posterior(100000, 2);
  double prev_bytes = 1e300, prev_err = -1;
  for (double lambda : {0.01, 1.0, 100.0, 1e4}) {
    VbqSettings s;
    s.lambda = lambda;
    EncodedTensor t = encode_vbq(p.mu, p.sigma, s);
    std::vector<double> r = decode_tensor(t);
    double err = 0;
    for (size_t i = 0; i < r.size(); ++i) err += (r[i] - p.mu[i]) * (r[i] - p.mu[i]);
    CAPTURE(lambda);
    CHECK(double(t.symbols.payload_bytes()) < prev_bytes);
    CHECK(err > prev_err);
    prev_bytes = double(t.symbols.payload_bytes());
    prev_err = err;
  }
}

TEST_CASE("codec: bytes identical for any thread count") {
  Posterior p = random_posterior(2500000, 3);  // > 2 blocks
  VbqSettings s;
  s.lambda = 2.0;
  s.threads = 1;
  EncodedTensor a = encode_vbq(p.mu, p.sigma, s);
  s.threads = 2;
  EncodedTensor b = encode_vbq(p.mu, p.sigma, s);
  s.threads = 8;
  EncodedTensor c = encode_vbq(p.mu, p.sigma, s);
  REQUIRE(a.symbols.blocks.size() == 3);
  CHECK(a.symbols.blocks == b.symbols.blocks);
  CHECK(a.symbols.blocks == c.symbols.blocks);
  CHECK(a.symbols.alphabet == c.symbols.alphabet);
  CHECK(decode_tensor(a, 1) == decode_tensor(a, 8));
}

TEST_CASE("codec: uniform grid follows the paper's baseline formula") {
  std::vector<double> mu = {-1.0, -0.26, 0.0, 0.24, 0.5, 1.0};
  double scale = 0;
  std::vector<int32_t> q = grid_values(mu, 2, &scale);
  CHECK(scale == doctest::Approx(2.5));
  CHECK(q == std::vector<int32_t>{-2, -1, 0, 1, 1, 2});
  EncodedTensor t = encode_grid(mu, 2);
  std::vector<double> r = decode_tensor(t);
  for (size_t i = 0; i < mu.size(); ++i) CHECK(r[i] == double(q[i]) / scale);
  CHECK_THROWS_AS(grid_values(mu, 0), Error);
}

TEST_CASE("codec: codebook maps each value to its nearest centroid") {
  std::vector<double> mu = {-0.9, -0.1, 0.05, 0.6, 2.0};
  EncodedTensor t = encode_codebook(mu, {-1.0, 0.0, 1.0});
  CHECK(decode_tensor(t) == std::vector<double>{-1.0, 0.0, 0.0, 1.0, 1.0});
  CHECK_THROWS_AS(encode_codebook(mu, {1.0, 0.0}), Error);
}

TEST_CASE("codec: a corrupt code-point table is reported, not decoded") {
  Posterior p = random_posterior(1000, 4);
  VbqSettings s;
  EncodedTensor t = encode_vbq(p.mu, p.sigma, s);
  t.symbols.alphabet[0] = 4;  // even key: not a shortest code point
  try {
    decode_tensor(t);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::corrupt);
  }
}
