// Bayesian skip-gram trainer: stochastic natural-gradient-style VI on the ELBO.
//
// Every coordinate has posterior N(mu, 1/lambda): we store the precision
// lambda, sigma = lambda^-1/2. s = sigmoid; vector products are per coordinate.
//
// Per pair. For a center token w at a context position c, draw ONE sample of
// the input vector
//     eps_u ~ N(0, I),  z_u = mu_u + sigma_u eps_u                    (u = u_w)
// and for each target t in {c (label y=1), n_1..n_K (label y=0)}:
//     eps_t ~ N(0, I),  z_t = mu_t + sigma_t eps_t         (t's context vector)
//     x = z_u . z_t,  g = y - s(x)      [= d/dx log s(+-x)]
//                     h = s(x)(1-s(x))  [= -d2/dx2 log s(+-x), both labels]
//     mu_t     += rho g z_u,     lambda_t += gamma h z_u^2
//     G_u      += g z_t,         H_u      += h z_t^2
// then  mu_u += rho G_u,  lambda_u += gamma H_u  (pair_step below).
//
// Means: g z_u and g z_t are single-sample unbiased reparameterization
// gradients of the pairs' E_q[log-likelihood]; plain SGD as word2vec.c.
// Prior term of the means: d/dmu (-KL(N(mu, sigma^2) || N(0, s0^2))) = -mu/s0^2,
// applied at every kept occurrence of w as a center, to u_w and v_w, scaled by
// 1/n_w (n_w = count_w * keep_w = expected kept occurrences per epoch):
//     mu += (rho / n_w) (-mu / s0^2)
// so that an epoch applies rho * grad(-KL) once per word, whatever its frequency.
//
// Precisions. For a Gaussian q, dL/d(sigma^2) = 1/2 E_q[d2/dtheta2 log p(D|.)]
// + 1/(2 sigma^2) - 1/(2 s0^2) (Bonnet/Price theorem), so the ELBO is stationary
// in sigma exactly when
//     lambda = lambda0 + E_q[-d2/dtheta2 log p(D|.)],  lambda0 = 1/s0^2,
// and since x is linear in each coordinate, -d2/du_j2 log s(+-x) = h z_tj^2
// exactly: the data term is the sum over all pairs (one epoch) of E_q[h z^2],
// of which gamma h z^2 above is a single-sample estimate (times gamma). The
// natural-gradient step of size beta on (mu, sigma^2) sets lambda <- (1 - beta)
// lambda + beta (lambda0 + data term) (Khan & Nielsen 2018). We spread it over
// the epoch: the pairs add gamma * (their curvature), and each kept occurrence
// of w as a center applies to lambda of u_w and of v_w
//     lambda += b (lambda0 - lambda),  b = min(1, gamma / n_w).
// Per epoch this is d lambda/dt = gamma (lambda0 + H - lambda): in expectation
// lambda relaxes to the stationary point lambda0 + H, forgetting its past at
// rate e^-gamma per epoch (gamma = --std-rate). A word seen n times gets
// H ~ n * (per-occurrence curvature), so sigma ~ n^-1/2 for frequent words and
// sigma -> s0 for words the data do not pin down. Plain SGD on log sigma, the
// previous rule, moves sigma by only ~rho per epoch for rare words and left
// them at init_std.
//
// Schedule: rho_t = lr * max(1e-4, 1 - processed / (epochs * N)) as in
// word2vec.c, processed counted over all threads. lambda <= 1e12.
#include "train/skipgram.hpp"

#include <algorithm>
#include <barrier>
#include <exception>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "vbq/error.hpp"
#include "vbq/random.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VBQ_KERNEL __attribute__((target_clones("avx2", "default")))  // feature test, not CPU model
#else
#define VBQ_KERNEL
#endif

namespace vbq {

namespace {

// sigmoid and softplus(-x) = -log s(x) on [-6, 6], saturated outside (word2vec.c).
struct SigmoidTable {
  static constexpr int size = 2048;
  static constexpr float max_x = 6.0f;
  float sig[size + 1], nll[size + 1];
  SigmoidTable() {
    for (int i = 0; i <= size; ++i) {
      double x = (2.0 * i / size - 1) * max_x;
      sig[i] = float(1 / (1 + std::exp(-x)));
      nll[i] = float(std::log1p(std::exp(-x)));
    }
  }
  int index(float x) const { return int((x + max_x) * (size / (2 * max_x)) + 0.5f); }
};

// Table of 2^16 standard normals (+ dim for wrap-around): small enough to stay
// in L2. A sample is d consecutive entries from a random offset.
constexpr int gauss_bits = 16;

// Walker/Vose alias table for the unigram^0.75 negative distribution: O(V)
// memory (fits in cache, unlike word2vec.c's 1e8-entry table), two lookups.
struct AliasTable {
  std::vector<float> prob;
  std::vector<uint32_t> alias;
  explicit AliasTable(const std::vector<double>& weights) {
    const size_t n = weights.size();
    prob.assign(n, 1.0f);
    alias.resize(n);
    double z = 0;
    for (double w : weights) z += w;
    std::vector<double> q(n);
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      q[i] = weights[i] * double(n) / z;
      alias[i] = uint32_t(i);
      (q[i] < 1 ? small : large).push_back(uint32_t(i));
    }
    while (!small.empty() && !large.empty()) {
      uint32_t s = small.back(), l = large.back();
      small.pop_back();
      prob[s] = float(q[s]);
      alias[s] = l;
      q[l] -= 1 - q[s];
      if (q[l] < 1) {
        large.pop_back();
        small.push_back(l);
      }
    }
  }
  uint32_t draw(uint64_t bits) const {
    uint32_t i = uint32_t(below(bits, prob.size()));
    return float(bits & 0xFFFFFF) * 0x1.0p-24f < prob[i] ? i : alias[i];
  }
};

// Context positions [lo, hi] of the center at pos in a sentence of len tokens:
// word2vec's window of random size b ~ U{1..window}.
inline std::pair<int, int> context_window(Xoshiro256Plus& rng, int pos, int len, int window) {
  const int shrink = int(below(rng.next(), uint64_t(window)));
  return {std::max(0, pos - window + shrink), std::min(len - 1, pos + window - shrink)};
}

// Negative sampling distribution: P(w) proportional to count_w^0.75.
AliasTable negative_sampler(const std::vector<uint64_t>& counts) {
  std::vector<double> weights(counts.size());
  for (size_t w = 0; w < counts.size(); ++w) weights[w] = std::pow(double(counts[w]), 0.75);
  return AliasTable(weights);
}

// 2^gauss_bits + d standard normals (Box-Muller): a sample is d of them from
// offset rng.next() >> (64 - gauss_bits).
std::vector<float> gaussian_table(Xoshiro256Plus& rng, size_t d) {
  std::vector<float> gauss((size_t(1) << gauss_bits) + d);
  for (size_t i = 0; i < gauss.size(); i += 2) {
    double r = std::sqrt(-2 * std::log(1 - rng.uniform())), phi = 2 * M_PI * rng.uniform();
    gauss[i] = float(r * std::cos(phi));
    if (i + 1 < gauss.size()) gauss[i + 1] = float(r * std::sin(phi));
  }
  return gauss;
}

VBQ_KERNEL float dot(const float* a, const float* b, size_t d) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  for (; j + 8 <= d; j += 8)
    for (int k = 0; k < 8; ++k) acc[k] += a[j + k] * b[j + k];
  float s = 0;
  for (; j < d; ++j) s += a[j] * b[j];
  return s + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// 1/sqrt(x) for x > 0 to ~5e-6 relative error, branch-free so loops over it
// vectorize (std::sqrt does not without -fno-math-errno).
inline float fast_rsqrt(float x) {
  uint32_t i;
  std::memcpy(&i, &x, 4);
  i = 0x5F375A86u - (i >> 1);
  float y;
  std::memcpy(&y, &i, 4);
  y = y * (1.5f - 0.5f * x * y * y);
  return y * (1.5f - 0.5f * x * y * y);
}

// z = mu + sigma * eps, sigma = 1/sqrt(precision).
VBQ_KERNEL void sample(size_t d, const float* __restrict mu, const float* __restrict prec, const float* __restrict eps,
                       float* __restrict z) {
  for (size_t j = 0; j < d; ++j) z[j] = mu[j] + fast_rsqrt(prec[j]) * eps[j];
}

// Target update after x: g already includes rho, h = gamma * s(x)(1 - s(x)).
// See the header comment.
VBQ_KERNEL void update_target(size_t d, float g, float h, const float* __restrict zu, const float* __restrict zt,
                              float* __restrict gu, float* __restrict hu, float* __restrict mu,
                              float* __restrict prec) {
  for (size_t j = 0; j < d; ++j) {
    gu[j] += g * zt[j];
    hu[j] += h * zt[j] * zt[j];
    mu[j] += g * zu[j];
    prec[j] += h * zu[j] * zu[j];
  }
}

VBQ_KERNEL void update_input(size_t d, const float* __restrict gu, const float* __restrict hu, float* __restrict mu,
                             float* __restrict prec) {
  for (size_t j = 0; j < d; ++j) {
    mu[j] += gu[j];
    prec[j] += hu[j];
  }
}

// Prior/entropy step with c = rho / n_w (means) and b = min(1, gamma / n_w)
// (precisions), lambda0 = 1 / prior_std^2.
VBQ_KERNEL void kl_step(size_t d, float c, float b, float lambda0, float* __restrict mu, float* __restrict prec,
                        float prec_hi) {
  for (size_t j = 0; j < d; ++j) {
    mu[j] -= c * mu[j] * lambda0;
    float p = prec[j] + b * (lambda0 - prec[j]);
    prec[j] = p < prec_hi ? p : prec_hi;
  }
}

constexpr int max_targets = 64;  // 1 positive + negatives
const float prec_hi = 1e12f;      // sigma >= 1e-6
const SigmoidTable sig;

std::string fmt(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

void check_options(const SkipGramOptions& o) {
  auto bad = [](const std::string& m) { throw Error(ErrorKind::argument, m); };
  if (o.dim < 1) bad("--dim must be >= 1");
  if (o.window < 1) bad("--window must be >= 1");
  if (o.negatives < 0 || o.negatives >= max_targets) bad("--negatives must be in [0, " + std::to_string(max_targets - 1) + "]");
  if (o.epochs < 1) bad("--epochs must be >= 1");
  if (o.threads < 1) bad("--threads must be >= 1");
  if (!(o.prior_std > 0) || !(o.prior_std <= 1e6)) bad("--prior-std must be in (0, 1e6]");
  if (!(o.init_std > 0) || !std::isfinite(o.init_std)) bad("--init-std must be > 0");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) bad("--lr must be > 0");
  if (!(o.std_rate > 0) || !std::isfinite(o.std_rate)) bad("--std-rate must be > 0");
  if (!(o.sample >= 0)) bad("--sample must be >= 0");
}

}  // namespace

namespace skipgram_detail {

float pair_step(size_t d, float* word_row, float* const* target_rows, const float* const* eps, int n_targets,
                float rho, float gamma, PairScratch& s) {
  float* zu = s.zu.data();
  float* zt = s.zt.data();
  sample(d, word_row, word_row + d, eps[0], zu);
  std::fill(s.gu.begin(), s.gu.end(), 0.0f);
  std::fill(s.hu.begin(), s.hu.end(), 0.0f);
  float nll_sum = 0;
  for (int k = 0; k < n_targets; ++k) {
    const float label = k == 0 ? 1.0f : 0.0f;
    float* mut = target_rows[k];
    sample(d, mut, mut + d, eps[k + 1], zt);
    const float x = dot(zu, zt, d);
    float g, nll, h = 0;  // h = s(x)(1 - s(x)), 0 where the table saturates
    if (x > SigmoidTable::max_x) {
      g = label - 1;
      nll = label ? 0.0f : x;
    } else if (x < -SigmoidTable::max_x) {
      g = label;
      nll = label ? -x : 0.0f;
    } else {
      int i = sig.index(x);
      g = label - sig.sig[i];
      h = sig.sig[i] * (1 - sig.sig[i]);
      nll = label ? sig.nll[i] : sig.nll[i] + x;  // -log s(-x) = -log s(x) + x
    }
    nll_sum += nll;
    update_target(d, g * rho, h * gamma, zu, zt, s.gu.data(), s.hu.data(), mut, mut + d);
  }
  update_input(d, s.gu.data(), s.hu.data(), word_row, word_row + d);
  return nll_sum;
}

}  // namespace skipgram_detail

Model train_skipgram(const Corpus& corpus, const SkipGramOptions& o, SkipGramStats* stats_out,
                     const std::atomic<bool>* cancel) {
  check_options(o);
  const size_t V = corpus.vocab.words.size(), d = o.dim;
  const uint64_t N = corpus.tokens.size();
  if (V == 0 || N == 0) throw Error(ErrorKind::argument, "empty corpus: nothing to train on");
  if (V > UINT32_MAX) throw Error(ErrorKind::argument, "vocabulary too large");

  Xoshiro256Plus init_rng(o.seed ^ 0x5EEDu);
  // Parameters, float32 as word2vec.c: mu_u ~ U(-0.5/d, 0.5/d), mu_v = 0.
  // Row w of U (and V) is [mu (d) | precision 1/sigma^2 (d)]: one contiguous
  // 8d-byte read.
  const size_t row = 2 * d;
  std::vector<float> U(V * row), Vc(V * row);
  for (size_t w = 0; w < V; ++w)
    for (size_t j = 0; j < d; ++j) {
      U[w * row + j] = float((init_rng.uniform() - 0.5) / double(d));
      U[w * row + d + j] = Vc[w * row + d + j] = float(1 / (o.init_std * o.init_std));
    }

  const std::vector<float> gauss = gaussian_table(init_rng, d);
  const AliasTable negs = negative_sampler(corpus.vocab.counts);

  // Subsampling keep probabilities and expected kept occurrences n_w per epoch.
  std::vector<float> keep(V, 1.0f), kl_scale(V), prec_relax(V);
  for (size_t w = 0; w < V; ++w) {
    double c = double(corpus.vocab.counts[w]);
    if (o.sample > 0) {
      double t = o.sample * double(N);
      keep[w] = float(std::min(1.0, (std::sqrt(c / t) + 1) * t / c));
    }
    kl_scale[w] = float(1.0 / std::max(1e-3, c * keep[w]));
    prec_relax[w] = float(std::min(1.0, o.std_rate * kl_scale[w]));
  }

  const float lambda0 = float(1 / (o.prior_std * o.prior_std));
  const float gamma = float(o.std_rate);
  const int T = o.threads;
  const uint64_t total_work = uint64_t(o.epochs) * N;

  // Threads own contiguous runs of sentences with about N/T tokens each.
  const auto& ends = corpus.sentence_ends;
  std::vector<size_t> first_sentence(T + 1, ends.size());
  first_sentence[0] = 0;
  for (int t = 1; t < T; ++t)
    first_sentence[t] = size_t(std::upper_bound(ends.begin(), ends.end(), N * uint64_t(t) / uint64_t(T)) - ends.begin());

  std::atomic<uint64_t> processed{0}, pairs_total{0};
  std::atomic<bool> stop{false};
  std::vector<double> epoch_nll(T, 0), epoch_targets(T, 0);
  std::vector<std::atomic<double>> recent_nll(T);
  for (auto& r : recent_nll) r.store(0);
  const auto t0 = std::chrono::steady_clock::now();

  // Model from the current parameters: means and sigma = precision^-1/2.
  auto snapshot = [&] {
    Model m;
    auto make = [&](const char* name, const std::vector<float>& P) {
      Tensor t;
      t.name = name;
      t.shape = {V, d};
      t.float32 = true;
      t.mu.resize(V * d);
      t.sigma.resize(V * d);
      for (size_t w = 0; w < V; ++w)
        for (size_t j = 0; j < d; ++j) {
          t.mu[w * d + j] = double(P[w * row + j]);
          t.sigma[w * d + j] = 1 / std::sqrt(double(P[w * row + d + j]));
        }
      return t;
    };
    m.tensors.push_back(make("word", U));
    m.tensors.push_back(make("context", Vc));
    m.vocab = corpus.vocab.words;
    m.counts = corpus.vocab.counts;
    return m;
  };
  // At each epoch's end all threads wait while after_epoch sees the model.
  int epochs_done = 0;
  std::exception_ptr callback_error;
  auto on_epoch_end = [&]() noexcept {
    ++epochs_done;
    if (!o.after_epoch || stop.load()) return;
    double nll = 0, n = 0;
    for (int t = 0; t < T; ++t) nll += epoch_nll[t], n += epoch_targets[t];
    try {
      o.after_epoch(epochs_done, n > 0 ? nll / n : 0, snapshot());
    } catch (...) {
      callback_error = std::current_exception();
      stop.store(true);
    }
  };
  std::barrier epoch_end(T, on_epoch_end);

  auto worker = [&](int tid) {
    Xoshiro256Plus rng(o.seed * kGoldenGamma + uint64_t(tid) + 1);
    skipgram_detail::PairScratch scratch(d);
    std::vector<uint32_t> sen, targets(size_t(o.negatives) + 1);
    float rho = float(o.lr);
    uint64_t local = 0, local_pairs = 0;
    double nll_sum = 0, nll_n = 0;
    auto checkpoint = [&] {
      uint64_t done = processed.fetch_add(local) + local;
      pairs_total.fetch_add(local_pairs);
      local = local_pairs = 0;
      rho = float(o.lr * std::max(1e-4, 1.0 - double(done) / double(total_work + 1)));
      if (nll_n > 0) recent_nll[tid].store(nll_sum / nll_n, std::memory_order_relaxed);
      if (cancel && cancel->load(std::memory_order_relaxed)) stop.store(true);
      if (tid == 0 && o.on_progress) {
        SkipGramProgress p;
        p.tokens_done = done;
        p.tokens_total = total_work;
        p.epoch = int(std::min<uint64_t>(done / N, uint64_t(o.epochs - 1))) + 1;
        p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (auto& r : recent_nll) p.recent_nll_per_target += r.load(std::memory_order_relaxed) / T;
        o.on_progress(p);
      }
    };
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
      double e_nll = 0, e_n = 0;
      for (size_t s = first_sentence[tid]; s < first_sentence[tid + 1]; ++s) {
        if (stop.load(std::memory_order_relaxed)) break;
        size_t b = s ? ends[s - 1] : 0, e = ends[s];
        sen.clear();
        for (size_t i = b; i < e; ++i) {
          uint32_t w = corpus.tokens[i];
          if (keep[w] < 1.0f && float(rng.uniform()) >= keep[w]) continue;
          sen.push_back(w);
        }
        local += e - b;
        const int len = int(sen.size());
        for (int pos = 0; pos < len; ++pos) {
          const uint32_t w = sen[pos];
          float* muw = &U[size_t(w) * row];
          const auto [lo, hi] = context_window(rng, pos, len, o.window);
          for (int c = lo; c <= hi; ++c) {
            if (c == pos) continue;
            const uint32_t ctx = sen[c];
            // Draw the targets first and prefetch their rows: the random
            // rows, not the arithmetic, are the bottleneck.
            targets[0] = ctx;
            for (int k = 1; k <= o.negatives; ++k) {
              targets[k] = negs.draw(rng.next());
              const char* r = reinterpret_cast<const char*>(&Vc[size_t(targets[k]) * row]);
              for (size_t off = 0; off < row * sizeof(float); off += 64) __builtin_prefetch(r + off, 1);
            }
            const float* eps[max_targets + 1];
            float* rows[max_targets];
            int n = 0;
            eps[0] = &gauss[rng.next() >> (64 - gauss_bits)];
            for (int k = 0; k <= o.negatives; ++k) {
              if (k > 0 && targets[k] == ctx) continue;
              rows[n] = &Vc[size_t(targets[k]) * row];
              eps[++n] = &gauss[rng.next() >> (64 - gauss_bits)];
            }
            e_nll += skipgram_detail::pair_step(d, muw, rows, eps, n, rho, gamma, scratch);
            e_n += n;
            ++local_pairs;
          }
          const float c = rho * kl_scale[w], b = prec_relax[w];
          kl_step(d, c, b, lambda0, muw, muw + d, prec_hi);
          kl_step(d, c, b, lambda0, &Vc[size_t(w) * row], &Vc[size_t(w) * row + d], prec_hi);
        }
        nll_sum = e_nll;
        nll_n = e_n;
        if (local >= 10000) checkpoint();
      }
      epoch_nll[tid] = e_nll;
      epoch_targets[tid] = e_n;
      checkpoint();
      epoch_end.arrive_and_wait();  // every thread arrives every epoch, even when stopping
    }
  };

  if (T == 1) {
    worker(0);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < T; ++t) pool.emplace_back(worker, t);
    for (auto& th : pool) th.join();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (callback_error) std::rethrow_exception(callback_error);
  if (stop.load() || (cancel && cancel->load())) throw Error(ErrorKind::interrupted, "training interrupted");

  SkipGramStats st;
  st.tokens_seen = processed.load();
  st.pairs = pairs_total.load();
  st.seconds = secs;
  st.words_per_sec_per_thread = secs > 0 ? double(st.tokens_seen) / secs / T : 0;
  double nll = 0, n = 0;
  for (int t = 0; t < T; ++t) nll += epoch_nll[t], n += epoch_targets[t];
  st.mean_nll = n > 0 ? nll / n : 0;
  if (stats_out) *stats_out = st;

  Model m = snapshot();
  auto& a = m.attributes;
  a["trainer"] = "vbq train-embeddings: Bayesian skip-gram, negative sampling, mean-field Gaussian posterior";
  a["dim"] = std::to_string(d);
  a["window"] = std::to_string(o.window);
  a["negatives"] = std::to_string(o.negatives);
  a["epochs"] = std::to_string(o.epochs);
  a["threads"] = std::to_string(o.threads);
  a["seed"] = std::to_string(o.seed);
  a["prior_std"] = fmt(o.prior_std);
  a["init_std"] = fmt(o.init_std);
  a["lr"] = fmt(o.lr);
  a["std_rate"] = fmt(o.std_rate);
  a["sample"] = fmt(o.sample);
  a["train_tokens"] = std::to_string(N);
  a["tokens_seen"] = std::to_string(st.tokens_seen);
  a["positive_pairs"] = std::to_string(st.pairs);
  a["final_epoch_nll_per_target"] = fmt(st.mean_nll);
  return m;
}

Model train_embeddings(const std::vector<std::string>& paths, const CorpusOptions& co, const SkipGramOptions& o,
                       bool record_timing, const EmbeddingsHooks& hooks, SkipGramStats* stats) {
  check_options(o);
  const Corpus corpus = load_corpus(paths, co, hooks.cancel, hooks.on_read);
  if (hooks.on_loaded) hooks.on_loaded(corpus);
  SkipGramStats st;
  Model m = train_skipgram(corpus, o, &st, hooks.cancel);
  if (stats) *stats = st;
  auto& a = m.attributes;
  std::string files;
  for (auto& p : paths) {
    if (!files.empty()) files += ' ';
    files += p;
  }
  a["corpus_files"] = files;
  a["lowercase"] = std::to_string(int(co.lowercase));
  a["vocab_size_limit"] = std::to_string(co.vocab_size);
  a["min_count"] = std::to_string(co.min_count);
  a["tokenizer"] = "[A-Za-z0-9]+([-'][A-Za-z0-9]+)*";
  a["corpus_tokens"] = std::to_string(corpus.raw_tokens);
  a["corpus_distinct_words"] = std::to_string(corpus.distinct_words);
  if (record_timing) {
    a["training_seconds"] = fmt(st.seconds);
    a["words_per_sec_per_thread"] = fmt(st.words_per_sec_per_thread);
  }
  return m;
}

namespace {
// -log s(y x) for label y = +-1, exactly: softplus(-y x).
double pair_nll(double x, bool positive) {
  const double a = positive ? -x : x;  // softplus(a) = log(1 + e^a)
  return a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a));
}
}  // namespace

SkipGramElbo skipgram_elbo(const Corpus& corpus, const Model& model, const SkipGramElboOptions& o) {
  auto bad = [](const std::string& m) { throw Error(ErrorKind::argument, m); };
  if (o.window < 1 || o.negatives < 0 || o.negatives >= max_targets || o.samples < 1 || o.threads < 1)
    bad("elbo: window, samples and threads must be >= 1 and negatives in [0, " + std::to_string(max_targets - 1) + "]");
  if (!(o.prior_std > 0) || !std::isfinite(o.prior_std)) bad("elbo: prior std must be > 0");
  const Tensor* word = model.find("word");
  const Tensor* context = model.find("context");
  const size_t V = corpus.vocab.words.size();
  if (!word || !context) bad("elbo: the model needs tensors 'word' and 'context' (vbq train-embeddings writes them)");
  if (word->shape.size() != 2 || word->shape != context->shape || word->shape[0] != V)
    bad("elbo: 'word' and 'context' must both be [" + std::to_string(V) + ", d] for the vocabulary's " +
        std::to_string(V) + " words");
  const size_t d = word->shape[1];
  const std::vector<uint64_t>& ends = corpus.sentence_ends;
  // Sentences whose tokens start within the first max_tokens.
  size_t sentences = 0;
  while (sentences < ends.size() && (sentences == 0 ? 0 : ends[sentences - 1]) < o.max_tokens) ++sentences;

  Xoshiro256Plus table_rng(o.seed ^ 0x5EEDu);
  const std::vector<float> gauss = gaussian_table(table_rng, d);
  const AliasTable negs = negative_sampler(corpus.vocab.counts);
  struct Sums {
    double nll_means = 0, nll_q = 0;
    uint64_t centers = 0, targets = 0;
  };
  std::vector<Sums> per_sentence(sentences);
#pragma omp parallel num_threads(o.threads)
  {
    std::vector<double> zu(d), zt(d);
    std::vector<uint32_t> targets(size_t(o.negatives) + 1);
    auto sample = [&](const Tensor& t, uint32_t w, uint64_t bits, std::vector<double>& z) {
      const float* eps = &gauss[bits >> (64 - gauss_bits)];
      for (size_t j = 0; j < d; ++j) z[j] = t.mu[w * d + j] + t.sigma[w * d + j] * double(eps[j]);
    };
    auto mean_dot = [&](uint32_t u, uint32_t v) {
      double x = 0;
      for (size_t j = 0; j < d; ++j) x += word->mu[u * d + j] * context->mu[v * d + j];
      return x;
    };
#pragma omp for schedule(dynamic, 64)
    for (int64_t si = 0; si < int64_t(sentences); ++si) {
      // per sentence: the same draws for any thread count
      Xoshiro256Plus rng(splitmix64(o.seed + uint64_t(si) * kGoldenGamma));
      Sums& sum = per_sentence[size_t(si)];
      const size_t b = si ? ends[size_t(si) - 1] : 0;
      const int len = int(ends[size_t(si)] - b);
      for (int pos = 0; pos < len; ++pos) {
        const uint32_t w = corpus.tokens[b + size_t(pos)];
        const auto [lo, hi] = context_window(rng, pos, len, o.window);
        ++sum.centers;
        for (int c = lo; c <= hi; ++c) {
          if (c == pos) continue;
          const uint32_t ctx = corpus.tokens[b + size_t(c)];
          int n = 0;
          for (int k = 0; k <= o.negatives; ++k) {
            const uint32_t t = k == 0 ? ctx : negs.draw(rng.next());
            if (k > 0 && t == ctx) continue;  // as in training
            targets[size_t(n++)] = t;
          }
          for (int k = 0; k < n; ++k) sum.nll_means += pair_nll(mean_dot(w, targets[size_t(k)]), k == 0);
          double q = 0;
          for (int s = 0; s < o.samples; ++s) {
            sample(*word, w, rng.next(), zu);
            for (int k = 0; k < n; ++k) {
              sample(*context, targets[size_t(k)], rng.next(), zt);
              double x = 0;
              for (size_t j = 0; j < d; ++j) x += zu[j] * zt[j];
              q += pair_nll(x, k == 0);
            }
          }
          sum.nll_q += q / o.samples;
          sum.targets += uint64_t(n);
        }
      }
    }
  }
  SkipGramElbo e;
  double nll_means = 0, nll_q = 0;
  for (const Sums& s : per_sentence)  // in sentence order: the same sums for any thread count
    nll_means += s.nll_means, nll_q += s.nll_q, e.centers += s.centers, e.targets += s.targets;
  if (e.targets == 0) bad("elbo: no (word, context) pair in the first " + std::to_string(o.max_tokens) + " tokens");
  e.nll_at_means = nll_means / double(e.targets);
  e.expected_nll = nll_q / double(e.targets);
  e.kl_per_coordinate = mean_kl_to_prior(model, o.prior_std);
  const double data_tokens = double(o.data_tokens ? o.data_tokens : corpus.tokens.size());
  e.targets_per_epoch = double(e.targets) / double(e.centers) * data_tokens;
  e.kl_per_target = e.kl_per_coordinate * 2.0 * double(V * d) / e.targets_per_epoch;
  e.neg_elbo_per_target = e.expected_nll + e.kl_per_target;
  return e;
}

double mean_kl_to_prior(const Model& m, double prior_std) {
  const double var0 = prior_std * prior_std;
  double kl = 0;
  size_t n = 0;
  for (const Tensor& t : m.tensors)
    for (size_t i = 0; i < t.mu.size(); ++i, ++n) {
      const double ratio = t.sigma[i] * t.sigma[i] / var0;
      kl += 0.5 * (ratio + t.mu[i] * t.mu[i] / var0 - 1 - std::log(ratio));
    }
  return n ? kl / double(n) : 0;
}

}  // namespace vbq
