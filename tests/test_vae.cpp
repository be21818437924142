// train/vae and eval/vae_net: the objective against a direct computation of the
// paper's formulas, the gradient, determinism, learning, cancellation, HDF5 round trip.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <random>

#include "eval/vae_images.hpp"
#include "formats/hdf5_model.hpp"
#include "tests/support.hpp"
#include "train/vae.hpp"
#include "vbq/error.hpp"

namespace {

// n synthetic 28 x 28 images: a bright rectangle at a random place and size on a dim background.
vbq::Dataset rectangles(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  vbq::Dataset d;
  d.rows = n, d.cols = 784, d.num_classes = 10;
  d.x.assign(n * 784, 0.05f);
  d.y.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const int x0 = int(rng() % 14), y0 = int(rng() % 14), w = 6 + int(rng() % 8), h = 6 + int(rng() % 8);
    const float v = 0.5f + 0.5f * float(rng() % 100) / 100.0f;
    for (int y = y0; y < y0 + h; ++y)
      for (int x = x0; x < x0 + w; ++x) d.x[i * 784 + size_t(y) * 28 + size_t(x)] = v;
  }
  return d;
}

}  // namespace

TEST_CASE("vae objective equals the ELBO terms computed directly (KL closed form, Gaussian likelihood)") {
  vbq::VaeNet net = vbq::vae_init(784, 16, 3, 7);
  net.likelihood = vbq::VaeLikelihood::gauss;
  net.likelihood_var = 0.05;
  const vbq::Dataset d = rectangles(5, 3);
  std::vector<float> eps(5 * 3);
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (float& e : eps) e = g(rng);
  vbq::VaeObjective obj;
  const vbq::VaeLoss l = obj.evaluate(net, d.x.data(), 5, eps.data(), 2.0, nullptr);
  // Direct: mu, sigma from the encoder, z = mu + sigma eps, pixels from the decoder.
  std::vector<double> mu, sigma, z(15);
  vbq::vae_encode(net, d.x.data(), 5, mu, sigma);
  double kl = 0;
  for (size_t i = 0; i < 15; ++i) {
    z[i] = mu[i] + sigma[i] * eps[i];
    kl += 0.5 * (mu[i] * mu[i] + sigma[i] * sigma[i] - 1 - 2 * std::log(sigma[i]));
  }
  std::vector<float> px;
  vbq::vae_decode(net, z.data(), 5, px);
  double rec = 0;
  for (size_t i = 0; i < px.size(); ++i)
    rec += std::pow(double(d.x[i]) - px[i], 2) / (2 * 0.05) + 0.5 * std::log(2 * std::numbers::pi * 0.05);
  CHECK(l.kl == doctest::Approx(kl / 5).epsilon(1e-4));
  CHECK(l.rec == doctest::Approx(rec / 5).epsilon(1e-4));
  CHECK(l.objective == doctest::Approx(l.rec + 2.0 * l.kl).epsilon(1e-9));
}

TEST_CASE("vae gradient matches a central difference along it") {
  for (auto lik : {vbq::VaeLikelihood::bernoulli, vbq::VaeLikelihood::gauss}) {
    vbq::VaeNet net = vbq::vae_init(784, 8, 2, 11);
    net.likelihood = lik;
    net.likelihood_var = 0.5;
    const vbq::Dataset d = rectangles(4, 5);
    const std::vector<float> eps{0.3f, -1.1f, 0.7f, 0.2f, -0.4f, 1.5f, 0.9f, -0.8f};
    vbq::VaeObjective obj;
    vbq::VaeNet grad = net;
    obj.evaluate(net, d.x.data(), 4, eps.data(), 1.0, &grad);
    auto pv = vbq::vae_parameters(net), gv = vbq::vae_parameters(grad);
    double norm2 = 0;
    for (auto* g : gv)
      for (float v : *g) norm2 += double(v) * v;
    const double norm = std::sqrt(norm2), h = 1e-2;
    auto at = [&](double t) {
      vbq::VaeNet moved = net;
      auto mv = vbq::vae_parameters(moved);
      for (size_t k = 0; k < mv.size(); ++k)
        for (size_t i = 0; i < mv[k]->size(); ++i) (*mv[k])[i] += float(t * (*gv[k])[i] / norm);
      return obj.evaluate(moved, d.x.data(), 4, eps.data(), 1.0, nullptr).objective;
    };
    CHECK((at(h) - at(-h)) / (2 * h) == doctest::Approx(norm).epsilon(2e-2));
  }
}

TEST_CASE("train_vae is deterministic, learns, records its settings, and stops on the token") {
  const vbq::Dataset train = rectangles(300, 1), test = rectangles(100, 2);
  vbq::VaeConfig cfg;
  cfg.latent = 4, cfg.hidden = 32, cfg.epochs = 3, cfg.batch = 50, cfg.lr = 3e-3, cfg.code_table_images = 200;
  cfg.likelihood_var = 0.05;
  const vbq::VaeResult a = vbq::train_vae(train, &test, cfg), b = vbq::train_vae(train, &test, cfg);
  CHECK(a.net.enc1.w == b.net.enc1.w);
  CHECK(a.net.dec2.b == b.net.dec2.b);
  vbq::VaeNet init = vbq::vae_init(784, 32, 4, cfg.seed);
  init.likelihood = cfg.likelihood, init.likelihood_var = cfg.likelihood_var;
  const vbq::VaeLoss before = vbq::vae_elbo(init, test, cfg.seed);
  CHECK(a.test.objective < before.objective);
  CHECK(a.model.attributes.at("likelihood") == "gauss");
  const vbq::Tensor* t = a.model.find(vbq::kVaeCodeTableTensor);
  REQUIRE(t);
  CHECK(t->shape == std::vector<uint64_t>{200, 4});
  std::atomic<bool> cancel{true};
  CHECK(vbq::testing::kind_of([&] { vbq::train_vae(train, &test, cfg, &cancel); }) == vbq::ErrorKind::interrupted);
  cfg.likelihood_var = 0;
  CHECK(vbq::testing::kind_of([&] { vbq::train_vae(train, &test, cfg); }) == vbq::ErrorKind::argument);
}

TEST_CASE("a VAE model survives HDF5 and a model without the networks is refused") {
  const vbq::Dataset train = rectangles(200, 1);
  vbq::VaeConfig cfg;
  cfg.latent = 3, cfg.hidden = 16, cfg.epochs = 1, cfg.batch = 50, cfg.code_table_images = 100;
  const vbq::VaeResult r = vbq::train_vae(train, nullptr, cfg);
  vbq::testing::TempDir dir("vae");
  vbq::write_model(dir.file("vae.h5"), r.model, false);
  const vbq::Model back = vbq::read_model(dir.file("vae.h5"), vbq::ReadOptions{{}, {}, false});
  const vbq::VaeCoder c = vbq::vae_coder(back);
  CHECK(c.net.enc2.w == r.net.enc2.w);
  CHECK(c.net.likelihood_var == r.net.likelihood_var);
  vbq::Model broken = r.model;
  broken.tensors.erase(broken.tensors.begin());
  vbq::testing::expect_error([&] { vbq::vae_coder(broken); }, vbq::ErrorKind::format, {"encoder/layer1/weight"});
}
