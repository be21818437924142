// Bayesian skip-gram (Barkan 2017; black-box VI as in Bamler & Mandt 2017): the
// word embeddings the VBQ paper compresses in Section 4.1.
//
// Model. Word vectors u_w and context vectors v_w in R^d (w < V), prior
// p(u_wj) = p(v_wj) = N(0, prior_std^2). The data are word2vec's skip-gram pairs:
// for each center token w and each context token c inside a window of random
// size b ~ U{1..window} (same line only), one positive pair (w, c) and
// `negatives` pairs (w, n) with n drawn from unigram^0.75 (n == c skipped):
//   log p(D | U, V) = sum_pairs [ log s(u_w . v_c) + sum_n log s(-u_w . v_n) ],
// s = logistic sigmoid. Optional word2vec subsampling (--sample t) drops each
// occurrence of w with probability 1 - min(1, (sqrt(f/t) + 1) t/f), f = count/N.
//
// Posterior. Mean field q = prod N(mu, sigma^2), sigma = exp(log_std), for every
// coordinate of U ("word") and V ("context"). We maximise the ELBO
//   L = E_q[log p(D | U, V)] - sum_w KL(q(u_w) || p) - sum_w KL(q(v_w) || p)
// with SGD steps on the means and natural-gradient steps on the precisions
// 1/sigma^2 (which relax to the ELBO's stationary point 1/prior_std^2 +
// expected likelihood curvature); one pass over the corpus = one pass over the
// whole objective. See skipgram.cpp for the exact update rules.
//
// Measured (enwiki-part00, 15.5M tokens, lowercased, V=30000, d=100, 1 epoch,
// 2 threads, defaults): analogy Hits@10 of the means 0.343-0.351 over three
// Hogwild runs (word2vec.c on the same tokens 0.346); median sigma of the 1000
// most frequent words 0.042, of the 1000 rarest 0.237; ~72k words/s/thread
// (word2vec.c ~41k per CPU second).
//
// Output tensors (hdf5_model.hpp "default" convention): "word" and "context",
// shape [V, d], mean + sigma, float32; vocab and counts from the corpus.
//
// Code: skipgram_kernels.cpp (the update rules and their derivation),
// skipgram.cpp (the training loop), skipgram_elbo.cpp (the ELBO evaluator),
// attributes.hpp (the settings as model attributes).
//
// Determinism: with threads == 1 and a fixed seed the result is bit-identical
// across runs. With more threads updates race (Hogwild, like word2vec.c).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "train/corpus.hpp"

namespace vbq {

struct SkipGramProgress {
  uint64_t tokens_done = 0, tokens_total = 0;  // center tokens over all epochs and threads
  int epoch = 1;                               // 1-based
  double seconds = 0;                          // since training started
  double recent_nll_per_target = 0;            // mean over the threads' latest sentences
};

struct SkipGramOptions {
  size_t dim = 100;
  int window = 5;           // max distance of a context word
  int negatives = 5;        // negative samples per positive pair
  int epochs = 5;
  int threads = 1;
  uint64_t seed = 1;
  double prior_std = 1.0;   // std of the Gaussian prior on every coordinate
  // Initial posterior std. Small, so that early training is nearly word2vec
  // (sampling noise does not drown the still tiny means); the precision update
  // then widens what the data do not pin down (sigma -> prior_std) and narrows
  // frequent words (sigma ~ count^-1/2) at rate std_rate per epoch. Part00,
  // 1 epoch: init 0.5 gave Hits@10 0.303, init 0.1 0.343-0.351.
  double init_std = 0.1;
  double lr = 0.025;        // initial SGD step, decays linearly to lr * 1e-4
  // Step gamma of the natural-gradient precision update (skipgram.cpp): each
  // word's precision forgets its past at rate e^-gamma per epoch.
  // Measured on part00, 1 epoch: 1 / 2 / 4 gave Hits@10 0.346 / 0.343-0.351 /
  // 0.344 and rare-word sigma 0.16 / 0.24 / 0.38 (the init is forgotten at
  // e^-gamma per epoch); on a 3.4M-token subset 5 cost a quarter of Hits@10.
  double std_rate = 2.0;
  double sample = 0;        // word2vec subsampling threshold t (0 = off)
  // Called from one thread every ~10k tokens per thread and at each epoch's end.
  std::function<void(const SkipGramProgress& progress)> on_progress;
  // Called at the end of every epoch (1-based) with the epoch's mean
  // -log-likelihood per target and the model so far, while training waits.
  std::function<void(int epoch, double nll_per_target, const Model& model)> after_epoch;
};

struct SkipGramStats {
  uint64_t tokens_seen = 0;        // center tokens processed (all epochs, incl. subsampled)
  uint64_t pairs = 0;              // positive pairs trained
  double seconds = 0;              // wall time of the SGD loop
  double words_per_sec_per_thread = 0;
  double mean_nll = 0;             // -log-likelihood per target (positive or negative), last epoch
};

// Trains on a loaded corpus. Throws ErrorKind::argument for invalid options
// (dim, window, negatives, epochs, threads < 1, prior_std/init_std/lr <= 0,
// sample < 0, empty corpus) and ErrorKind::interrupted if *cancel becomes true.
// The returned model holds tensors word and context, vocab, counts and the
// training settings as attributes.
Model train_skipgram(const Corpus& corpus, const SkipGramOptions& options, SkipGramStats* stats = nullptr,
                     const std::atomic<bool>* cancel = nullptr);

// The ELBO of a trained model, per target, on a corpus read with the model's
// vocabulary, with fixed randomness (learning curves of snapshots; `vbq elbo`).
// The pairs are the trainer's: windows of random size, `negatives` draws from
// unigram^0.75 of the vocabulary's counts. Deterministic for any thread count.
struct SkipGramElboOptions {
  int window = 5, negatives = 5;
  double prior_std = 1.0;
  uint64_t max_tokens = 1000000;  // evaluate the sentences starting within the first N tokens
  int samples = 4;                // draws of (u, v) from q per pair for E_q
  uint64_t seed = 1;
  uint64_t data_tokens = 0;       // tokens of the data the ELBO is over (scales KL); 0 = the corpus'
  int threads = 1;
};
struct SkipGramElbo {
  uint64_t centers = 0, targets = 0;  // evaluated
  double nll_at_means = 0;        // -log p(label | u, v) per target at the posterior means
  double expected_nll = 0;        // E_q[-log p(label | u, v)] per target (Monte Carlo)
  double kl_per_coordinate = 0;   // mean over all coordinates of KL(q || N(0, prior_std^2))
  double targets_per_epoch = 0;   // targets / centers evaluated x data tokens
  double kl_per_target = 0;       // KL summed over all coordinates / targets_per_epoch
  double neg_elbo_per_target = 0; // expected_nll + kl_per_target: -ELBO / targets per epoch
};
// Throws ErrorKind::argument if the model lacks [V, d] tensors "word" and
// "context" for the corpus' V words, or no pair is found.
SkipGramElbo skipgram_elbo(const Corpus& corpus, const Model& model, const SkipGramElboOptions& options);

// SkipGramElbo::nll_at_means alone, bit for bit the same for the same corpus and
// options, with the two tensors given separately (only their means are read) and
// without the Monte Carlo part: the held-out nll of compressed means
// (train/heldout_nll.hpp). Throws as skipgram_elbo.
double skipgram_nll_at_means(const Corpus& corpus, const Tensor& word, const Tensor& context,
                             const SkipGramElboOptions& options);

// The diagonal Laplace precision of the means: 1/prior_std^2 plus the likelihood's
// curvature -d2/dtheta_j2 log p(D | U, V) = sum over the evaluator's pairs of
// h t_j^2, h = s(x)(1 - s(x)), at the means (the stationary point the trainer's
// precision update relaxes to, there with E_q and moving means). The data term
// is scaled by data_tokens / centers evaluated when data_tokens is set, to stand
// for the whole training text. Deterministic for any thread count. Throws as
// skipgram_elbo.
struct LaplacePrecision {
  std::vector<double> word, context;  // per coordinate, as the tensors' means
  uint64_t centers = 0;               // center tokens evaluated
  double data_scale = 1;              // factor applied to the data term
};
LaplacePrecision skipgram_laplace_precision(const Corpus& corpus, const Model& model, const SkipGramElboOptions& options);

// KL(q || p) per coordinate, averaged over every tensor of m: q = N(mu, sigma^2)
// per coordinate, p = N(0, prior_std^2). The ELBO's prior term, for learning curves.
double mean_kl_to_prior(const Model& m, double prior_std);

// What train_embeddings reports and obeys besides its options.
struct EmbeddingsHooks {
  const std::atomic<bool>* cancel = nullptr;  // reading and training stop with ErrorKind::interrupted
  std::function<void(uint64_t bytes, uint64_t tokens)> on_read;  // while reading the corpus
  std::function<void(const Corpus& corpus)> on_loaded;           // once it is read
};

// Loads the corpus files and trains. Adds corpus attributes (files, lowercase,
// vocab_size, min_count, raw tokens) and, if record_timing, seconds and words/s
// per thread (which make the output differ from run to run).
Model train_embeddings(const std::vector<std::string>& corpus_paths, const CorpusOptions& corpus_options,
                       const SkipGramOptions& options, bool record_timing = true, const EmbeddingsHooks& hooks = {},
                       SkipGramStats* stats = nullptr);

}  // namespace vbq
