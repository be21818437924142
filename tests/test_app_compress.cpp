// app/compress: whole models compressed for a target (lambda, file size, bits per
// dimension, a fraction of the uncompressed quality), the honest report when no
// lambda meets it, and the target options' text. Data-free: a synthetic posterior,
// a fidelity metric, and a real classifier on a synthetic dataset.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "app/compress.hpp"
#include "eval/mlp.hpp"
#include "eval/rd.hpp"
#include "tests/quality_fixture.hpp"
#include "tests/support.hpp"

using namespace vbq;
using vbq::testing::Fidelity;
using vbq::testing::kind_of;
using vbq::testing::posterior;

namespace {

CompressSettings settings() {
  CompressSettings s;
  s.vbq.threads = 2;
  return s;
}

QualityTarget fidelity_target(const Fidelity& task, double fraction) {
  return {task_metric(task, "fidelity"), fraction, "fidelity"};
}

std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("app rate control: a lambda target is compress_model at that lambda") {
  Model m = posterior(500, 4, 3);
  CompressSettings s = settings();
  s.vbq.lambda = 0.5;
  CompressSettings other = settings();
  other.vbq.lambda = 123;  // ignored: the target says the lambda
  Compressed r = compress(m, LambdaTarget{0.5}, other);
  CHECK(r.met);
  CHECK(r.lambda == 0.5);
  CHECK(r.report.empty());
  CHECK(serialize_container(require_met(r)) == serialize_container(compress_model(m, s)));
}

TEST_CASE("app rate control: a size target fits the file within 1 percent and says when it cannot") {
  Model m = posterior(4000, 1, 3);
  Compressed r = compress(m, SizeTarget{1500}, settings());
  REQUIRE(r.met);
  CHECK(serialize_container(r.container).size() == r.bytes);
  CHECK(r.bytes <= 1500);
  CHECK(r.bytes >= 1485);  // close to the target (the search stops within 1% below it)
  CHECK(r.container.tensors.at(0).lambda == r.lambda);
  CHECK(r.report.find("lambda") != std::string::npos);

  // Larger than the full-precision file of the first bracket's lo = 1e-4: the
  // search goes below it and spends the bytes.
  const uint64_t at_lo = serialize_container(compress(m, LambdaTarget{1e-4}, settings()).container).size();
  Compressed big = compress(m, SizeTarget{2 * at_lo}, settings());
  REQUIRE(big.met);
  CHECK(big.lambda < 1e-4);
  CHECK(big.bytes > at_lo);
  CHECK(big.bytes <= 2 * at_lo);

  Compressed none = compress(m, SizeTarget{10}, settings());
  CHECK_FALSE(none.met);
  CHECK(none.container.tensors.empty());
  CHECK(none.bytes > 10);
  CHECK(none.bytes < 200);  // the smallest file: header and a one-symbol table
  char smallest[80];
  std::snprintf(smallest, sizeof smallest, "the smallest file found is %llu bytes", (unsigned long long)none.bytes);
  CHECK(none.report.find("cannot be met") != std::string::npos);
  CHECK(none.report.find(smallest) != std::string::npos);
  CHECK(kind_of([&] { require_met(none); }) == ErrorKind::argument);
  CHECK(error_text([&] { require_met(none); }) == none.report);
}

TEST_CASE("app rate control: a bits-per-dimension target is the size target of its bytes") {
  Model m = posterior(4000, 1, 3);
  const double bits = 2.5;
  Compressed r = compress(m, BitsTarget{bits}, settings());
  REQUIRE(r.met);
  CHECK(8.0 * double(r.bytes) / 4000 <= bits);
  CHECK(8.0 * double(r.bytes) / 4000 >= 0.99 * bits);
  Compressed same = compress(m, SizeTarget{uint64_t(bits * 4000 / 8)}, settings());
  CHECK(same.lambda == r.lambda);
  CHECK(same.bytes == r.bytes);
}

TEST_CASE("app rate control: a quality target searches below lambda 1e-3 when it must and names the best quality") {
  Model m = posterior(3000, 1, 5);
  m.vocab.assign(3000, "w");
  Fidelity task(m);
  // A loose target: met inside the first bracket.
  Compressed loose = compress(m, fidelity_target(task, 0.9), settings());
  REQUIRE(loose.met);
  CHECK(loose.uncompressed == 1);
  CHECK(loose.target == 0.9);
  CHECK(loose.value >= 0.9);
  CHECK(loose.lambda > 1e-3);
  CHECK(serialize_container(loose.container).size() == loose.bytes);

  // The function sees decompressed means with the original vocabulary.
  QualityTarget seen = fidelity_target(task, 0.9);
  seen.quality = [&](const Model& means) {
    CHECK(means.vocab.size() == 3000);
    return task.evaluate(means)[0];
  };
  CHECK(compress(m, seen, settings()).lambda == loose.lambda);

  // Fidelity at lambda 1e-3, then a target just above it: only smaller lambdas meet it.
  Compressed lo = compress(m, LambdaTarget{1e-3}, settings());
  const double at_lo = task.evaluate(restore_model(lo.container))[0];
  REQUIRE(at_lo < 1);
  const double target = at_lo + (1 - at_lo) / 2;
  Compressed tight = compress(m, fidelity_target(task, target), settings());
  REQUIRE(tight.met);
  CHECK(tight.lambda < 1e-3);
  CHECK(tight.value >= target);
  CHECK(task.evaluate(restore_model(tight.container))[0] == tight.value);  // the container kept is the one measured

  // Above the uncompressed quality: unreachable, reported with the best reached.
  Compressed never = compress(m, fidelity_target(task, 1.5), settings());
  CHECK_FALSE(never.met);
  CHECK(never.container.tensors.empty());
  CHECK(never.value > target);  // the search went as far as the quality kept improving
  CHECK(never.value <= 1);
  CHECK(never.bytes > tight.bytes);
  char best[120];
  std::snprintf(best, sizeof best, "the best fidelity found is %.6g at lambda %.6g", never.value, never.lambda);
  CHECK(never.report.find("fidelity >= 1.5 ") != std::string::npos);
  CHECK(never.report.find("cannot be met at any lambda") != std::string::npos);
  CHECK(never.report.find(best) != std::string::npos);
  CHECK(describe_probes(never).find("-> fidelity ") != std::string::npos);

  CHECK(kind_of([&] { task_metric(task, "hits10"); }) == ErrorKind::argument);
  CHECK(error_text([&] { task_metric(task, "hits10"); }).find("fidelity") != std::string::npos);
  CHECK(kind_of([&] { compress(m, fidelity_target(task, 0), settings()); }) == ErrorKind::argument);
  CHECK(kind_of([&] { compress(m, QualityTarget{{}, 0.9, "q"}, settings()); }) == ErrorKind::argument);
  CHECK(kind_of([&] { compress(m, SizeTarget{0}, settings()); }) == ErrorKind::argument);
  CHECK(kind_of([&] { compress(m, BitsTarget{-1}, settings()); }) == ErrorKind::argument);
}

TEST_CASE("app rate control: a classifier's accuracy target on a synthetic dataset") {
  // A 6-8-3 MLP with random weights; the labels are its own predictions, so the
  // uncompressed accuracy is 1 and compression can only lose.
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0.0, 1.0);
  Model m;
  auto add = [&](const std::string& name, std::vector<uint64_t> shape) {
    Tensor t;
    t.name = name;
    t.shape = shape;
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    for (uint64_t i = 0; i < n; ++i) t.mu.push_back(z(rng)), t.sigma.push_back(0.05);
    m.tensors.push_back(t);
  };
  add("layer1/weight", {6, 8});
  add("layer1/bias", {8});
  add("layer2/weight", {8, 3});
  add("layer2/bias", {3});
  Dataset d;
  d.rows = 400, d.cols = 6, d.num_classes = 3;
  std::uniform_real_distribution<float> u(0, 1);
  for (size_t i = 0; i < d.rows * d.cols; ++i) d.x.push_back(u(rng));
  MlpWeights w = mlp_from_model(m);
  d.y.assign(d.rows, 0);
  for (size_t i = 0; i < d.rows; ++i) {  // label = argmax of the model's logits, one example at a time
    Dataset one{1, d.cols, 3, {d.x.begin() + long(i * d.cols), d.x.begin() + long((i + 1) * d.cols)}, {0}};
    for (uint8_t c = 0; c < 3; ++c) {
      one.y = {c};
      if (evaluate_mlp(w, one).accuracy == 1) d.y[i] = c;
    }
  }
  auto task = make_classifier_task(d);
  REQUIRE(task->evaluate(m)[0] == 1.0);

  Compressed r = compress(m, QualityTarget{task_metric(*task, "accuracy"), 0.95, "accuracy"}, settings());
  REQUIRE(r.met);
  CHECK(r.value >= 0.95);
  Model restored = restore_model(r.container);
  CHECK(task->evaluate(restored)[0] == r.value);

  Compressed exact = compress(m, QualityTarget{task_metric(*task, "accuracy"), 1.0, "accuracy"}, settings());
  REQUIRE(exact.met);  // full precision is reachable: some lambda keeps every prediction
  CHECK(exact.value == 1.0);
  CHECK(exact.lambda <= r.lambda);
}

TEST_CASE("app rate control: target options from text") {
  CHECK(parse_size("123456") == 123456);
  CHECK(parse_size("12MB") == 12000000);
  CHECK(parse_size("800KiB") == 819200);
  CHECK(parse_size("1.5K") == 1500);
  CHECK(parse_size("2GiB") == 2147483648ull);
  for (const char* bad : {"", "MB", "12XB", "-5", "0", "0.1", "12 MB", "nan"})
    CHECK_MESSAGE(kind_of([&] { parse_size(bad); }) == ErrorKind::argument, bad);

  QualitySpec q = parse_quality_spec("hits10=0.95x");
  CHECK(q.metric == "hits10");
  CHECK(q.fraction == 0.95);
  for (const char* bad : {"hits10=0.95", "=0.9x", "hits10=x", "hits10=0x", "hits10=abcx", "hits10=0.9yx", "x"})
    CHECK_MESSAGE(kind_of([&] { parse_quality_spec(bad); }) == ErrorKind::argument, bad);

  auto none = std::function<QualityFn(const std::string&)>();
  CHECK(std::get<LambdaTarget>(parse_target({0.25, "", "", ""}, none)).lambda == 0.25);
  CHECK(std::get<SizeTarget>(parse_target({1, "1KiB", "", ""}, none)).bytes == 1024);
  CHECK(std::get<BitsTarget>(parse_target({1, "", "1.5", ""}, none)).bits_per_dim == 1.5);
  CHECK(kind_of([&] { parse_target({1, "", "1.5b", ""}, none); }) == ErrorKind::argument);
  CHECK(kind_of([&] { parse_target({1, "", "0", ""}, none); }) == ErrorKind::argument);
  CHECK(kind_of([&] { parse_target({1, "1KB", "1.5", ""}, none); }) == ErrorKind::argument);  // two targets
  CHECK(kind_of([&] { parse_target({1, "", "", "acc=0.9x"}, none); }) == ErrorKind::argument);  // no task

  std::string asked;
  auto metrics = [&](const std::string& metric) -> QualityFn {
    asked = metric;
    return [](const Model&) { return 0.5; };
  };
  Target t = parse_target({1, "", "", "accuracy=0.99x"}, metrics);
  const QualityTarget& qt = std::get<QualityTarget>(t);
  CHECK(asked == "accuracy");
  CHECK(qt.name == "accuracy");
  CHECK(qt.fraction == 0.99);
  CHECK(qt.quality(Model()) == 0.5);
}
