// Algorithm 1 (lib/vbq/quantizer) under the prior families beyond the paper's
// Gaussian, from the decoder's side: a prior rebuilt from its stored parameters
// must give the encoder's keys and reconstructions bit for bit. That Algorithm 1
// minimises Eq. 9 under every family is checked in test_quantizer.cpp (brute
// force and the plain reference, all families).
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "vbq/prior.hpp"
#include "vbq/quantizer.hpp"

using namespace vbq;

TEST_CASE("prior families: quantize is identical with a prior rebuilt from its parameters") {
  std::vector<std::unique_ptr<Prior>> priors;
  priors.push_back(std::make_unique<GaussianPrior>(0.05, 0.6));
  priors.push_back(std::make_unique<LaplacePrior>(0.1, 0.4));
  priors.push_back(std::make_unique<StudentTPrior>(-0.1, 0.5, 2.5));
  priors.push_back(std::make_unique<MixturePrior>(std::vector<double>{0.4, -0.5, 0.2, 0.6, 0.4, 0.7}));
  priors.push_back(std::make_unique<EmpiricalPrior>(std::vector<double>{-1.0, 0.0, 0.8, 0.1, 0.5, 0.9, 0.3, 0.4}));
  std::mt19937_64 rng(10);
  std::normal_distribution<double> z(0.0, 0.7);
  std::vector<double> mu(20000), sigma(20000);
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = z(rng), sigma[i] = 0.001 + 0.1 * std::fabs(z(rng));
  for (const auto& prior : priors) {
    CAPTURE(prior->describe());
    const auto rebuilt = make_prior(prior->family(), prior->parameters());
    const auto keys = quantize(*prior, mu, sigma, 0.5, 2);
    CHECK(keys == quantize(*rebuilt, mu, sigma, 0.5, 1));
    // and they are Algorithm 1's: the plain reference, coordinate by coordinate
    // (a sample; test_quantizer.cpp holds it to brute force).
    size_t differ = 0;
    for (size_t i = 0; i < mu.size(); i += 7) differ += keys[i] != quantize_reference(*prior, mu[i], sigma[i], 0.5);
    CHECK(differ == 0);
    // Decoding (reconstruct) matches what the encoder's table used, tails included.
    const CodePointTable table(*prior);
    size_t mismatched = 0;
    for (CodeKey k : keys) mismatched += reconstruct(*rebuilt, k) != table.reconstruct(k);
    CHECK(mismatched == 0);
    // The keys are varied enough for the checks above to mean something.
    CHECK(std::set<CodeKey>(keys.begin(), keys.end()).size() > 300);
  }
}
