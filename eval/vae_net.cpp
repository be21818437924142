#include "eval/vae_net.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "vbq/error.hpp"

namespace vbq {
namespace {

// out [n, L.out] = in [n, L.in] . w + b, then ReLU if relu.
void dense(const VaeDense& L, const float* in, size_t n, std::vector<float>& out, bool relu) {
  out.resize(n * L.out);
  for (size_t r = 0; r < n; ++r) std::copy(L.b.begin(), L.b.end(), out.begin() + r * L.out);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(L.out), int(L.in), 1.0f, in, int(L.in),
              L.w.data(), int(L.out), 1.0f, out.data(), int(L.out));
  if (relu)
    for (float& v : out) v = std::max(v, 0.0f);
}

const Tensor& need(const Model& m, const std::string& name, std::vector<uint64_t> shape) {
  const Tensor* t = m.find(name);
  if (!t) throw Error(ErrorKind::format, "not a VAE model: tensor '" + name + "' missing");
  if (t->shape != shape) throw Error(ErrorKind::format, "VAE tensor '" + name + "' has the wrong shape");
  return *t;
}

VaeDense dense_from(const Model& m, const std::string& prefix, size_t in, size_t out) {
  VaeDense L{in, out, {}, {}};
  const Tensor& w = need(m, prefix + "/weight", {in, out});
  const Tensor& b = need(m, prefix + "/bias", {out});
  L.w.assign(w.mu.begin(), w.mu.end());
  L.b.assign(b.mu.begin(), b.mu.end());
  return L;
}

size_t attr_size(const Model& m, const std::string& key) {
  auto it = m.attributes.find(key);
  if (it == m.attributes.end()) throw Error(ErrorKind::format, "not a VAE model: attribute '" + key + "' missing");
  char* end = nullptr;
  const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
  if (*end || v == 0 || v > (1u << 20))
    throw Error(ErrorKind::format, "VAE attribute '" + key + "' is not a positive size: " + it->second);
  return size_t(v);
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

const char* vae_likelihood_name(VaeLikelihood l) { return l == VaeLikelihood::bernoulli ? "bernoulli" : "gauss"; }

VaeLikelihood parse_vae_likelihood(const std::string& name) {
  if (name == "bernoulli") return VaeLikelihood::bernoulli;
  if (name == "gauss") return VaeLikelihood::gauss;
  throw Error(ErrorKind::argument, "unknown likelihood '" + name + "' (expected bernoulli or gauss)");
}

void vae_encode(const VaeNet& net, const float* x, size_t n, std::vector<double>& mu, std::vector<double>& sigma) {
  std::vector<float> h, e;
  dense(net.enc1, x, n, h, true);
  dense(net.enc2, h.data(), n, e, false);
  const size_t L = net.latent;
  mu.resize(n * L);
  sigma.resize(n * L);
  for (size_t r = 0; r < n; ++r)
    for (size_t j = 0; j < L; ++j) {
      mu[r * L + j] = double(e[r * 2 * L + j]);
      sigma[r * L + j] = std::exp(double(e[r * 2 * L + L + j]));
    }
}

void vae_decode(const VaeNet& net, const double* z, size_t n, std::vector<float>& pixels) {
  std::vector<float> zf(z, z + n * net.latent), h;
  dense(net.dec1, zf.data(), n, h, true);
  dense(net.dec2, h.data(), n, pixels, false);
  for (float& v : pixels) v = 1.0f / (1.0f + std::exp(-v));
}

VaeNet vae_from_model(const Model& m) {
  VaeNet net;
  net.latent = attr_size(m, "latent_dim");
  net.hidden = attr_size(m, "hidden");
  net.pixels = attr_size(m, "pixels");
  net.enc1 = dense_from(m, "encoder/layer1", net.pixels, net.hidden);
  net.enc2 = dense_from(m, "encoder/layer2", net.hidden, 2 * net.latent);
  net.dec1 = dense_from(m, "decoder/layer1", net.latent, net.hidden);
  net.dec2 = dense_from(m, "decoder/layer2", net.hidden, net.pixels);
  auto lik = m.attributes.find("likelihood");
  if (lik != m.attributes.end()) net.likelihood = parse_vae_likelihood(lik->second);
  auto var = m.attributes.find("likelihood_var");
  if (var != m.attributes.end()) net.likelihood_var = std::strtod(var->second.c_str(), nullptr);
  auto beta = m.attributes.find("beta");
  if (beta != m.attributes.end()) net.beta = std::strtod(beta->second.c_str(), nullptr);
  return net;
}

Model vae_to_model(const VaeNet& net) {
  Model m;
  auto add = [&](const std::string& prefix, const VaeDense& L) {
    Tensor w, b;
    w.name = prefix + "/weight";
    w.shape = {L.in, L.out};
    w.mu.assign(L.w.begin(), L.w.end());
    b.name = prefix + "/bias";
    b.shape = {L.out};
    b.mu.assign(L.b.begin(), L.b.end());
    m.tensors.push_back(std::move(w));
    m.tensors.push_back(std::move(b));
  };
  add("encoder/layer1", net.enc1);
  add("encoder/layer2", net.enc2);
  add("decoder/layer1", net.dec1);
  add("decoder/layer2", net.dec2);
  auto& a = m.attributes;
  a["model"] = "vae";
  a["pixels"] = std::to_string(net.pixels);
  a["hidden"] = std::to_string(net.hidden);
  a["latent_dim"] = std::to_string(net.latent);
  a["likelihood"] = vae_likelihood_name(net.likelihood);
  if (net.likelihood == VaeLikelihood::gauss) a["likelihood_var"] = num(net.likelihood_var);
  a["beta"] = num(net.beta);
  a["architecture"] = "encoder " + std::to_string(net.pixels) + "-" + std::to_string(net.hidden) + "-2x" +
                      std::to_string(net.latent) + ", decoder " + std::to_string(net.latent) + "-" +
                      std::to_string(net.hidden) + "-" + std::to_string(net.pixels) + ", relu, sigmoid output";
  a["weight_layout"] = "layerK/weight is [in, out]: activations = inputs . weight + bias";
  return m;
}

}  // namespace vbq
