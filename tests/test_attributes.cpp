// Tests for train/attributes.hpp: the text form of numbers and the BNN's settings
// as model attributes (the skip-gram's round trip is in test_skipgram.cpp).
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "train/attributes.hpp"

using namespace vbq;

TEST_CASE("attributes: numbers are written with ten significant digits") {
  CHECK(format_attribute(0.1) == "0.1");
  CHECK(format_attribute(1.0 / 3) == "0.3333333333");
  CHECK(format_attribute(3e-3) == "0.003");
  CHECK(format_attribute(1e-20) == "1e-20");
  CHECK(format_attribute(-5) == "-5");
  CHECK(format_attribute(123456789012.0) == "1.23456789e+11");
}

TEST_CASE("attributes: the BNN settings under their keys, the prior's parameters by prior") {
  BnnConfig c;
  c.hidden = {400, 300};
  c.epochs = 7;
  c.batch = 64;
  c.lr = 1e-3;
  c.cosine_lr = false;
  c.prior = {BnnPrior::gauss, 0.25};
  c.seed = 42;
  std::map<std::string, std::string> a;
  write_bnn_options(c, {784, 400, 300, 10}, a);
  using namespace bnn_keys;
  CHECK(a.at(kArchitecture) == "784-400-300-10");
  CHECK(a.at(kHidden) == "400,300");
  CHECK(a.at(kEpochs) == "7");
  CHECK(a.at(kBatch) == "64");
  CHECK(a.at(kLr) == "0.001");
  CHECK(a.at(kLrSchedule) == "constant");
  CHECK(a.at(kPrior) == "gauss");
  CHECK(a.at(kPriorStd) == "0.25");
  CHECK(a.count(kKlApproximation) == 0);
  CHECK(a.at(kInitLogStd) == "-5");
  CHECK(a.at(kSeed) == "42");
  CHECK(a.at(kKlWeight) == "0.25");
  CHECK(a.at(kKlWarmupEpochs) == "5");
  CHECK(a.at(kTrainer).find("Bayes by Backprop") != std::string::npos);

  c.prior = {BnnPrior::log_uniform, 0.1};
  c.deterministic = true;
  c.cosine_lr = true;
  a.clear();
  write_bnn_options(c, {784, 10}, a);
  CHECK(a.count(kPriorStd) == 0);
  CHECK(a.at(kPrior) == "log-uniform");
  CHECK(a.at(kKlApproximation) == "Molchanov et al. 2017 Eq. 14, k1 0.63576 k2 1.8732 k3 1.48695, log alpha clipped to +-10");
  CHECK(a.at(kLrSchedule) == "cosine");
  CHECK(a.at(kTrainer).find("--reference-mlp") != std::string::npos);
}
