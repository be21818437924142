#include "train/bnn.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <bit>
#include <numbers>
#include <numeric>

#include "vbq/error.hpp"
#include "train/attributes.hpp"
#include "train/optim.hpp"

namespace vbq {
namespace {

using train::fill_normal;
using train::gemm;
using train::stream_key;


enum Stream : uint64_t { kInit = 1, kNoise = 2, kShuffle = 3 };

// ---- exp and log for the per-weight loops ----
// libm's expf/logf are calls that keep `omp simd` loops scalar (this file is built
// without -ffast-math); these vectorize and agree with libm to a few 1e-7 relative
// (tested). GCC leaves a loop scalar for a float select like `x > a ? b : c` or a
// float clamp before a float-to-int conversion, hence integer selects and the
// clamp by |.| below. Double stays on libm (the gradient checks).

// |x| <= 87 (the callers' arguments are bounded far inside: 2 log_std, and log
// alpha clipped to +-10); the exponent is clamped so no argument gives garbage bits.
inline float exp_fast(float x) {
  const float t = x * 1.44269504088896341f;  // x / ln 2 = n + f, |f| <= 1/2
  int n = int(t + std::copysign(0.5f, t));
  n = n < -126 ? -126 : n;  // integer clamps: a float clamp before the conversion stays scalar
  n = n > 127 ? 127 : n;
  const float r = (t - float(n)) * 0.693147180559945309f;  // |r| <= ln(2) / 2
  // Taylor to r^6: relative error < 1.3e-7 on |r| <= 0.347.
  const float p =
      1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  return p * std::bit_cast<float>(uint32_t(n + 127) << 23);
}
inline double exp_fast(double x) { return std::exp(x); }

// x > 0 and normal.
inline float log_fast(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x), mant = bits & 0x7fffffu;
  const uint32_t high = mant > 0x3504f3u ? 1u : 0u;  // mantissa above sqrt(2): use m / 2 in [0.71, 1)
  const float m = std::bit_cast<float>(mant | (0x3f800000u - (high << 23)));
  const int e = int(bits >> 23) - 127 + int(high);
  // ln m = 2 atanh(t), t = (m - 1) / (m + 1), |t| <= 0.172: series to t^9.
  const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
  const float ln_m = 2.0f * t * (1.0f + t2 * (1.0f / 3 + t2 * (1.0f / 5 + t2 * (1.0f / 7 + t2 * (1.0f / 9)))));
  return float(e) * 0.693147180559945309f + ln_m;
}
inline double log_fast(double x) { return std::log(x); }

// KL of one tensor and grad_scale times its gradient, added to gmu / gls. s2 (gauss) =
// exp(2 log_std) when the caller has it, else null.
template <class T>
double kl_tensor(const std::vector<T>& mu, const std::vector<T>& ls, const T* s2, const BnnPriorSpec& prior,
                 double grad_scale, std::vector<T>& gmu, std::vector<T>& gls) {
  const T scale = T(grad_scale);
  if (prior.kind == BnnPrior::gauss) {
    // KL(N(mu, s^2) || N(0, p^2)) = log(p/s) + (s^2 + mu^2) / (2 p^2) - 1/2.
    const T inv_p2 = T(1.0 / (prior.std * prior.std)), log_p = T(std::log(prior.std));
    double kl = 0;
    for (size_t i = 0; i < mu.size(); ++i) {
      const T m = mu[i], v = s2 ? s2[i] : exp_fast(T(2) * ls[i]);
      kl += double(log_p - ls[i] + (v + m * m) * inv_p2 / T(2) - T(0.5));
      gmu[i] += scale * m * inv_p2;
      gls[i] += scale * (v * inv_p2 - T(1));
    }
    return kl;
  }
  // Log-uniform prior: KL = k1 (1 - S) + 0.5 log(1 + 1/alpha), S = sigmoid(k2 + k3 log alpha),
  // log alpha = 2 log_std - log(mu^2 + tiny), clipped to +-kSvdLogAlphaMax (zero gradient outside).
  // Branch free, so the loop vectorizes: it runs on every weight at every step.
  const T k1 = T(kSvdK1), k2 = T(kSvdK2), k3 = T(kSvdK3), la_max = T(kSvdLogAlphaMax), tiny = T(1e-16);
  const size_t n = mu.size();
  const T *mp = mu.data(), *lp = ls.data();
  T *gm = gmu.data(), *gl = gls.data();
  double kl = 0;
  T terms[1024];  // per-element KL of one chunk: a reduction in the loop would keep it scalar
  for (size_t begin = 0; begin < n; begin += 1024) {
    const size_t len = std::min<size_t>(1024, n - begin);
    const T* __restrict mc = mp + begin;
    const T* __restrict lc = lp + begin;
    T* __restrict gmc = gm + begin;
    T* __restrict glc = gl + begin;
#pragma omp simd
    for (size_t i = 0; i < len; ++i) {
      const T m = mc[i], m2 = m * m + tiny;
      const T la = T(2) * lc[i] - log_fast(m2);
      const T inside = std::abs(la) <= la_max ? T(1) : T(0);
      const T lac = T(0.5) * (std::abs(la + la_max) - std::abs(la - la_max));  // clamp to +-la_max
      const T inv_alpha = exp_fast(-lac);
      const T S = T(1) / (T(1) + exp_fast(-(k2 + k3 * lac)));
      terms[i] = k1 * (T(1) - S) + T(0.5) * log_fast(T(1) + inv_alpha);
      const T d_la = inside * (-k1 * k3 * S * (T(1) - S) - T(0.5) * inv_alpha / (T(1) + inv_alpha));
      glc[i] += scale * T(2) * d_la;
      gmc[i] -= scale * d_la * T(2) * m / m2;
    }
    T part = 0;
    for (size_t i = 0; i < len; ++i) part += terms[i];
    kl += double(part);
  }
  return kl;
}

template <class T>
std::vector<std::vector<T>*> param_vectors(BnnParams<T>& p) {
  std::vector<std::vector<T>*> v;
  for (auto& L : p) v.insert(v.end(), {&L.w_mu, &L.w_log_std, &L.b_mu, &L.b_log_std});
  return v;
}


}  // namespace

template <class T>
BnnParams<T> bnn_init(size_t inputs, const std::vector<size_t>& hidden, size_t classes, double init_log_std,
                      uint64_t seed) {
  std::vector<size_t> widths{inputs};
  widths.insert(widths.end(), hidden.begin(), hidden.end());
  widths.push_back(classes);
  BnnParams<T> p(widths.size() - 1);
  for (size_t k = 0; k < p.size(); ++k) {
    auto& L = p[k];
    L.in = widths[k];
    L.out = widths[k + 1];
    L.w_mu.resize(L.in * L.out);
    fill_normal(stream_key(seed, kInit, k), L.w_mu.data(), L.w_mu.size());
    const T scale = T(std::sqrt(2.0 / double(L.in)));
    for (T& w : L.w_mu) w *= scale;
    L.w_log_std.assign(L.in * L.out, T(init_log_std));
    L.b_mu.assign(L.out, T(0));
    L.b_log_std.assign(L.out, T(init_log_std));
  }
  return p;
}

template <class T>
BnnParams<T> bnn_zeros_like(const BnnParams<T>& p) {
  BnnParams<T> z(p.size());
  for (size_t k = 0; k < p.size(); ++k) {
    z[k].in = p[k].in;
    z[k].out = p[k].out;
    z[k].w_mu.assign(p[k].w_mu.size(), T(0));
    z[k].w_log_std.assign(p[k].w_log_std.size(), T(0));
    z[k].b_mu.assign(p[k].b_mu.size(), T(0));
    z[k].b_log_std.assign(p[k].b_log_std.size(), T(0));
  }
  return z;
}

template <class T>
double bnn_kl(const BnnParams<T>& p, const BnnPriorSpec& prior, double grad_scale, BnnParams<T>* grad) {
  if (grad->size() != p.size()) *grad = bnn_zeros_like(p);
  double kl = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    auto& G = (*grad)[k];
    kl += kl_tensor(p[k].w_mu, p[k].w_log_std, (const T*)nullptr, prior, grad_scale, G.w_mu, G.w_log_std);
    kl += kl_tensor(p[k].b_mu, p[k].b_log_std, (const T*)nullptr, prior, grad_scale, G.b_mu, G.b_log_std);
  }
  return kl;
}

template <class T>
BnnLoss BnnObjective<T>::evaluate(const BnnParams<T>& p, const T* x, const uint8_t* y, size_t B, size_t N,
                                  const BnnPriorSpec& prior, const std::vector<std::vector<T>>& eps,
                                  BnnParams<T>* grad, double kl_weight) {
  const size_t L = p.size();
  const bool noisy = !eps.empty();
  if (grad->size() != L) *grad = bnn_zeros_like(p);
  for (auto* v : {&a_, &a2_, &s2w_, &s2b_, &z_, &sd_}) v->resize(L);
  BnnLoss loss;

  // Forward with local reparameterization: Z = A·Mu + b_mu + sqrt(A²·S² + s_b²) ⊙ eps.
  for (size_t k = 0; k < L; ++k) {
    const auto& P = p[k];
    const size_t in = P.in, out = P.out;
    const T* A = k == 0 ? x : a_[k].data();
    auto &a2 = a2_[k], &s2w = s2w_[k], &s2b = s2b_[k], &z = z_[k], &sd = sd_[k];
    z.resize(B * out);
    for (size_t r = 0; r < B; ++r) std::copy(P.b_mu.begin(), P.b_mu.end(), z.begin() + r * out);
    gemm(CblasNoTrans, CblasNoTrans, B, out, in, A, in, P.w_mu.data(), out, T(1), z.data(), out);
    if (noisy) {
      a2.resize(B * in);
#pragma omp simd
      for (size_t i = 0; i < B * in; ++i) a2[i] = A[i] * A[i];
      s2w.resize(in * out);
#pragma omp simd
      for (size_t i = 0; i < in * out; ++i) s2w[i] = exp_fast(T(2) * P.w_log_std[i]);
      s2b.resize(out);
      for (size_t j = 0; j < out; ++j) s2b[j] = std::exp(T(2) * P.b_log_std[j]);
      sd.resize(B * out);
      for (size_t r = 0; r < B; ++r) std::copy(s2b.begin(), s2b.end(), sd.begin() + r * out);
      gemm(CblasNoTrans, CblasNoTrans, B, out, in, a2.data(), in, s2w.data(), out, T(1), sd.data(), out);
      const T* e = eps[k].data();
#pragma omp simd
      for (size_t i = 0; i < B * out; ++i) {
        sd[i] = std::sqrt(sd[i]);
        z[i] += sd[i] * e[i];
      }
    }
    if (k + 1 < L) {
      auto& next = a_[k + 1];
      next.resize(B * out);
#pragma omp simd
      for (size_t i = 0; i < B * out; ++i) next[i] = std::max(z[i], T(0));
    }
  }

  // Softmax cross-entropy; d objective / d logits = (softmax - onehot) / B.
  const size_t C = p.back().out;
  dz_.resize(B * C);
  double nll = 0;
  for (size_t r = 0; r < B; ++r) {
    const T* row = z_[L - 1].data() + r * C;
    size_t arg = size_t(std::max_element(row, row + C) - row);
    double mx = row[arg], sum = 0;
    for (size_t j = 0; j < C; ++j) sum += std::exp(double(row[j]) - mx);
    nll -= double(row[y[r]]) - mx - std::log(sum);
    loss.correct += arg == y[r];
    for (size_t j = 0; j < C; ++j)
      dz_[r * C + j] = T((std::exp(double(row[j]) - mx) / sum - (j == y[r] ? 1.0 : 0.0)) / double(B));
  }
  loss.nll = nll / double(B);

  // Backward. With dM = dZ and dV = dZ ⊙ eps / (2 sqrt(V)):
  //   dMu = Aᵀ·dM, dS² = (A²)ᵀ·dV, dA = dM·Muᵀ + 2A ⊙ (dV·S²ᵀ), d log_std = dS² · 2S².
  for (size_t k = L; k-- > 0;) {
    const auto& P = p[k];
    auto& G = (*grad)[k];
    const size_t in = P.in, out = P.out;
    const T* A = k == 0 ? x : a_[k].data();
    gemm(CblasTrans, CblasNoTrans, in, out, B, A, in, dz_.data(), out, T(0), G.w_mu.data(), out);
    for (size_t j = 0; j < out; ++j) {
      T gm = 0;
      for (size_t r = 0; r < B; ++r) gm += dz_[r * out + j];
      G.b_mu[j] = gm;
    }
    if (noisy) {
      const T* e = eps[k].data();
      dv_.resize(B * out);
#pragma omp simd
      for (size_t i = 0; i < B * out; ++i) dv_[i] = dz_[i] * e[i] / (T(2) * sd_[k][i]);
      gemm(CblasTrans, CblasNoTrans, in, out, B, a2_[k].data(), in, dv_.data(), out, T(0), G.w_log_std.data(),
           out);
#pragma omp simd
      for (size_t i = 0; i < in * out; ++i) G.w_log_std[i] *= T(2) * s2w_[k][i];
      for (size_t j = 0; j < out; ++j) {
        T gv = 0;
        for (size_t r = 0; r < B; ++r) gv += dv_[r * out + j];
        G.b_log_std[j] = gv * T(2) * s2b_[k][j];
      }
    } else {
      std::fill(G.w_log_std.begin(), G.w_log_std.end(), T(0));
      std::fill(G.b_log_std.begin(), G.b_log_std.end(), T(0));
    }
    if (k == 0) break;
    da_.resize(B * in);
    gemm(CblasNoTrans, CblasTrans, B, in, out, dz_.data(), out, P.w_mu.data(), out, T(0), da_.data(), in);
    const T* zprev = z_[k - 1].data();
    if (noisy) {
      tmp_.resize(B * in);
      gemm(CblasNoTrans, CblasTrans, B, in, out, dv_.data(), out, s2w_[k].data(), out, T(0), tmp_.data(), in);
#pragma omp simd
      for (size_t i = 0; i < B * in; ++i) da_[i] = zprev[i] > 0 ? da_[i] + T(2) * A[i] * tmp_[i] : T(0);
    } else {
#pragma omp simd
      for (size_t i = 0; i < B * in; ++i) da_[i] = zprev[i] > 0 ? da_[i] : T(0);
    }
    std::swap(dz_, da_);
  }

  // KL term and its gradient, scaled by kl_weight / N (each minibatch carries B / N of it).
  double kl = 0;
  const double scale = kl_weight / double(N);
  if (noisy)
    for (size_t k = 0; k < L; ++k) {
      auto& G = (*grad)[k];
      kl += kl_tensor(p[k].w_mu, p[k].w_log_std, s2w_[k].data(), prior, scale, G.w_mu, G.w_log_std);
      kl += kl_tensor(p[k].b_mu, p[k].b_log_std, s2b_[k].data(), prior, scale, G.b_mu, G.b_log_std);
    }
  loss.kl = kl;
  loss.objective = loss.nll + kl * scale;
  return loss;
}

MlpWeights bnn_means(const BnnParams<float>& p) {
  MlpWeights w;
  for (const auto& L : p) w.layers.push_back({L.in, L.out, L.w_mu, L.b_mu});
  return w;
}

Model bnn_to_model(const BnnParams<float>& p, const BnnConfig& config) {
  Model m;
  for (size_t k = 0; k < p.size(); ++k) {
    const auto& L = p[k];
    auto add = [&](const std::string& kind, std::vector<uint64_t> shape, const std::vector<float>& mu,
                   const std::vector<float>& ls) {
      Tensor t;
      t.name = "layer" + std::to_string(k + 1) + "/" + kind;
      t.shape = std::move(shape);
      t.float32 = true;
      t.mu.assign(mu.begin(), mu.end());
      t.sigma.resize(ls.size());
      for (size_t i = 0; i < ls.size(); ++i) t.sigma[i] = std::exp(double(ls[i]));
      m.tensors.push_back(std::move(t));
    };
    add("weight", {L.in, L.out}, L.w_mu, L.w_log_std);
    add("bias", {L.out}, L.b_mu, L.b_log_std);
  }
  std::vector<size_t> widths;
  if (!p.empty()) widths.push_back(p.front().in);
  for (const auto& L : p) widths.push_back(L.out);
  write_bnn_options(config, widths, m.attributes);
  return m;
}

const char* bnn_prior_name(BnnPrior prior) { return prior == BnnPrior::gauss ? "gauss" : "log-uniform"; }

BnnPrior parse_bnn_prior(const std::string& name) {
  if (name == "gauss") return BnnPrior::gauss;
  if (name == "log-uniform") return BnnPrior::log_uniform;
  throw Error(ErrorKind::argument, "unknown prior '" + name + "' (expected gauss or log-uniform)");
}

BnnResult train_bnn(const Dataset& train, const Dataset* test, const BnnConfig& cfg,
                    const std::atomic<bool>* cancel, const BnnEpochCallback& on_epoch) {
  if (cfg.epochs < 1) throw Error(ErrorKind::argument, "epochs must be >= 1");
  if (cfg.batch < 1) throw Error(ErrorKind::argument, "batch size must be >= 1");
  if (!(cfg.lr > 0)) throw Error(ErrorKind::argument, "learning rate must be > 0");
  if (cfg.prior.kind == BnnPrior::gauss && !(cfg.prior.std > 0))
    throw Error(ErrorKind::argument, "prior std must be > 0");
  if (!(cfg.kl_weight >= 0)) throw Error(ErrorKind::argument, "KL weight must be >= 0");
  if (!(cfg.kl_warmup_epochs >= 0)) throw Error(ErrorKind::argument, "KL warm-up epochs must be >= 0");
  if (train.rows == 0 || train.cols == 0 || train.num_classes < 2)
    throw Error(ErrorKind::argument, "training set is empty or has fewer than 2 classes");
  for (size_t h : cfg.hidden)
    if (h == 0) throw Error(ErrorKind::argument, "hidden layer widths must be >= 1");
  set_blas_threads(cfg.threads);

  const size_t N = train.rows, D = train.cols, C = size_t(train.num_classes);
  const size_t B = std::min(cfg.batch, N), batches = (N + B - 1) / B;
  const double total_steps = double(cfg.epochs) * double(batches), warmup_steps = cfg.kl_warmup_epochs * double(batches);
  BnnResult res;
  res.params = bnn_init<float>(D, cfg.hidden, C, cfg.init_log_std, cfg.seed);
  BnnParams<float> grad = bnn_zeros_like(res.params);
  train::Adam adam(param_vectors(res.params));
  BnnObjective<float> objective;
  std::vector<uint32_t> order(N);
  std::vector<float> xb(B * D);
  std::vector<uint8_t> yb(B);
  std::vector<std::vector<float>> eps(cfg.deterministic ? 0 : res.params.size());

  auto t0 = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0u);
    train::shuffle(order, stream_key(cfg.seed, kShuffle, uint64_t(epoch)));
    double obj_sum = 0, nll_sum = 0;
    size_t correct = 0;
    for (size_t b = 0; b < batches; ++b) {
      if (cancel && cancel->load(std::memory_order_relaxed))
        throw Error(ErrorKind::interrupted, "training cancelled; no output written");
      const size_t start = b * B, nb = std::min(B, N - start);
      for (size_t r = 0; r < nb; ++r) {
        const uint32_t i = order[start + r];
        std::copy_n(train.x.data() + size_t(i) * D, D, xb.data() + r * D);
        yb[r] = train.y[i];
      }
      for (size_t k = 0; k < eps.size(); ++k) {
        eps[k].resize(nb * res.params[k].out);
        fill_normal(stream_key(cfg.seed, kNoise, uint64_t(epoch), b, k), eps[k].data(), eps[k].size());
      }
      const double step = double(epoch) * double(batches) + double(b);
      const double kl_weight = step < warmup_steps ? cfg.kl_weight * (step + 1) / warmup_steps : cfg.kl_weight;
      const double lr = cfg.cosine_lr ? cfg.lr * 0.5 * (1 + std::cos(std::numbers::pi * step / total_steps)) : cfg.lr;
      BnnLoss l = objective.evaluate(res.params, xb.data(), yb.data(), nb, N, cfg.prior, eps, &grad, kl_weight);
      adam.step(param_vectors(res.params), param_vectors(grad), lr);
      if (cfg.on_batch) cfg.on_batch(epoch, b, nb, l);
      obj_sum += l.objective * double(nb);
      nll_sum += l.nll * double(nb);
      correct += l.correct;
      res.last_epoch.kl = l.kl;
    }
    res.last_epoch.objective = obj_sum / double(N);
    res.last_epoch.nll = nll_sum / double(N);
    res.last_epoch.correct = correct;
    res.neg_elbo = res.last_epoch.nll + res.last_epoch.kl / double(N);
    if (on_epoch) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      on_epoch(epoch, BnnEpoch{res.last_epoch, res.neg_elbo, secs}, res.params);
    }
  }
  res.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  res.model = bnn_to_model(res.params, cfg);
  auto& a = res.model.attributes;
  a[bnn_keys::kTrainExamples] = std::to_string(N);
  a[bnn_keys::kTrainSeconds] = format_attribute(res.train_seconds);
  a[bnn_keys::kFinalTrainObjective] = format_attribute(res.last_epoch.objective);
  a[bnn_keys::kFinalTrainAccuracy] = format_attribute(double(res.last_epoch.correct) / double(N));
  if (!cfg.deterministic) {
    a[bnn_keys::kFinalNegElbo] = format_attribute(res.neg_elbo);
    a[bnn_keys::kFinalKl] = format_attribute(res.last_epoch.kl / double(N));
  }
  if (test) {
    res.has_test = true;
    res.test = evaluate_mlp(bnn_means(res.params), *test);
    a[bnn_keys::kTestAccuracy] = format_attribute(res.test.accuracy);
    a[bnn_keys::kTestLogLikelihood] = format_attribute(res.test.log_likelihood);
  }
  return res;
}

template BnnParams<float> bnn_init<float>(size_t, const std::vector<size_t>&, size_t, double, uint64_t);
template BnnParams<double> bnn_init<double>(size_t, const std::vector<size_t>&, size_t, double, uint64_t);
template BnnParams<float> bnn_zeros_like<float>(const BnnParams<float>&);
template BnnParams<double> bnn_zeros_like<double>(const BnnParams<double>&);
template double bnn_kl<float>(const BnnParams<float>&, const BnnPriorSpec&, double, BnnParams<float>*);
template double bnn_kl<double>(const BnnParams<double>&, const BnnPriorSpec&, double, BnnParams<double>*);
template class BnnObjective<float>;
template class BnnObjective<double>;

}  // namespace vbq
