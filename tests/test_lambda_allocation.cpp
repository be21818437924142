// app/lambda_allocation: one lambda per tensor by equal slope of quality per byte.
// A synthetic model whose quality is a weighted sum of per-tensor squared errors,
// so the losses add exactly and the best allocation is known in direction.
#include <doctest/doctest.h>

#include <random>

#include "app/lambda_allocation.hpp"
#include "tests/quality_fixture.hpp"
#include "vbq/error.hpp"

using namespace vbq;

namespace {

Model two_tensors() {
  Model m;
  for (const char* name : {"a", "b"}) {
    Tensor t = vbq::testing::posterior(200, 50, name[0]).tensors[0];
    t.name = name, t.mean_path = std::string(name) + "/mean";
    m.tensors.push_back(std::move(t));
  }
  return m;
}

// quality = -(weight_a x mse_a + weight_b x mse_b) against `model`'s means.
QualityFn weighted_mse(const Model& model, double weight_a, double weight_b) {
  return [&model, weight_a, weight_b](const Model& means) {
    double q = 0;
    for (size_t t = 0; t < 2; ++t) {
      double mse = 0;
      for (size_t i = 0; i < means.tensors[t].mu.size(); ++i) {
        const double d = means.tensors[t].mu[i] - model.tensors[t].mu[i];
        mse += d * d;
      }
      q -= (t == 0 ? weight_a : weight_b) * mse / double(means.tensors[t].mu.size());
    }
    return q;
  };
}

CompressSettings settings() {
  CompressSettings s;
  s.vbq.threads = 1;
  return s;
}

std::vector<double> grid() { return {0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100}; }

}  // namespace

TEST_CASE("lambda allocation: the tensor whose errors cost more quality gets the smaller lambda, at fewer bytes") {
  const Model m = two_tensors();
  const QualityFn quality = weighted_mse(m, 100, 1);
  const LambdaAllocation alloc(m, quality, settings(), grid());
  const std::vector<double> lambdas = alloc.tensor_lambdas(1.0);
  REQUIRE(lambdas.size() == 2);
  CHECK(lambdas[0] < lambdas[1]);

  CompressSettings uniform = settings(), allocated = settings();
  uniform.vbq.lambda = 1.0;
  allocated.tensor_lambdas = lambdas;
  const Container cu = compress_model(m, uniform), ca = compress_model(m, allocated);
  CHECK(ca.tensors[0].lambda == lambdas[0]);
  CHECK(ca.tensors[1].lambda == lambdas[1]);
  const double loss_u = quality(m) - quality(restore_model(cu)), loss_a = quality(m) - quality(restore_model(ca));
  CHECK(loss_a <= loss_u * (1 + 1e-9));  // additive losses: the prediction is exact
  CHECK(serialize_container(ca).size() < serialize_container(cu).size());
}

TEST_CASE("lambda allocation: tensors that cost the same share one lambda, no smaller than the model-wide one") {
  const Model m = two_tensors();
  const LambdaAllocation alloc(m, weighted_mse(m, 1, 1), settings(), grid());
  for (double lambda : {0.1, 1.0, 10.0}) {
    const std::vector<double> l = alloc.tensor_lambdas(lambda);
    CAPTURE(lambda);
    CHECK(l[0] >= lambda);
    CHECK(l[1] >= lambda);
    CHECK(l[0] <= 3 * lambda);  // the two tensors are alike: one grid step at most
    CHECK(l[1] <= 3 * lambda);
  }
  for (const std::vector<double>& loss : alloc.loss())
    for (size_t j = 1; j < loss.size(); ++j) CHECK(loss[j] >= loss[j - 1]);
}

TEST_CASE("lambda allocation: bad arguments are argument errors") {
  const Model m = two_tensors();
  CHECK_THROWS_AS(LambdaAllocation(m, weighted_mse(m, 1, 1), settings(), {}), Error);
  CHECK_THROWS_AS(LambdaAllocation(m, QualityFn{}, settings(), grid()), Error);
  const LambdaAllocation alloc(m, weighted_mse(m, 1, 1), settings(), grid());
  CHECK_THROWS_AS(alloc.tensor_lambdas(0), Error);
  CompressSettings wrong = settings();
  wrong.tensor_lambdas = {1.0};
  CHECK_THROWS_AS(compress_model(m, wrong), Error);
}
