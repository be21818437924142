// The VAE's networks as plain feed-forward MLPs (the trainer is train/vae.hpp;
// this is what encoding, decoding and the R-D task run).
//
// Model (paper Sec. 4.2): prior p(z) = N(0, I) over L latent dimensions, diagonal
// Gaussian posterior q(z|x) = N(mu(x), diag sigma(x)^2), likelihood p(x|z)
// factorised over the 784 pixels (x in [0, 1]) with mean s = sigmoid(a(z)):
//  - bernoulli: log p(x|z) = sum_j x_j log s_j + (1 - x_j) log(1 - s_j) (the usual
//    "Bernoulli" VAE likelihood on grey levels; not normalised over x in [0, 1]);
//  - gauss: N(x; s, v) per pixel with a fixed variance v = likelihood_var (the
//    paper's sigma^2 hyper-parameter, Sec. 4.2.2), so -log p = |x - s|^2 / (2v) + const.
// Networks (ReLU hidden layers, weights [in, out], activations = inputs . W + b):
//   encoder: 784 -> hidden -> 2L  (columns 0..L-1 mu, L..2L-1 log sigma)
//   decoder: L -> hidden -> 784   (logits a; pixels = sigmoid(a))
//
// HDF5 tensors (means only): encoder/layer{1,2}/{weight,bias},
// decoder/layer{1,2}/{weight,bias}; plus code_table/latents [n, L], the posterior
// (mean and std) of n training images, from which encoder and decoder of .vbqi
// files derive the same code-point tables (app/image_codec.hpp). Attributes:
// trainer = "vbq train-vae ...", latent_dim, hidden, likelihood, likelihood_var, beta.
//
// Results depend on the gemm kernel; the vbq command pins it (tools/main.cpp).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "core/model.hpp"

namespace vbq {

enum class VaeLikelihood { bernoulli, gauss };
const char* vae_likelihood_name(VaeLikelihood l);       // "bernoulli" / "gauss"
VaeLikelihood parse_vae_likelihood(const std::string& name);  // throws ErrorKind::argument

struct VaeDense {
  size_t in = 0, out = 0;
  std::vector<float> w, b;  // [in, out] row-major, [out]
};

struct VaeNet {
  size_t pixels = 784, hidden = 512, latent = 32;
  VaeDense enc1, enc2, dec1, dec2;
  VaeLikelihood likelihood = VaeLikelihood::bernoulli;
  double likelihood_var = 0.01;  // gauss only
  double beta = 1.0;             // KL weight the net was trained with (recorded)
};

// Posterior of n images x [n, pixels] in [0, 1]: mu and sigma [n, latent].
void vae_encode(const VaeNet& net, const float* x, size_t n, std::vector<double>& mu, std::vector<double>& sigma);
// Pixels in [0, 1] (the likelihood's mean) of n latent vectors z [n, latent].
void vae_decode(const VaeNet& net, const double* z, size_t n, std::vector<float>& pixels);

// A VaeNet from a model written by vae_to_model (or train-vae). Throws
// ErrorKind::format naming the missing or misshapen tensor, or a model that is no VAE.
VaeNet vae_from_model(const Model& model);
// The networks as tensors (means only) and attributes; the caller adds code_table/latents.
Model vae_to_model(const VaeNet& net);

// The name of the tensor holding the training posteriors behind the code-point tables.
inline constexpr const char* kVaeCodeTableTensor = "code_table/latents";

}  // namespace vbq
