// tools/trainers/bnn: gradients, determinism, learning, model output, Ctrl-C.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cmath>
#include <csignal>
#include <fstream>
#include <random>

#include "formats/hdf5_model.hpp"
#include "tests/support.hpp"
#include "tools/trainers/bnn.hpp"
#include "vbq/error.hpp"

namespace {

template <class T>
std::vector<std::vector<T>*> tensors(vbq::BnnParams<T>& p) {
  std::vector<std::vector<T>*> v;
  for (auto& L : p) v.insert(v.end(), {&L.w_mu, &L.w_log_std, &L.b_mu, &L.b_log_std});
  return v;
}

// Gaussian blobs: class c centred at a fixed random point, well separated.
vbq::Dataset blobs(size_t n, size_t dim, int classes, double noise, uint32_t seed) {
  std::mt19937 centres_rng(12345), rng(seed);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> centres(size_t(classes) * dim);
  for (double& c : centres) c = g(centres_rng);
  vbq::Dataset d;
  d.rows = n;
  d.cols = dim;
  d.num_classes = classes;
  for (size_t i = 0; i < n; ++i) {
    int c = int(i % size_t(classes));
    d.y.push_back(uint8_t(c));
    for (size_t j = 0; j < dim; ++j) d.x.push_back(float(centres[size_t(c) * dim + j] + noise * g(rng)));
  }
  return d;
}

}  // namespace

TEST_CASE("bnn analytic gradients match central finite differences") {
  // Double precision, two hidden layers so the chain through ReLU and through
  // the variance path (2A ⊙ dV·S²ᵀ) is exercised; log_std near -1 so the noise
  // terms are not negligible.
  const size_t B = 6, D = 5, N = 40;
  const vbq::BnnPriorSpec prior{vbq::BnnPrior::gauss, 0.7};
  const double beta = 0.5;  // KL weight, so its scaling is checked too
  auto p = vbq::bnn_init<double>(D, {4, 3}, 3, -1.0, 11);
  std::mt19937 rng(3);
  std::normal_distribution<double> g(0, 1);
  for (auto* v : tensors(p))
    for (double& x : *v) x += 0.3 * g(rng);  // also moves biases and log_std off their constant init
  std::vector<double> x(B * D);
  for (double& v : x) v = g(rng);
  std::vector<uint8_t> y{0, 1, 2, 1, 0, 2};
  std::vector<std::vector<double>> eps;
  for (auto& L : p) {
    eps.emplace_back(B * L.out);
    for (double& e : eps.back()) e = g(rng);
  }
  vbq::BnnObjective<double> obj;
  vbq::BnnParams<double> grad, scratch;
  vbq::BnnLoss base = obj.evaluate(p, x.data(), y.data(), B, N, prior, eps, &grad, beta);
  CHECK(base.objective == doctest::Approx(base.nll + beta * base.kl / N));
  CHECK(base.kl > 0);

  auto pv = tensors(p), gv = tensors(grad);
  size_t checked = 0;
  double worst = 0;
  for (size_t t = 0; t < pv.size(); ++t)
    for (size_t i = 0; i < pv[t]->size(); ++i) {
      double& w = (*pv[t])[i];
      const double keep = w, h = 1e-5;
      w = keep + h;
      double up = obj.evaluate(p, x.data(), y.data(), B, N, prior, eps, &scratch, beta).objective;
      w = keep - h;
      double down = obj.evaluate(p, x.data(), y.data(), B, N, prior, eps, &scratch, beta).objective;
      w = keep;
      double numeric = (up - down) / (2 * h), analytic = (*gv[t])[i];
      double err = std::abs(numeric - analytic) / std::max(1e-3, std::abs(numeric) + std::abs(analytic));
      worst = std::max(worst, err);
      CHECK_MESSAGE(err < 1e-5, "tensor " << t << " index " << i << " analytic " << analytic << " numeric " << numeric);
      ++checked;
    }
  CHECK(checked == (5 * 4 + 4 + 4 * 3 + 3 + 3 * 3 + 3) * 2);
  MESSAGE("worst relative gradient error " << worst);

  // The float instantiation (used for training) computes the same gradient.
  vbq::BnnParams<float> pf(p.size()), gf;
  for (size_t k = 0; k < p.size(); ++k) {
    pf[k].in = p[k].in;
    pf[k].out = p[k].out;
    auto cp = [](const std::vector<double>& s) { return std::vector<float>(s.begin(), s.end()); };
    pf[k].w_mu = cp(p[k].w_mu), pf[k].w_log_std = cp(p[k].w_log_std);
    pf[k].b_mu = cp(p[k].b_mu), pf[k].b_log_std = cp(p[k].b_log_std);
  }
  std::vector<float> xf(x.begin(), x.end());
  std::vector<std::vector<float>> ef;
  for (auto& e : eps) ef.emplace_back(e.begin(), e.end());
  vbq::BnnObjective<float> objf;
  vbq::BnnLoss lf = objf.evaluate(pf, xf.data(), y.data(), B, N, prior, ef, &gf, beta);
  CHECK(lf.objective == doctest::Approx(base.objective).epsilon(1e-5));
  auto gfv = tensors(gf);
  for (size_t t = 0; t < gv.size(); ++t)
    for (size_t i = 0; i < gv[t]->size(); ++i)
      CHECK((*gfv[t])[i] == doctest::Approx((*gv[t])[i]).epsilon(1e-3).scale(1e-2));
}

TEST_CASE("bnn training is bit-reproducible with one thread and depends on the seed") {
  auto train = blobs(300, 10, 3, 1.0, 1);
  vbq::BnnConfig cfg;
  cfg.hidden = {8};
  cfg.epochs = 2;
  cfg.batch = 32;
  cfg.threads = 1;
  cfg.seed = 7;
  auto a = vbq::train_bnn(train, nullptr, cfg);
  auto b = vbq::train_bnn(train, nullptr, cfg);
  auto at = tensors(a.params), bt = tensors(b.params);
  for (size_t t = 0; t < at.size(); ++t) CHECK(*at[t] == *bt[t]);
  CHECK(a.last_epoch.objective == b.last_epoch.objective);
  cfg.seed = 8;
  auto c = vbq::train_bnn(train, nullptr, cfg);
  CHECK(c.params[0].w_mu != a.params[0].w_mu);
}

TEST_CASE("bnn learns a separable problem with its posterior means") {
  auto train = blobs(600, 20, 4, 0.8, 1), test = blobs(400, 20, 4, 0.8, 2);
  vbq::BnnConfig cfg;
  cfg.hidden = {16};
  cfg.epochs = 15;
  cfg.batch = 32;
  cfg.lr = 1e-2;
  cfg.prior.std = 1.0;
  cfg.threads = 1;
  auto r = vbq::train_bnn(train, &test, cfg);
  REQUIRE(r.has_test);
  MESSAGE("test accuracy " << r.test.accuracy << ", log-likelihood " << r.test.log_likelihood);
  CHECK(r.test.accuracy >= 0.95);
  CHECK(r.test.log_likelihood > -0.3);
  CHECK(double(r.last_epoch.correct) / 600 >= 0.9);
  // The KL term moved the posterior std away from its initial exp(-5).
  double mean_ls = 0;
  for (float v : r.params[0].w_log_std) mean_ls += v;
  mean_ls /= double(r.params[0].w_log_std.size());
  CHECK(mean_ls > -4.5);
}

TEST_CASE("bnn model round-trips through HDF5 and scores identically") {
  auto train = blobs(200, 6, 3, 0.5, 1), test = blobs(90, 6, 3, 0.5, 2);
  vbq::BnnConfig cfg;
  cfg.hidden = {5, 4};
  cfg.epochs = 3;
  cfg.batch = 50;
  cfg.lr = 5e-3;
  cfg.threads = 1;
  auto r = vbq::train_bnn(train, &test, cfg);
  REQUIRE(r.model.tensors.size() == 6);
  CHECK(r.model.tensors[0].name == "layer1/weight");
  CHECK(r.model.tensors[0].shape == std::vector<uint64_t>{6, 5});
  CHECK(r.model.tensors[5].name == "layer3/bias");
  CHECK(r.model.attributes.at("hidden") == "5,4");
  CHECK(r.model.attributes.at("architecture") == "6-5-4-3");
  CHECK(r.model.attributes.count("test_accuracy") == 1);
  CHECK(r.model.attributes.count("train_seconds") == 1);

  vbq::testing::TempDir tmp("bnn");
  const std::string path = tmp.file("model.h5");
  vbq::write_model(path, r.model, true);
  vbq::ReadOptions means_only;
  means_only.require_spread = false;
  vbq::Model back = vbq::read_model(path, means_only);
  vbq::Model full = vbq::read_model(path);
  vbq::MlpScore s = vbq::evaluate_mlp(back, test);
  CHECK(s.accuracy == r.test.accuracy);
  CHECK(s.log_likelihood == doctest::Approx(r.test.log_likelihood).epsilon(1e-6));
  const vbq::Tensor* w = full.find("layer2/weight");
  REQUIRE(w != nullptr);
  REQUIRE(w->sigma.size() == r.params[1].w_log_std.size());
  for (size_t i = 0; i < w->sigma.size(); ++i)
    CHECK(std::log(w->sigma[i]) == doctest::Approx(r.params[1].w_log_std[i]).epsilon(1e-5));
  CHECK(full.attributes.at("prior_std") == "0.1");
}

TEST_CASE("bnn Ctrl-C stops training with ErrorKind::interrupted") {
  auto train = blobs(200, 6, 3, 0.5, 1);
  vbq::BnnConfig cfg;
  cfg.hidden = {4};
  cfg.epochs = 50;
  cfg.batch = 20;
  struct sigaction before = {};
  sigaction(SIGINT, nullptr, &before);
  size_t calls = 0;
  cfg.on_batch = [&](int, size_t, const vbq::BnnLoss&) {
    if (++calls == 3) std::raise(SIGINT);  // goes to the trainer's handler, not the default
  };
  CHECK(vbq::testing::kind_of([&] { vbq::train_bnn(train, nullptr, cfg); }) == vbq::ErrorKind::interrupted);
  CHECK(calls == 3);
  // The previous SIGINT disposition (doctest's handler) is back.
  struct sigaction now = {};
  sigaction(SIGINT, nullptr, &now);
  CHECK((now.sa_handler == before.sa_handler));
}

TEST_CASE("bnn rejects bad settings") {
  auto train = blobs(20, 3, 2, 0.5, 1);
  vbq::BnnConfig cfg;
  cfg.epochs = 0;
  CHECK_THROWS_AS(vbq::train_bnn(train, nullptr, cfg), vbq::Error);
  cfg.epochs = 1;
  cfg.prior.std = 0;
  CHECK_THROWS_AS(vbq::train_bnn(train, nullptr, cfg), vbq::Error);
}

TEST_CASE("bnn eval-bnn rejects a file that is neither HDF5 nor a container") {
  vbq::testing::TempDir tmp("bnn");
  const std::string path = tmp.file("model.vbq");
  std::ofstream(path) << "VBQ\x01 not a container";
  std::string cmd = std::string(VBQ_BINARY) + " eval-bnn " + path + " 2>/dev/null";
  int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);  // ErrorKind::format
}
