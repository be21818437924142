// The ELBO of a trained Bayesian skip-gram model on text (skipgram_elbo), with
// the trainer's pairs and fixed randomness, deterministic for any thread count;
// and the diagonal Laplace precision over the same pairs (skipgram_laplace_precision).
#include <cmath>
#include <string>

#include "train/skipgram.hpp"
#include "train/skipgram_kernels.hpp"
#include "vbq/error.hpp"
#include "vbq/random.hpp"

namespace vbq {

using namespace skipgram_detail;

namespace {
// -log s(y x) for label y = +-1, exactly: softplus(-y x).
double pair_nll(double x, bool positive) {
  const double a = positive ? -x : x;  // softplus(a) = log(1 + e^a)
  return a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a));
}
}  // namespace

namespace {

struct ElboSums {
  double nll_means = 0, nll_q = 0;
  uint64_t centers = 0, targets = 0;
};

// Sums of the likelihood's curvature h t_j^2 per coordinate, in fixed point
// (kCurvatureUnit per unit): integer sums do not depend on the order of their
// terms, so per-thread sums added up give the same bits for any thread count.
constexpr double kCurvatureUnit = 0x1p32;
struct CurvatureSums {
  std::vector<uint64_t> word, context;
  void add(const CurvatureSums& other) {
    for (size_t i = 0; i < word.size(); ++i) word[i] += other.word[i];
    for (size_t i = 0; i < context.size(); ++i) context[i] += other.context[i];
  }
};
uint64_t curvature_units(double value) { return uint64_t(value * kCurvatureUnit + 0.5); }

// The (word, context) pairs of the first max_tokens tokens with their negatives,
// summed per sentence and then in sentence order, so any thread count gives the
// same bits. With with_q false the Monte Carlo terms are skipped but their random
// draws still consumed: the pairs and negatives stay those of the full ELBO. With
// curvature, each target also adds -d2/dtheta2 log p = h t_j^2 at the means to it.
ElboSums elbo_sums(const Corpus& corpus, const Tensor& word, const Tensor& context, const SkipGramElboOptions& o,
                   bool with_q, CurvatureSums* curvature = nullptr) {
  auto bad = [](const std::string& m) { throw Error(ErrorKind::argument, m); };
  if (o.window < 1 || o.negatives < 0 || o.negatives >= kMaxTargets || o.samples < 1 || o.threads < 1)
    bad("elbo: window, samples and threads must be >= 1 and negatives in [0, " + std::to_string(kMaxTargets - 1) + "]");
  if (!(o.prior_std > 0) || !std::isfinite(o.prior_std)) bad("elbo: prior std must be > 0");
  const size_t V = corpus.vocab.words.size();
  if (word.shape.size() != 2 || word.shape != context.shape || word.shape[0] != V)
    bad("elbo: 'word' and 'context' must both be [" + std::to_string(V) + ", d] for the vocabulary's " +
        std::to_string(V) + " words");
  const size_t d = word.shape[1];
  if (with_q && (word.sigma.size() != word.mu.size() || context.sigma.size() != context.mu.size()))
    bad("elbo: 'word' and 'context' need posterior stds for E_q");
  const std::vector<uint64_t>& ends = corpus.sentence_ends;
  // Sentences whose tokens start within the first max_tokens.
  size_t sentences = 0;
  while (sentences < ends.size() && (sentences == 0 ? 0 : ends[sentences - 1]) < o.max_tokens) ++sentences;

  Xoshiro256Plus table_rng(o.seed ^ 0x5EEDu);
  const std::vector<float> gauss = gaussian_table(table_rng, d);
  const AliasTable negs = negative_sampler(corpus.vocab.counts);
  std::vector<ElboSums> per_sentence(sentences);
#pragma omp parallel num_threads(o.threads)
  {
    std::vector<double> zu(d), zt(d);
    std::vector<uint32_t> targets(size_t(o.negatives) + 1);
    CurvatureSums local;  // this thread's share of *curvature
    if (curvature) local = {std::vector<uint64_t>(word.mu.size(), 0), std::vector<uint64_t>(context.mu.size(), 0)};
    auto sample = [&](const Tensor& t, uint32_t w, uint64_t bits, std::vector<double>& z) {
      const float* eps = &gauss[bits >> (64 - kGaussBits)];
      for (size_t j = 0; j < d; ++j) z[j] = t.mu[w * d + j] + t.sigma[w * d + j] * double(eps[j]);
    };
    // Eight independent partial sums in a fixed order: the same bits on every
    // machine, and not one chain of d dependent additions (the held-out nll of a
    // sweep runs this for every target of 10^6 tokens at every point).
    auto mean_dot = [&](uint32_t u, uint32_t v) {
      const double* a = &word.mu[size_t(u) * d];
      const double* b = &context.mu[size_t(v) * d];
      double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      size_t j = 0;
      for (; j + 8 <= d; j += 8)
        for (size_t k = 0; k < 8; ++k) lane[k] += a[j + k] * b[j + k];
      double x = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
      for (; j < d; ++j) x += a[j] * b[j];
      return x;
    };
#pragma omp for schedule(dynamic, 64)
    for (int64_t si = 0; si < int64_t(sentences); ++si) {
      // per sentence: the same draws for any thread count
      Xoshiro256Plus rng(splitmix64(o.seed + uint64_t(si) * kGoldenGamma));
      ElboSums& sum = per_sentence[size_t(si)];
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
          for (int k = 0; k < n; ++k) {
            const double x = mean_dot(w, targets[size_t(k)]);
            sum.nll_means += pair_nll(x, k == 0);
            if (curvature) {
              const double s = 1 / (1 + std::exp(-x)), h = s * (1 - s);
              const size_t u = size_t(w) * d, v = size_t(targets[size_t(k)]) * d;
              for (size_t j = 0; j < d; ++j) {
                local.word[u + j] += curvature_units(h * context.mu[v + j] * context.mu[v + j]);
                local.context[v + j] += curvature_units(h * word.mu[u + j] * word.mu[u + j]);
              }
            }
          }
          double q = 0;
          for (int s = 0; s < o.samples; ++s) {
            const uint64_t word_bits = rng.next();
            if (with_q) sample(word, w, word_bits, zu);
            for (int k = 0; k < n; ++k) {
              const uint64_t context_bits = rng.next();
              if (!with_q) continue;
              sample(context, targets[size_t(k)], context_bits, zt);
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
    if (curvature) {
#pragma omp critical(vbq_curvature_sums)
      curvature->add(local);
    }
  }
  ElboSums total;
  for (const ElboSums& s : per_sentence)  // in sentence order: the same sums for any thread count
    total.nll_means += s.nll_means, total.nll_q += s.nll_q, total.centers += s.centers, total.targets += s.targets;
  if (total.targets == 0) bad("elbo: no (word, context) pair in the first " + std::to_string(o.max_tokens) + " tokens");
  return total;
}

}  // namespace

SkipGramElbo skipgram_elbo(const Corpus& corpus, const Model& model, const SkipGramElboOptions& o) {
  const Tensor* word = model.find("word");
  const Tensor* context = model.find("context");
  if (!word || !context)
    throw Error(ErrorKind::argument, "elbo: the model needs tensors 'word' and 'context' (vbq train-embeddings writes them)");
  const ElboSums sums = elbo_sums(corpus, *word, *context, o, true);
  SkipGramElbo e;
  e.centers = sums.centers, e.targets = sums.targets;
  e.nll_at_means = sums.nll_means / double(e.targets);
  e.expected_nll = sums.nll_q / double(e.targets);
  const size_t V = corpus.vocab.words.size(), d = word->shape[1];
  e.kl_per_coordinate = mean_kl_to_prior(model, o.prior_std);
  const double data_tokens = double(o.data_tokens ? o.data_tokens : corpus.tokens.size());
  e.targets_per_epoch = double(e.targets) / double(e.centers) * data_tokens;
  e.kl_per_target = e.kl_per_coordinate * 2.0 * double(V * d) / e.targets_per_epoch;
  e.neg_elbo_per_target = e.expected_nll + e.kl_per_target;
  return e;
}

double skipgram_nll_at_means(const Corpus& corpus, const Tensor& word, const Tensor& context,
                             const SkipGramElboOptions& o) {
  const ElboSums sums = elbo_sums(corpus, word, context, o, false);
  return sums.nll_means / double(sums.targets);
}

LaplacePrecision skipgram_laplace_precision(const Corpus& corpus, const Model& model, const SkipGramElboOptions& o) {
  const Tensor* word = model.find("word");
  const Tensor* context = model.find("context");
  if (!word || !context)
    throw Error(ErrorKind::argument, "laplace: the model needs tensors 'word' and 'context' (vbq train-embeddings writes them)");
  CurvatureSums sums{std::vector<uint64_t>(word->mu.size(), 0), std::vector<uint64_t>(context->mu.size(), 0)};
  const ElboSums pairs = elbo_sums(corpus, *word, *context, o, false, &sums);
  LaplacePrecision p;
  p.centers = pairs.centers;
  p.data_scale = o.data_tokens ? double(o.data_tokens) / double(pairs.centers) : 1.0;
  const double prior_precision = 1 / (o.prior_std * o.prior_std);
  auto precision = [&](const std::vector<uint64_t>& h) {
    std::vector<double> tau(h.size());
    for (size_t i = 0; i < h.size(); ++i) tau[i] = prior_precision + p.data_scale * (double(h[i]) / kCurvatureUnit);
    return tau;
  };
  p.word = precision(sums.word), p.context = precision(sums.context);
  return p;
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
