// train/bnn: gradients, determinism, learning, model output, Ctrl-C.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <fstream>
#include <random>

#include "formats/hdf5_model.hpp"
#include "tests/support.hpp"
#include "train/bnn.hpp"
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

// Finite-difference check of bnn_kl's gradient for one prior, over every parameter.
void check_kl_gradient(const vbq::BnnPriorSpec& prior, vbq::BnnParams<double> p) {
  const double scale = 0.3;
  vbq::BnnParams<double> grad, scratch;
  const double kl = vbq::bnn_kl(p, prior, scale, &grad);
  CHECK(kl > 0);
  auto pv = tensors(p), gv = tensors(grad);
  double worst = 0;
  for (size_t t = 0; t < pv.size(); ++t)
    for (size_t i = 0; i < pv[t]->size(); ++i) {
      double& w = (*pv[t])[i];
      const double keep = w, h = 1e-6;
      w = keep + h;
      scratch.clear();
      const double up = vbq::bnn_kl(p, prior, scale, &scratch);
      w = keep - h;
      scratch.clear();
      const double down = vbq::bnn_kl(p, prior, scale, &scratch);
      w = keep;
      const double numeric = scale * (up - down) / (2 * h), analytic = (*gv[t])[i];
      const double err = std::abs(numeric - analytic) / std::max(1e-4, std::abs(numeric) + std::abs(analytic));
      worst = std::max(worst, err);
      CHECK_MESSAGE(err < 1e-5, "tensor " << t << " index " << i << " analytic " << analytic << " numeric " << numeric);
    }
  MESSAGE(std::string(vbq::bnn_prior_name(prior.kind)) << ": worst relative KL gradient error " << worst);
}

// Random parameters with log alpha = 2 log_std - log mu^2 inside (-7.5, 7.5), away from the clip.
vbq::BnnParams<double> kl_test_params(uint32_t seed) {
  auto p = vbq::bnn_init<double>(4, {3}, 2, -2.0, seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> mag(0.05, 1.0), la(-7.5, 7.5);
  for (auto& L : p)
    for (auto [mu, ls] : {std::pair{&L.w_mu, &L.w_log_std}, std::pair{&L.b_mu, &L.b_log_std}})
      for (size_t i = 0; i < mu->size(); ++i) {
        (*mu)[i] = (i % 2 ? -1 : 1) * mag(rng);
        (*ls)[i] = 0.5 * (la(rng) + std::log((*mu)[i] * (*mu)[i]));
      }
  return p;
}

// A one-thread configuration of the given layer widths, epochs, batch size and Adam step.
vbq::BnnConfig small_config(std::vector<size_t> hidden, int epochs, size_t batch, double lr = 3e-3) {
  vbq::BnnConfig cfg;
  cfg.hidden = std::move(hidden);
  cfg.epochs = epochs;
  cfg.batch = batch;
  cfg.lr = lr;
  cfg.threads = 1;
  return cfg;
}

}  // namespace

TEST_CASE("bnn KL gradients match central finite differences for both priors") {
  check_kl_gradient({vbq::BnnPrior::gauss, 0.4}, kl_test_params(5));
  check_kl_gradient({vbq::BnnPrior::log_uniform, 0}, kl_test_params(6));
}

TEST_CASE("bnn log-uniform KL is Molchanov et al.'s fit, clipped outside log alpha +-10") {
  // One weight with mean mu and sigma chosen for a given log alpha.
  auto one = [](double mu, double log_alpha, double* g_mu = nullptr, double* g_ls = nullptr) {
    vbq::BnnParams<double> p(1), g;
    p[0].in = p[0].out = 1;
    p[0].w_mu = {mu};
    p[0].w_log_std = {0.5 * (log_alpha + std::log(mu * mu))};
    const double kl = vbq::bnn_kl(p, {vbq::BnnPrior::log_uniform, 0}, 1.0, &g);
    if (g_mu) *g_mu = g[0].w_mu[0];
    if (g_ls) *g_ls = g[0].w_log_std[0];
    return kl;
  };
  // alpha = 1: k1 (1 - sigmoid(k2)) + 0.5 log 2, evaluated by hand.
  CHECK(one(0.5, 0.0) == doctest::Approx(0.0846654 + 0.3465736).epsilon(1e-6));
  // alpha = e^-4 (a weight the data pin down): 0.63576 (1 - sigmoid(-4.0746)) + 0.5 log(1 + e^4).
  CHECK(one(0.5, -4.0) == doctest::Approx(0.6251334 + 2.0090750).epsilon(1e-6));
  // alpha -> infinity: KL -> 0 (the fit's constant -k1 makes it vanish there).
  CHECK(one(0.5, 9.9) < 1e-4);
  // Outside the clip the value is that at +-10 and the gradient is 0.
  double g_mu = 1, g_ls = 1;
  CHECK(one(0.5, 12.0, &g_mu, &g_ls) == doctest::Approx(one(0.5, 10.0)).epsilon(1e-9));
  CHECK(g_mu == 0);
  CHECK(g_ls == 0);
  CHECK(one(0.5, -13.0, &g_mu, &g_ls) == doctest::Approx(one(0.5, -10.0)).epsilon(1e-9));
  CHECK(g_ls == 0);
  // Inside, a larger sigma lowers the KL (the prior favours noise), and so does mu -> 0.
  one(0.5, 0.0, &g_mu, &g_ls);
  CHECK(g_ls < 0);
  CHECK(g_mu > 0);

  // The float path (vectorized exp/log) agrees with the double one (libm).
  auto pd = kl_test_params(9);
  vbq::BnnParams<float> pf(pd.size()), gf;
  for (size_t k = 0; k < pd.size(); ++k) {
    pf[k].in = pd[k].in, pf[k].out = pd[k].out;
    auto cp = [](const std::vector<double>& s) { return std::vector<float>(s.begin(), s.end()); };
    pf[k].w_mu = cp(pd[k].w_mu), pf[k].w_log_std = cp(pd[k].w_log_std);
    pf[k].b_mu = cp(pd[k].b_mu), pf[k].b_log_std = cp(pd[k].b_log_std);
  }
  vbq::BnnParams<double> gd;
  const vbq::BnnPriorSpec lu{vbq::BnnPrior::log_uniform, 0};
  CHECK(vbq::bnn_kl(pf, lu, 1.0, &gf) == doctest::Approx(vbq::bnn_kl(pd, lu, 1.0, &gd)).epsilon(1e-5));
  auto gfv = tensors(gf);
  auto gdv = tensors(gd);
  for (size_t t = 0; t < gdv.size(); ++t)
    for (size_t i = 0; i < gdv[t]->size(); ++i)
      CHECK((*gfv[t])[i] == doctest::Approx((*gdv[t])[i]).epsilon(1e-4).scale(1e-3));
}

TEST_CASE("bnn deterministic objective: no noise, no KL, zero log_std gradient") {
  const size_t B = 4, D = 3, N = 10;
  auto p = vbq::bnn_init<double>(D, {5}, 2, -1.0, 2);
  std::vector<double> x{0.5, -1, 2, 1, 1, 0, -0.3, 0.2, 0.9, 2, -2, 1};
  std::vector<uint8_t> y{0, 1, 1, 0};
  vbq::BnnObjective<double> obj;
  vbq::BnnParams<double> g, scratch;
  vbq::BnnLoss l = obj.evaluate(p, x.data(), y.data(), B, N, {}, {}, &g);
  CHECK(l.kl == 0);
  CHECK(l.objective == l.nll);
  for (double v : g[0].w_log_std) CHECK(v == 0);
  // The log-likelihood is that of the means network.
  vbq::Dataset d;
  d.rows = B, d.cols = D, d.num_classes = 2, d.y = y;
  d.x.assign(x.begin(), x.end());
  vbq::BnnParams<float> pf(p.size());
  for (size_t k = 0; k < p.size(); ++k) {
    pf[k].in = p[k].in, pf[k].out = p[k].out;
    pf[k].w_mu.assign(p[k].w_mu.begin(), p[k].w_mu.end());
    pf[k].b_mu.assign(p[k].b_mu.begin(), p[k].b_mu.end());
  }
  CHECK(-l.nll == doctest::Approx(vbq::evaluate_mlp(vbq::bnn_means(pf), d).log_likelihood).epsilon(1e-5));
  // d nll / d mu by finite differences.
  for (size_t i = 0; i < p[0].w_mu.size(); ++i) {
    double& w = p[0].w_mu[i];
    const double keep = w;
    w = keep + 1e-6;
    const double up = obj.evaluate(p, x.data(), y.data(), B, N, {}, {}, &scratch).objective;
    w = keep - 1e-6;
    const double down = obj.evaluate(p, x.data(), y.data(), B, N, {}, {}, &scratch).objective;
    w = keep;
    CHECK(g[0].w_mu[i] == doctest::Approx((up - down) / 2e-6).epsilon(1e-5).scale(1e-6));
  }
}

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

// The initial means are He-scaled standard normals from the counter-based
// generator: their moments must be N(0, 2/in)'s (mean 0, variance 2/in,
// kurtosis 3), within 5 standard errors.
TEST_CASE("bnn initial means follow N(0, 2/in): moments of the generated normals") {
  const size_t in = 800, out = 400;
  const auto p = vbq::bnn_init<double>(in, {out}, 10, -5.0, 3);
  const std::vector<double>& w = p[0].w_mu;
  REQUIRE(w.size() == in * out);
  const double n = double(w.size()), var0 = 2.0 / double(in);
  double m1 = 0, m2 = 0, m4 = 0;
  for (double v : w) m1 += v, m2 += v * v, m4 += v * v * v * v;
  m1 /= n, m2 /= n, m4 /= n;
  CHECK(std::fabs(m1) < 5 * std::sqrt(var0 / n));
  CHECK(std::fabs(m2 / var0 - 1) < 5 * std::sqrt(2 / n));
  CHECK(std::fabs(m4 / (m2 * m2) - 3) < 5 * std::sqrt(96 / n));
  CHECK(std::all_of(p[0].w_log_std.begin(), p[0].w_log_std.end(), [](double v) { return v == -5.0; }));
  CHECK(std::all_of(p[1].b_mu.begin(), p[1].b_mu.end(), [](double v) { return v == 0.0; }));
  // Layers and seeds draw different streams.
  CHECK(vbq::bnn_init<double>(in, {out}, 10, -5.0, 4)[0].w_mu != w);
  CHECK(p[1].w_mu[0] != w[0]);
}

TEST_CASE("bnn training is bit-reproducible with one thread and depends on the seed") {
  auto train = blobs(300, 10, 3, 1.0, 1);
  vbq::BnnConfig cfg = small_config({8}, 2, 32);
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
  vbq::BnnConfig cfg = small_config({16}, 15, 32, 1e-2);
  cfg.prior = {vbq::BnnPrior::gauss, 1.0};
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
  vbq::BnnConfig cfg = small_config({5, 4}, 3, 50, 5e-3);
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
  CHECK(full.attributes.at("prior") == "log-uniform");
  CHECK(full.attributes.count("prior_std") == 0);
  CHECK(full.attributes.at("kl_approximation").find("k1 0.63576") != std::string::npos);
  CHECK(full.attributes.count("final_neg_elbo_per_example") == 1);
  cfg.prior = {vbq::BnnPrior::gauss, 0.25};
  auto g = vbq::train_bnn(train, &test, cfg);
  CHECK(g.model.attributes.at("prior") == "gauss");
  CHECK(g.model.attributes.at("prior_std") == "0.25");
}

TEST_CASE("bnn log-uniform prior drives weights from uninformative inputs to alpha >> 1") {
  // Inputs 0-4 separate the classes; inputs 5-19 are noise independent of the label.
  auto make = [](size_t n, uint32_t seed) {
    auto d = blobs(n, 5, 3, 0.5, seed);
    std::mt19937 rng(seed + 100);
    std::normal_distribution<double> g(0, 1);
    vbq::Dataset out = d;
    out.cols = 20;
    out.x.clear();
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < 5; ++j) out.x.push_back(d.x[i * 5 + j]);
      for (size_t j = 5; j < 20; ++j) out.x.push_back(float(g(rng)));
    }
    return out;
  };
  auto train = make(600, 1), test = make(300, 2);
  vbq::BnnConfig cfg = small_config({8}, 40, 32, 1e-2);
  cfg.kl_warmup_epochs = 3;
  cfg.kl_weight = 1;  // the exact ELBO (at the default 0.25 fewer noise weights are pruned: 65%)
  cfg.prior.kind = vbq::BnnPrior::log_uniform;
  auto r = vbq::train_bnn(train, &test, cfg);
  CHECK(r.test.accuracy >= 0.95);
  const auto& L = r.params[0];
  size_t pruned_noise = 0, pruned_signal = 0;
  for (size_t i = 0; i < L.in; ++i)
    for (size_t j = 0; j < L.out; ++j) {
      const double mu = L.w_mu[i * L.out + j], log_alpha = 2.0 * L.w_log_std[i * L.out + j] - std::log(mu * mu);
      (i < 5 ? pruned_signal : pruned_noise) += log_alpha > 3;
    }
  const double noise_frac = double(pruned_noise) / (15.0 * L.out), signal_frac = double(pruned_signal) / (5.0 * L.out);
  MESSAGE("log alpha > 3: " << noise_frac << " of noise-input weights, " << signal_frac << " of signal-input weights");
  CHECK(noise_frac >= 0.8);
  CHECK(noise_frac > signal_frac + 0.2);
  // The ELBO is reported with KL weight 1: -ELBO = nll + KL / N.
  CHECK(r.neg_elbo == doctest::Approx(r.last_epoch.nll + r.last_epoch.kl / 600.0));
}

TEST_CASE("bnn KL warm-up ramps the KL weight linearly over the first epochs") {
  auto train = blobs(100, 4, 2, 0.5, 1);
  vbq::BnnConfig cfg = small_config({3}, 3, 25);  // 4 steps per epoch
  cfg.kl_weight = 0.5;
  cfg.kl_warmup_epochs = 2;  // 8 steps: weights 0.5 * 1/8, ..., 0.5 * 8/8, then 0.5
  std::vector<double> weights;
  cfg.on_batch = [&](int, size_t, size_t, const vbq::BnnLoss& l) { weights.push_back((l.objective - l.nll) * 100 / l.kl); };
  vbq::train_bnn(train, nullptr, cfg);
  REQUIRE(weights.size() == 12);
  for (size_t s = 0; s < weights.size(); ++s)
    CHECK(weights[s] == doctest::Approx(s < 8 ? 0.5 * double(s + 1) / 8 : 0.5).epsilon(1e-9));
}

TEST_CASE("bnn reference MLP trains the means alone") {
  auto train = blobs(600, 20, 4, 0.8, 1), test = blobs(400, 20, 4, 0.8, 2);
  vbq::BnnConfig cfg = small_config({16}, 5, 32, 1e-2);
  cfg.deterministic = true;
  auto r = vbq::train_bnn(train, &test, cfg);
  CHECK(r.test.accuracy >= 0.95);
  CHECK(r.last_epoch.kl == 0);
  for (float v : r.params[0].w_log_std) CHECK(v == float(cfg.init_log_std));
  CHECK(r.model.attributes.count("final_neg_elbo_per_example") == 0);
}

TEST_CASE("bnn cancellation through the token stops training with ErrorKind::interrupted") {
  auto train = blobs(200, 6, 3, 0.5, 1);
  vbq::BnnConfig cfg = small_config({4}, 50, 20);
  std::atomic<bool> cancel{false};
  size_t calls = 0;
  cfg.on_batch = [&](int, size_t, size_t, const vbq::BnnLoss&) {
    if (++calls == 3) cancel.store(true);  // as tools/' Ctrl-C handler does
  };
  CHECK(vbq::testing::kind_of([&] { vbq::train_bnn(train, nullptr, cfg, &cancel); }) == vbq::ErrorKind::interrupted);
  CHECK(calls == 3);  // the step after the request did not run
}

TEST_CASE("bnn reports every batch and epoch: sizes, and the summary of the last epoch is the result's") {
  auto train = blobs(110, 6, 3, 0.5, 1), test = blobs(60, 6, 3, 0.5, 2);
  vbq::BnnConfig cfg = small_config({4}, 3, 25);  // 4 full batches and one of 10 per epoch
  std::vector<size_t> sizes;
  cfg.on_batch = [&](int epoch, size_t b, size_t size, const vbq::BnnLoss&) {
    if (epoch == 0) CHECK(b == sizes.size());
    sizes.push_back(size);
  };
  std::vector<int> epochs;
  vbq::BnnEpoch last;
  auto r = vbq::train_bnn(train, &test, cfg, nullptr, [&](int epoch, const vbq::BnnEpoch& e, const vbq::BnnParams<float>& p) {
    epochs.push_back(epoch);
    last = e;
    CHECK(p.size() == 2);
  });
  CHECK(sizes.size() == 15);
  CHECK(sizes[3] == 25);
  CHECK(sizes[4] == 10);
  CHECK(epochs == std::vector<int>{0, 1, 2});
  CHECK(last.loss.objective == r.last_epoch.objective);
  CHECK(last.loss.correct == r.last_epoch.correct);
  CHECK(last.neg_elbo == r.neg_elbo);
}

TEST_CASE("bnn rejects bad settings") {
  auto train = blobs(20, 3, 2, 0.5, 1);
  vbq::BnnConfig cfg;
  cfg.epochs = 0;
  CHECK_THROWS_AS(vbq::train_bnn(train, nullptr, cfg), vbq::Error);
  cfg.epochs = 1;
  cfg.prior = {vbq::BnnPrior::gauss, 0};
  CHECK_THROWS_AS(vbq::train_bnn(train, nullptr, cfg), vbq::Error);
  cfg.prior = {vbq::BnnPrior::log_uniform, 0};  // its std is unused
  cfg.kl_warmup_epochs = -1;
  CHECK(vbq::testing::kind_of([&] { vbq::train_bnn(train, nullptr, cfg); }) == vbq::ErrorKind::argument);
  CHECK(vbq::testing::kind_of([] { vbq::parse_bnn_prior("laplace"); }) == vbq::ErrorKind::argument);
  CHECK(vbq::parse_bnn_prior("log-uniform") == vbq::BnnPrior::log_uniform);
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
