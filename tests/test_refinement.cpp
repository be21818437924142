#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "vbq/codec.hpp"
#include "vbq/refinement.hpp"

using namespace vbq;

namespace {
struct Data {
  std::vector<double> mu, sigma;
};
Data embedding_like(size_t n) {  // wide posteriors for many rare rows, narrow for a few frequent ones
  std::mt19937_64 rng(9);
  std::normal_distribution<double> z(0.0, 1.0);
  Data d{std::vector<double>(n), std::vector<double>(n)};
  for (size_t i = 0; i < n; ++i) {
    double width = (i % 10 == 0) ? 0.02 : 0.3;
    d.mu[i] = 0.4 * z(rng);
    d.sigma[i] = width * std::exp(0.3 * z(rng));
  }
  return d;
}
}  // namespace

TEST_CASE("refinement: zero passes is the paper's Algorithm 1, and passes shrink the estimated size") {
  Data d = embedding_like(200000);
  GaussianPrior prior = fit_gaussian_prior(d.mu);
  std::vector<CodeKey> paper = quantize(prior, d.mu, d.sigma, 2.0);
  CHECK(refine_code_points(prior, d.mu, d.sigma, 2.0, paper, 0) == paper);
  std::vector<RefinementPass> log;
  std::vector<CodeKey> refined = refine_code_points(prior, d.mu, d.sigma, 2.0, paper, 4, 0, &log);
  REQUIRE(log.size() >= 2);
  CHECK(log[0].payload_bits == doctest::Approx(empirical_entropy_bits(paper)));
  CHECK(log[1].payload_bits + log[1].table_bits < log[0].payload_bits + log[0].table_bits);
  CHECK(log[1].table_size <= log[0].table_size);
  // Every refined code point was already in the paper's table.
  std::vector<CodeKey> table(paper);
  std::sort(table.begin(), table.end());
  for (CodeKey k : refined) REQUIRE(std::binary_search(table.begin(), table.end(), k));
}

TEST_CASE("refinement: smaller real files at the same lambda, same bytes for any thread count") {
  Data d = embedding_like(300000);
  VbqSettings s;
  s.lambda = 2.0;
  EncodedTensor paper = encode_vbq(d.mu, d.sigma, s);
  s.refine_passes = 3;
  s.threads = 1;
  EncodedTensor one = encode_vbq(d.mu, d.sigma, s);
  s.threads = 2;
  EncodedTensor two = encode_vbq(d.mu, d.sigma, s);
  CHECK(one.symbols.blocks == two.symbols.blocks);
  CHECK(one.symbols.payload_bytes() < paper.symbols.payload_bytes());
}
