#include "train/vae.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <numeric>

#include "eval/mlp.hpp"
#include "train/optim.hpp"
#include "vbq/error.hpp"

namespace vbq {
namespace {

using train::gemm;
using train::stream_key;

enum Stream : uint64_t { kInit = 1, kNoise = 2, kShuffle = 3, kEvalNoise = 4 };

// out [n, L.out] = in . w + b.
void forward(const VaeDense& L, const float* in, size_t n, std::vector<float>& out) {
  out.resize(n * L.out);
  for (size_t r = 0; r < n; ++r) std::copy(L.b.begin(), L.b.end(), out.begin() + r * L.out);
  gemm(CblasNoTrans, CblasNoTrans, n, L.out, L.in, in, L.in, L.w.data(), L.out, 1.0f, out.data(), L.out);
}

// Gradients of a dense layer from d out: dW = in^T . dout, db = column sums (fixed
// order); d in = dout . W^T if din is not null.
void backward(const VaeDense& L, const float* in, size_t n, const float* dout, VaeDense& G, std::vector<float>* din) {
  gemm(CblasTrans, CblasNoTrans, L.in, L.out, n, in, L.in, dout, L.out, 0.0f, G.w.data(), L.out);
  std::fill(G.b.begin(), G.b.end(), 0.0f);
  for (size_t r = 0; r < n; ++r)
    for (size_t j = 0; j < L.out; ++j) G.b[j] += dout[r * L.out + j];
  if (din) {
    din->resize(n * L.in);
    gemm(CblasNoTrans, CblasTrans, n, L.in, L.out, dout, L.out, L.w.data(), L.out, 0.0f, din->data(), L.in);
  }
}

VaeDense dense_init(size_t in, size_t out, uint64_t key) {
  VaeDense L{in, out, std::vector<float>(in * out), std::vector<float>(out, 0.0f)};
  train::fill_normal(key, L.w.data(), L.w.size());
  const float scale = float(std::sqrt(2.0 / double(in)));
  for (float& w : L.w) w *= scale;
  return L;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// Softplus without overflow: log(1 + e^a).
inline double softplus(double a) { return a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a)); }

}  // namespace

VaeNet vae_init(size_t pixels, size_t hidden, size_t latent, uint64_t seed) {
  VaeNet net;
  net.pixels = pixels, net.hidden = hidden, net.latent = latent;
  net.enc1 = dense_init(pixels, hidden, stream_key(seed, kInit, 0));
  net.enc2 = dense_init(hidden, 2 * latent, stream_key(seed, kInit, 1));
  net.dec1 = dense_init(latent, hidden, stream_key(seed, kInit, 2));
  net.dec2 = dense_init(hidden, pixels, stream_key(seed, kInit, 3));
  // Start with small posterior spreads (log sigma head scaled down) so that early
  // training sees the data, not the noise.
  for (size_t r = 0; r < hidden; ++r)
    for (size_t j = latent; j < 2 * latent; ++j) net.enc2.w[r * 2 * latent + j] *= 0.1f;
  return net;
}

std::vector<std::vector<float>*> vae_parameters(VaeNet& n) {
  return {&n.enc1.w, &n.enc1.b, &n.enc2.w, &n.enc2.b, &n.dec1.w, &n.dec1.b, &n.dec2.w, &n.dec2.b};
}

VaeLoss VaeObjective::evaluate(const VaeNet& net, const float* x, size_t B, const float* eps, double beta,
                               VaeNet* grad) {
  const size_t L = net.latent, P = net.pixels;
  // Forward: h1 = relu(x W1 + b1), e = h1 W2 + b2 = [mu, log sigma], z = mu + sigma eps,
  // h2 = relu(z V1 + c1), a = h2 V2 + c2, s = sigmoid(a).
  forward(net.enc1, x, B, h1_);
  for (float& v : h1_) v = std::max(v, 0.0f);
  forward(net.enc2, h1_.data(), B, e_);
  z_.resize(B * L);
  double kl = 0;
  for (size_t r = 0; r < B; ++r)
    for (size_t j = 0; j < L; ++j) {
      const double mu = e_[r * 2 * L + j], ls = e_[r * 2 * L + L + j], sd = std::exp(ls);
      z_[r * L + j] = float(mu + sd * double(eps[r * L + j]));
      kl += 0.5 * (mu * mu + sd * sd - 1.0 - 2.0 * ls);
    }
  forward(net.dec1, z_.data(), B, h2_);
  for (float& v : h2_) v = std::max(v, 0.0f);
  forward(net.dec2, h2_.data(), B, a_);

  // Likelihood and d objective / d a (the objective is a mean over the batch).
  const bool gauss = net.likelihood == VaeLikelihood::gauss;
  const double v = net.likelihood_var, log_norm = 0.5 * std::log(2 * std::numbers::pi * v);
  double rec = 0;
  da_.resize(B * P);
  for (size_t i = 0; i < B * P; ++i) {
    const double a = a_[i], xi = x[i], s = 1.0 / (1.0 + std::exp(-a));
    if (gauss) {
      rec += (xi - s) * (xi - s) / (2 * v) + log_norm;
      da_[i] = float((s - xi) / v * s * (1 - s) / double(B));
    } else {
      rec += softplus(a) - xi * a;
      da_[i] = float((s - xi) / double(B));
    }
  }
  VaeLoss loss;
  loss.rec = rec / double(B);
  loss.kl = kl / double(B);
  loss.objective = loss.rec + beta * loss.kl;
  if (!grad) return loss;

  // Backward.
  backward(net.dec2, h2_.data(), B, da_.data(), grad->dec2, &dh2_);
  for (size_t i = 0; i < B * net.hidden; ++i)
    if (h2_[i] <= 0) dh2_[i] = 0;
  backward(net.dec1, z_.data(), B, dh2_.data(), grad->dec1, &dz_);
  // d/d mu = dz + beta mu / B; d/d log sigma = dz eps sigma + beta (sigma^2 - 1) / B.
  de_.resize(B * 2 * L);
  for (size_t r = 0; r < B; ++r)
    for (size_t j = 0; j < L; ++j) {
      const double mu = e_[r * 2 * L + j], sd = std::exp(double(e_[r * 2 * L + L + j]));
      const double dz = dz_[r * L + j];
      de_[r * 2 * L + j] = float(dz + beta * mu / double(B));
      de_[r * 2 * L + L + j] = float(dz * double(eps[r * L + j]) * sd + beta * (sd * sd - 1) / double(B));
    }
  backward(net.enc2, h1_.data(), B, de_.data(), grad->enc2, &dh1_);
  for (size_t i = 0; i < B * net.hidden; ++i)
    if (h1_[i] <= 0) dh1_[i] = 0;
  backward(net.enc1, x, B, dh1_.data(), grad->enc1, nullptr);
  return loss;
}

VaeLoss vae_elbo(const VaeNet& net, const Dataset& data, uint64_t seed) {
  VaeObjective obj;
  VaeLoss sum;
  const size_t chunk = 500;
  std::vector<float> eps;
  for (size_t start = 0; start < data.rows; start += chunk) {
    const size_t n = std::min(chunk, data.rows - start);
    eps.resize(n * net.latent);
    train::fill_normal(stream_key(seed, kEvalNoise, start), eps.data(), eps.size());
    VaeLoss l = obj.evaluate(net, data.x.data() + start * data.cols, n, eps.data(), 1.0, nullptr);
    sum.rec += l.rec * double(n), sum.kl += l.kl * double(n);
  }
  sum.rec /= double(data.rows), sum.kl /= double(data.rows);
  sum.objective = sum.rec + sum.kl;
  return sum;
}

VaeResult train_vae(const Dataset& train, const Dataset* test, const VaeConfig& cfg, const std::atomic<bool>* cancel,
                    const VaeEpochCallback& on_epoch) {
  if (cfg.epochs < 1) throw Error(ErrorKind::argument, "epochs must be >= 1");
  if (cfg.batch < 1) throw Error(ErrorKind::argument, "batch size must be >= 1");
  if (!(cfg.lr > 0)) throw Error(ErrorKind::argument, "learning rate must be > 0");
  if (cfg.latent < 1 || cfg.hidden < 1) throw Error(ErrorKind::argument, "latent and hidden sizes must be >= 1");
  if (!(cfg.beta >= 0)) throw Error(ErrorKind::argument, "beta must be >= 0");
  if (!(cfg.likelihood_var > 0)) throw Error(ErrorKind::argument, "likelihood variance must be > 0");
  if (train.rows == 0 || train.cols == 0) throw Error(ErrorKind::argument, "training set is empty");
  if (test && test->cols != train.cols)
    throw Error(ErrorKind::argument, "test images have " + std::to_string(test->cols) + " pixels, training images " +
                                         std::to_string(train.cols));
  set_blas_threads(cfg.threads);

  const size_t N = train.rows, D = train.cols, B = std::min(cfg.batch, N), batches = (N + B - 1) / B;
  const double total_steps = double(cfg.epochs) * double(batches);
  VaeResult res;
  res.net = vae_init(D, cfg.hidden, cfg.latent, cfg.seed);
  res.net.likelihood = cfg.likelihood;
  res.net.likelihood_var = cfg.likelihood_var;
  res.net.beta = cfg.beta;
  VaeNet grad = res.net;
  train::Adam adam(vae_parameters(res.net));
  VaeObjective objective;
  std::vector<uint32_t> order(N);
  std::vector<float> xb(B * D), eps(B * cfg.latent);

  auto t0 = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0u);
    train::shuffle(order, stream_key(cfg.seed, kShuffle, uint64_t(epoch)));
    VaeLoss sum;
    for (size_t b = 0; b < batches; ++b) {
      if (cancel && cancel->load(std::memory_order_relaxed))
        throw Error(ErrorKind::interrupted, "training cancelled; no output written");
      const size_t start = b * B, nb = std::min(B, N - start);
      for (size_t r = 0; r < nb; ++r)
        std::copy_n(train.x.data() + size_t(order[start + r]) * D, D, xb.data() + r * D);
      train::fill_normal(stream_key(cfg.seed, kNoise, uint64_t(epoch), b), eps.data(), nb * cfg.latent);
      const double step = double(epoch) * double(batches) + double(b);
      const double lr = cfg.cosine_lr ? cfg.lr * 0.5 * (1 + std::cos(std::numbers::pi * step / total_steps)) : cfg.lr;
      VaeLoss l = objective.evaluate(res.net, xb.data(), nb, eps.data(), cfg.beta, &grad);
      adam.step(vae_parameters(res.net), vae_parameters(grad), lr);
      if (cfg.on_batch) cfg.on_batch(epoch, b, nb, l);
      sum.objective += l.objective * double(nb), sum.rec += l.rec * double(nb), sum.kl += l.kl * double(nb);
    }
    res.last_epoch = {sum.objective / double(N), sum.rec / double(N), sum.kl / double(N)};
    if (on_epoch) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      on_epoch(epoch, VaeEpoch{res.last_epoch, secs}, res.net);
    }
  }
  res.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  res.model = vae_to_model(res.net);
  // The code-point tables' source: posteriors of the first training images.
  const size_t nt = std::min(cfg.code_table_images, N);
  Tensor table;
  table.name = kVaeCodeTableTensor;
  table.shape = {nt, cfg.latent};
  vae_encode(res.net, train.x.data(), nt, table.mu, table.sigma);
  res.model.tensors.push_back(std::move(table));
  auto& a = res.model.attributes;
  a["trainer"] = "vbq train-vae: VAE, N(0, I) prior, diagonal Gaussian posterior, reparameterisation, Adam";
  a["epochs"] = std::to_string(cfg.epochs);
  a["batch"] = std::to_string(cfg.batch);
  a["lr"] = num(cfg.lr);
  a["lr_schedule"] = cfg.cosine_lr ? "cosine" : "constant";
  a["seed"] = std::to_string(cfg.seed);
  a["train_examples"] = std::to_string(N);
  a["train_seconds"] = num(res.train_seconds);
  a["code_table_images"] = std::to_string(nt) + " (the first training images)";
  a["final_train_neg_elbo_per_image"] = num(res.last_epoch.rec + res.last_epoch.kl);
  if (test) {
    res.has_test = true;
    res.test = vae_elbo(res.net, *test, cfg.seed);
    a["test_neg_elbo_per_image"] = num(res.test.objective);
    a["test_rec_per_image"] = num(res.test.rec);
    a["test_kl_per_image"] = num(res.test.kl);
  }
  return res;
}

}  // namespace vbq
