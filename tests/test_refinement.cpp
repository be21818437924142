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
  CodeKeys paper = quantize(prior, d.mu, d.sigma, 2.0);
  CHECK(refine_code_points(prior, d.mu, d.sigma, 2.0, paper, 0) == paper);
  std::vector<RefinementPass> log;
  CodeKeys refined = refine_code_points(prior, d.mu, d.sigma, 2.0, paper, 4, 0, &log);
  REQUIRE(log.size() >= 2);
  CHECK(log[0].payload_bits == doctest::Approx(empirical_entropy_bits(paper)));
  CHECK(log[1].payload_bits + log[1].table_bits < log[0].payload_bits + log[0].table_bits);
  CHECK(log[1].table_size <= log[0].table_size);
  // Every refined code point was already in the paper's table.
  CodeKeys table(paper);
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

TEST_CASE("refinement: per-segment tables follow statistics that drift along the tensor") {
  // First half: narrow posteriors (many code points used); second half: wide
  // ones (a few cheap points). One table per half prices each half by its own
  // statistics.
  Data d = embedding_like(200000);
  for (size_t i = 100000; i < d.sigma.size(); ++i) d.sigma[i] *= 3;
  for (size_t i = 0; i < 100000; ++i) d.sigma[i] *= 0.2;
  GaussianPrior prior = fit_gaussian_prior(d.mu);
  CodeKeys paper = quantize(prior, d.mu, d.sigma, 2.0);
  std::vector<RefinementPass> whole, halves;
  refine_code_points(prior, d.mu, d.sigma, 2.0, paper, 3, 0, &whole);
  const auto split = refine_code_points(prior, d.mu, d.sigma, 2.0, paper, 3, 0, &halves, 100000);
  // Pass 0 describes the same keys: per-half entropies sum to less than the whole's.
  CHECK(halves[0].payload_bits < whole[0].payload_bits);
  CHECK(halves.back().payload_bits + halves.back().table_bits < whole.back().payload_bits + whole.back().table_bits);
  // A segment as long as the tensor is the single table.
  CHECK(refine_code_points(prior, d.mu, d.sigma, 2.0, paper, 3, 0, nullptr, 200000) ==
        refine_code_points(prior, d.mu, d.sigma, 2.0, paper, 3));
  // Thread count does not matter.
  CHECK(refine_code_points(prior, d.mu, d.sigma, 2.0, paper, 3, 1, nullptr, 100000) == split);
}
