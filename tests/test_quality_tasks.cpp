// Tests for eval/tasks.hpp: the quality tasks the R-D sweep and rate control score
// models with, on models small enough to work out by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "eval/tasks.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::expect_error;

namespace {

// man : king = woman : queen, in two dimensions.
AnalogySet one_question() {
  AnalogySet q;
  q.sections = {"royalty"};
  q.questions.push_back({0, {"man", "king", "woman", "queen"}, 1});
  return q;
}

// vocab man, woman, king, queen with the given queen vector.
Model embeddings(double queen_x, double queen_y) {
  Model m;
  m.vocab = {"man", "woman", "king", "queen"};
  Tensor t;
  t.name = "word";
  t.shape = {4, 2};
  t.mu = {1, 0, 0, 1, 1, 1, queen_x, queen_y};
  m.tensors.push_back(t);
  return m;
}

}  // namespace

// p = n(king) - n(man) + n(woman) = (1/sqrt2 - 1, 1/sqrt2 + 1). A queen along p has
// s(queen) = |p| = 1.732 > s(woman) = 1.707 > s(king) = 1 > s(man): rank 0.
// A queen equal to man ties with man, below all three others: rank 3 (ties count
// against the answer), so hits1 0, hits10 1, MRR 1/4.
TEST_CASE("quality tasks: analogy metrics of a hand-made model") {
  const auto task = make_analogy_task(one_question(), "word", {});
  CHECK(task->metric_names() == std::vector<std::string>{"hits1", "hits10", "mrr"});
  CHECK(task->primary_metric() == 1);
  const double s = std::sqrt(0.5);
  CHECK(task->evaluate(embeddings(s - 1, s + 1)) == std::vector<double>{1, 1, 1});
  CHECK(task->evaluate(embeddings(1, 0)) == std::vector<double>{0, 1, 0.25});
  const Model tied = embeddings(1, 0);
  CHECK(task_metric(*task, "mrr")(tied) == 0.25);
  CHECK(task_metric(*task, "hits1")(tied) == 0);
}

TEST_CASE("quality tasks: errors name the tensor, the shape and the metrics") {
  const AnalogySet q = one_question();
  Model m = embeddings(1, 0);
  expect_error([&] { evaluate_analogy_tensor(q, m, "context", {}); }, ErrorKind::argument,
               {"analogy task", "no tensor 'context'"});
  m.tensors[0].shape = {2, 4};
  expect_error([&] { evaluate_analogy_tensor(q, m, "word", {}, "--questions"); }, ErrorKind::format,
               {"--questions", "'word'", "[vocabulary size, dim]", "4 vocabulary words"});
  const auto task = make_analogy_task(q, "word", {});
  expect_error([&] { task_metric(*task, "accuracy"); }, ErrorKind::argument,
               {"'accuracy'", "hits1, hits10, mrr"});
}

// One linear layer with weight I and bias 0: logits = x, so x = e_k is class k with
// p = e / (e + 1), and the swapped labels of the second dataset get 1 / (e + 1).
TEST_CASE("quality tasks: classifier accuracy and log-likelihood of a one-layer model") {
  Model m;
  Tensor w, b;
  w.name = "layer1/weight", w.shape = {2, 2}, w.mu = {1, 0, 0, 1};
  b.name = "layer1/bias", b.shape = {2}, b.mu = {0, 0};
  m.tensors = {w, b};
  Dataset d;
  d.rows = 2, d.cols = 2, d.num_classes = 2;
  d.x = {1, 0, 0, 1};
  d.y = {0, 1};
  Dataset swapped = d;
  swapped.y = {1, 0};
  const auto task = make_classifier_task(d), wrong = make_classifier_task(swapped);
  CHECK(task->metric_names() == std::vector<std::string>{"accuracy", "log_likelihood"});
  CHECK(task->primary_metric() == 0);
  const double e = std::exp(1.0);
  const std::vector<double> right = task->evaluate(m), swapped_scores = wrong->evaluate(m);
  CHECK(right[0] == 1);
  CHECK(right[1] == doctest::Approx(std::log(e / (e + 1))).epsilon(1e-6));
  CHECK(swapped_scores[0] == 0);
  CHECK(swapped_scores[1] == doctest::Approx(std::log(1 / (e + 1))).epsilon(1e-6));
  CHECK(task_metric(*task, "log_likelihood")(m) == right[1]);
}
