// eval/mlp: forward pass, accuracy and log-likelihood on hand-set weights.
#include <doctest/doctest.h>

#include <cmath>

#include "eval/mlp.hpp"
#include "vbq/error.hpp"

namespace {

vbq::Tensor tensor(const std::string& name, std::vector<uint64_t> shape, std::vector<double> mu) {
  vbq::Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.mu = std::move(mu);
  return t;
}

vbq::Dataset data2(std::vector<float> x, std::vector<uint8_t> y) {
  vbq::Dataset d;
  d.cols = 2;
  d.rows = y.size();
  d.num_classes = 2;
  d.x = std::move(x);
  d.y = std::move(y);
  return d;
}

}  // namespace

TEST_CASE("mlp single softmax layer: accuracy and log-likelihood by hand") {
  vbq::Model m;  // logits = x · I + (0, 0.5)
  m.tensors.push_back(tensor("layer1/weight", {2, 2}, {1, 0, 0, 1}));
  m.tensors.push_back(tensor("layer1/bias", {2}, {0, 0.5}));
  auto d = data2({2, 0, 0, 3, 1, 0}, {0, 1, 1});
  vbq::MlpScore s = vbq::evaluate_mlp(m, d);
  CHECK(s.examples == 3);
  CHECK(s.accuracy == doctest::Approx(2.0 / 3));
  // log softmax of the label: (2, .5)->0, (0, 3.5)->1, (1, .5)->1.
  double l0 = -std::log1p(std::exp(-1.5)), l1 = -std::log1p(std::exp(-3.5)), l2 = -0.5 - std::log1p(std::exp(-0.5));
  CHECK(s.log_likelihood == doctest::Approx((l0 + l1 + l2) / 3).epsilon(1e-6));
}

TEST_CASE("mlp hidden layer applies ReLU and batching does not change the result") {
  vbq::Model m;  // hidden = relu(x), logits = hidden (weights [in, out])
  m.tensors.push_back(tensor("layer1/weight", {2, 3}, {1, 0, 0, 0, 1, 0}));
  m.tensors.push_back(tensor("layer1/bias", {3}, {0, 0, 1}));
  m.tensors.push_back(tensor("layer2/weight", {3, 2}, {1, 0, 0, 1, 0, 0}));
  m.tensors.push_back(tensor("layer2/bias", {2}, {0, 0}));
  m.tensors.push_back(tensor("unrelated", {1}, {5}));  // ignored
  // (-2, 1): without ReLU logits (-2, 1), with ReLU (0, 1).
  auto d = data2({-2, 1}, {1});
  vbq::MlpScore s = vbq::evaluate_mlp(m, d);
  CHECK(s.accuracy == 1.0);
  CHECK(s.log_likelihood == doctest::Approx(1 - std::log(1 + std::exp(1.0))).epsilon(1e-6));

  auto w = vbq::mlp_from_model(m);
  REQUIRE(w.layers.size() == 2);
  CHECK(w.layers[0].in == 2);
  CHECK(w.layers[0].out == 3);
  vbq::Dataset many = data2({}, {});
  for (int i = 0; i < 37; ++i) {
    many.x.insert(many.x.end(), {float(i % 5) - 2, float(i % 3) - 1});
    many.y.push_back(uint8_t(i % 2));
  }
  many.rows = 37;
  auto a = vbq::evaluate_mlp(w, many, 1), b = vbq::evaluate_mlp(w, many, 8), c = vbq::evaluate_mlp(w, many, 1000);
  CHECK(a.accuracy == b.accuracy);
  CHECK(a.accuracy == c.accuracy);
  CHECK(a.log_likelihood == doctest::Approx(b.log_likelihood).epsilon(1e-12));
  CHECK(a.log_likelihood == doctest::Approx(c.log_likelihood).epsilon(1e-12));
}

TEST_CASE("mlp rejects malformed models and mismatched data") {
  auto d = data2({1, 1}, {0});
  auto kind_of = [&](const vbq::Model& m) {
    try {
      vbq::evaluate_mlp(m, d);
    } catch (const vbq::Error& e) {
      MESSAGE(std::string(e.what()));
      return int(e.kind());
    }
    return -1;
  };
  const int format = int(vbq::ErrorKind::format);
  vbq::Model none;
  none.tensors.push_back(tensor("word", {2}, {1, 2}));
  CHECK(kind_of(none) == format);
  vbq::Model nobias;
  nobias.tensors.push_back(tensor("layer1/weight", {2, 2}, {1, 0, 0, 1}));
  CHECK(kind_of(nobias) == format);
  vbq::Model badbias = nobias;
  badbias.tensors.push_back(tensor("layer1/bias", {3}, {0, 0, 0}));
  CHECK(kind_of(badbias) == format);
  vbq::Model nochain = nobias;
  nochain.tensors.push_back(tensor("layer1/bias", {2}, {0, 0}));
  nochain.tensors.push_back(tensor("layer2/weight", {3, 2}, {0, 0, 0, 0, 0, 0}));
  nochain.tensors.push_back(tensor("layer2/bias", {2}, {0, 0}));
  CHECK(kind_of(nochain) == format);
  vbq::Model wrong_inputs;  // 3 inputs vs 2 features
  wrong_inputs.tensors.push_back(tensor("layer1/weight", {3, 2}, {0, 0, 0, 0, 0, 0}));
  wrong_inputs.tensors.push_back(tensor("layer1/bias", {2}, {0, 0}));
  CHECK(kind_of(wrong_inputs) == format);
}
