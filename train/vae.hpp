// Trainer of the VAE of eval/vae_net.hpp (paper Sec. 4.2): a standard-normal prior,
// a diagonal Gaussian posterior, MLP encoder and decoder, on Fashion-MNIST.
//
// Objective (negative beta-ELBO per image), minimised with Adam on minibatches,
// one reparameterised sample z = mu + sigma * eps per image (Kingma & Welling 2014):
//   L = (1/B) sum_i [ -log p(x_i | z_i) + beta KL(q(z|x_i) || N(0, I)) ],
//   KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - 2 log sigma_j)          (closed form),
//   -log p(x|z): bernoulli  sum_j softplus(a_j) - x_j a_j,
//                gauss      sum_j (x_j - s_j)^2 / (2 v) + 1/2 log(2 pi v), s = sigmoid(a).
// The likelihood scale: for gauss, v = likelihood_var (default 0.04: the
// reconstruction error weighs 1/(2v) = 12.5 nats per unit of squared error); beta
// (default 1, the exact ELBO) scales the KL. Both are recorded in the model file.
// The reported ELBO always uses beta = 1.
// Latent dimensions: 128 by default, more than the VAE uses. The ELBO leaves the
// spare dimensions collapsed or used by some images only, and that is where VBQ
// saves bits over a uniform grid (paper Fig. 7). At v = 0.04, VBQ's best variant
// needs at worst 0.87x the uniform grid's bits with 64 dimensions, 0.76x with 96 and
// 0.72x with 128; with 32 dimensions and v = 0.01, where every dimension is used
// alike, 1.14x (docs/RESULTS.md).
// Learning rate: cosine decay from lr (default 1e-3) to 0 over all steps.
//
// Measured on Fashion-MNIST with the defaults (2026-12-01, 2 BLAS threads, 2-core
// AMD EPYC VM): 143 s wall; test ELBO +397.53 nats per image (a density on
// [0, 1]^784: reconstruction -442.37 + KL 44.84); decoder at the posterior means
// 20.82 dB PSNR. 84 of the 128 dimensions carry < 0.1 nats per image, 19 carry > 1.
//
// Determinism: initialisation, shuffling and eps come from counter-based streams
// keyed by (seed, epoch, batch); summations have a fixed order; the gemm kernel is
// pinned by the vbq command, so a run gives the same bits on every CPU for a given
// BLAS thread count.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "eval/vae_net.hpp"
#include "formats/idx.hpp"

namespace vbq {

struct VaeLoss {
  double objective = 0;  // rec + beta * kl, per image
  double rec = 0;        // -log p(x | z), per image, nats
  double kl = 0;         // KL(q || p), per image, nats
};

struct VaeConfig {
  size_t latent = 128, hidden = 512;
  int epochs = 20;
  size_t batch = 128;
  double lr = 1e-3;
  bool cosine_lr = true;
  VaeLikelihood likelihood = VaeLikelihood::gauss;
  double likelihood_var = 0.04;
  double beta = 1.0;
  uint64_t seed = 1;
  int threads = 1;                 // BLAS threads
  size_t code_table_images = 4000;  // training images whose posterior is stored for the code tables
  // Called after every minibatch step; may be empty.
  std::function<void(int epoch, size_t batch, size_t batch_size, const VaeLoss& loss)> on_batch;
};

// He-initialised weights (N(0, 2/in)), zero biases, deterministic in seed.
VaeNet vae_init(size_t pixels, size_t hidden, size_t latent, uint64_t seed);

// Objective and gradient on one minibatch with given noise eps [B, latent].
// Reuses its buffers (one instance per thread).
class VaeObjective {
 public:
  // x [B, pixels] in [0, 1]. Writes d objective / d parameter into *grad (shaped like
  // net; may be null: loss only). beta weighs the KL (1 = the ELBO).
  VaeLoss evaluate(const VaeNet& net, const float* x, size_t B, const float* eps, double beta, VaeNet* grad);

 private:
  std::vector<float> h1_, e_, z_, h2_, a_, da_, dh2_, dz_, de_, dh1_;
};

// Every parameter vector of a net, in a fixed order (for the optimiser and tests).
std::vector<std::vector<float>*> vae_parameters(VaeNet& net);

// -ELBO per image (beta = 1) of `data` with one sample of eps per image from
// `seed`: mean rec and KL, nats.
VaeLoss vae_elbo(const VaeNet& net, const Dataset& data, uint64_t seed);

struct VaeResult {
  VaeNet net;
  Model model;              // the networks, code_table/latents and training attributes
  double train_seconds = 0;
  VaeLoss last_epoch;       // training means over the last epoch
  bool has_test = false;
  VaeLoss test;             // vae_elbo on the test set
};

struct VaeEpoch {
  VaeLoss loss;  // training means over the epoch
  double seconds = 0;
};
using VaeEpochCallback = std::function<void(int epoch, const VaeEpoch& summary, const VaeNet& net)>;

// Trains on `train` (test may be null). The first code_table_images training images'
// posteriors go into the model as code_table/latents. If *cancel becomes true, throws
// ErrorKind::interrupted before the next minibatch. Throws ErrorKind::argument for
// bad settings (epochs, batch, lr, latent, hidden < 1; beta < 0; likelihood_var <= 0;
// empty data).
VaeResult train_vae(const Dataset& train, const Dataset* test, const VaeConfig& config,
                    const std::atomic<bool>* cancel = nullptr, const VaeEpochCallback& on_epoch = {});

}  // namespace vbq
