// The training loop of the Bayesian skip-gram (the update rules are in
// skipgram_kernels.cpp): Hogwild threads over contiguous runs of sentences,
// word2vec's windows, negative sampling and subsampling, and a learning rate
// rho_t = lr * max(1e-4, 1 - processed / (epochs * N)) as in word2vec.c,
// processed counted over all threads.
#include "train/skipgram.hpp"

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <exception>
#include <thread>

#include "train/skipgram_attributes.hpp"
#include "train/skipgram_kernels.hpp"
#include "vbq/error.hpp"
#include "vbq/random.hpp"

namespace vbq {

namespace {
using namespace skipgram_detail;

void check_options(const SkipGramOptions& o) {
  auto bad = [](const std::string& m) { throw Error(ErrorKind::argument, m); };
  if (o.dim < 1) bad("--dim must be >= 1");
  if (o.window < 1) bad("--window must be >= 1");
  if (o.negatives < 0 || o.negatives >= kMaxTargets) bad("--negatives must be in [0, " + std::to_string(kMaxTargets - 1) + "]");
  if (o.epochs < 1) bad("--epochs must be >= 1");
  if (o.threads < 1) bad("--threads must be >= 1");
  if (!(o.prior_std > 0) || !(o.prior_std <= 1e6)) bad("--prior-std must be in (0, 1e6]");
  if (!(o.init_std > 0) || !std::isfinite(o.init_std)) bad("--init-std must be > 0");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) bad("--lr must be > 0");
  if (!(o.std_rate > 0) || !std::isfinite(o.std_rate)) bad("--std-rate must be > 0");
  if (!(o.sample >= 0)) bad("--sample must be >= 0");
}

// Row w of the word (U) and the context (V) matrix: [mu (d) | precision
// 1/sigma^2 (d)], one contiguous 8d-byte read.
struct Parameters {
  size_t d = 0, row = 0;
  std::vector<float> word, context;
  float* word_row(uint32_t w) { return &word[size_t(w) * row]; }
  float* context_row(uint32_t w) { return &context[size_t(w) * row]; }
};

// float32 as word2vec.c: mu_u ~ U(-0.5/d, 0.5/d), mu_v = 0; precisions 1/init_std^2.
Parameters init_parameters(size_t V, size_t d, double init_std, Xoshiro256Plus& rng) {
  Parameters p;
  p.d = d;
  p.row = 2 * d;
  p.word.resize(V * p.row);
  p.context.resize(V * p.row);
  for (size_t w = 0; w < V; ++w)
    for (size_t j = 0; j < d; ++j) {
      p.word[w * p.row + j] = float((rng.uniform() - 0.5) / double(d));
      p.word[w * p.row + d + j] = p.context[w * p.row + d + j] = float(1 / (init_std * init_std));
    }
  return p;
}

// The model of the current parameters: means and sigma = precision^-1/2.
Model to_model(const Parameters& p, const Vocabulary& vocab) {
  const size_t V = vocab.words.size(), d = p.d;
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
        t.mu[w * d + j] = double(P[w * p.row + j]);
        t.sigma[w * d + j] = 1 / std::sqrt(double(P[w * p.row + d + j]));
      }
    return t;
  };
  m.tensors.push_back(make("word", p.word));
  m.tensors.push_back(make("context", p.context));
  m.vocab = vocab.words;
  m.counts = vocab.counts;
  return m;
}

// Per word: the subsampling keep probability, and the prior step's factors 1/n_w
// (means) and min(1, gamma / n_w) (precisions), n_w = count * keep = expected
// kept occurrences per epoch.
struct WordSteps {
  std::vector<float> keep, mean_scale, precision_relax;
};
WordSteps word_steps(const std::vector<uint64_t>& counts, uint64_t N, const SkipGramOptions& o) {
  const size_t V = counts.size();
  WordSteps s{std::vector<float>(V, 1.0f), std::vector<float>(V), std::vector<float>(V)};
  for (size_t w = 0; w < V; ++w) {
    double c = double(counts[w]);
    if (o.sample > 0) {
      double t = o.sample * double(N);
      s.keep[w] = float(std::min(1.0, (std::sqrt(c / t) + 1) * t / c));
    }
    s.mean_scale[w] = float(1.0 / std::max(1e-3, c * s.keep[w]));
    s.precision_relax[w] = float(std::min(1.0, o.std_rate * s.mean_scale[w]));
  }
  return s;
}

// Thread t owns sentences [first[t], first[t + 1]): contiguous runs of about N/T tokens.
std::vector<size_t> partition_sentences(const std::vector<uint64_t>& ends, uint64_t N, int T) {
  std::vector<size_t> first(size_t(T) + 1, ends.size());
  first[0] = 0;
  for (int t = 1; t < T; ++t)
    first[size_t(t)] = size_t(std::upper_bound(ends.begin(), ends.end(), N * uint64_t(t) / uint64_t(T)) - ends.begin());
  return first;
}

// One training run: the state the Hogwild workers share.
class Training {
 public:
  Training(const Corpus& corpus, const SkipGramOptions& o, const std::atomic<bool>* cancel)
      : corpus_(corpus), o_(o), cancel_(cancel), N_(corpus.tokens.size()), T_(o.threads),
        total_work_(uint64_t(o.epochs) * N_), negatives_(negative_sampler(corpus.vocab.counts)),
        steps_(word_steps(corpus.vocab.counts, N_, o)), first_sentence_(partition_sentences(corpus.sentence_ends, N_, T_)),
        prior_precision_(float(1 / (o.prior_std * o.prior_std))), gamma_(float(o.std_rate)),
        epoch_nll_(size_t(T_), 0), epoch_targets_(size_t(T_), 0), recent_nll_(size_t(T_)) {
    Xoshiro256Plus init_rng(o.seed ^ 0x5EEDu);
    params_ = init_parameters(corpus.vocab.words.size(), o.dim, o.init_std, init_rng);
    gauss_ = gaussian_table(init_rng, o.dim);
    for (auto& r : recent_nll_) r.store(0);
  }

  // All epochs on o.threads threads; throws what after_epoch threw, or
  // ErrorKind::interrupted if cancelled.
  SkipGramStats run() {
    t0_ = std::chrono::steady_clock::now();
    std::barrier epoch_end(T_, EpochEnd{this});
    if (T_ == 1) {
      work(0, epoch_end);
    } else {
      std::vector<std::thread> pool;
      for (int t = 0; t < T_; ++t) pool.emplace_back([&, t] { work(t, epoch_end); });
      for (auto& th : pool) th.join();
    }
    const double secs = seconds();
    if (callback_error_) std::rethrow_exception(callback_error_);
    if (stop_.load() || (cancel_ && cancel_->load())) throw Error(ErrorKind::interrupted, "training interrupted");
    SkipGramStats st;
    st.tokens_seen = processed_.load();
    st.pairs = pairs_total_.load();
    st.seconds = secs;
    st.words_per_sec_per_thread = secs > 0 ? double(st.tokens_seen) / secs / T_ : 0;
    st.mean_nll = epoch_mean_nll();
    return st;
  }

  Model model() const { return to_model(params_, corpus_.vocab); }

 private:
  // A worker's own state: its generator, scratch rows and running counts.
  struct Worker {
    int tid;
    Xoshiro256Plus rng;
    PairScratch scratch;
    std::vector<uint32_t> sentence, targets;
    float rho;
    uint64_t tokens = 0, pairs = 0;  // since the last checkpoint
    double nll = 0, targets_seen = 0;  // this epoch so far
  };

  // At each epoch's end all threads wait while after_epoch sees the model.
  struct EpochEnd {
    Training* t;
    void operator()() noexcept { t->end_epoch(); }
  };

  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }

  double epoch_mean_nll() const {
    double nll = 0, n = 0;
    for (int t = 0; t < T_; ++t) nll += epoch_nll_[size_t(t)], n += epoch_targets_[size_t(t)];
    return n > 0 ? nll / n : 0;
  }

  void work(int tid, std::barrier<EpochEnd>& epoch_end) {
    Worker w{tid, Xoshiro256Plus(o_.seed * kGoldenGamma + uint64_t(tid) + 1), PairScratch(o_.dim), {},
             std::vector<uint32_t>(size_t(o_.negatives) + 1), float(o_.lr)};
    for (int epoch = 0; epoch < o_.epochs; ++epoch) {
      w.nll = w.targets_seen = 0;
      for (size_t s = first_sentence_[size_t(tid)]; s < first_sentence_[size_t(tid) + 1]; ++s) {
        if (stop_.load(std::memory_order_relaxed)) break;
        train_sentence(w, s);
        if (w.tokens >= 10000) checkpoint(w);
      }
      epoch_nll_[size_t(tid)] = w.nll;
      epoch_targets_[size_t(tid)] = w.targets_seen;
      checkpoint(w);
      epoch_end.arrive_and_wait();  // every thread arrives every epoch, even when stopping
    }
  }

  // Subsamples sentence s, then trains every (center, context) pair of its windows.
  void train_sentence(Worker& w, size_t s) {
    const auto& ends = corpus_.sentence_ends;
    const size_t b = s ? ends[s - 1] : 0, e = ends[s];
    w.sentence.clear();
    for (size_t i = b; i < e; ++i) {
      uint32_t word = corpus_.tokens[i];
      if (steps_.keep[word] < 1.0f && float(w.rng.uniform()) >= steps_.keep[word]) continue;
      w.sentence.push_back(word);
    }
    w.tokens += e - b;
    const int len = int(w.sentence.size());
    for (int pos = 0; pos < len; ++pos) {
      const uint32_t center = w.sentence[size_t(pos)];
      float* center_row = params_.word_row(center);
      const auto [lo, hi] = context_window(w.rng, pos, len, o_.window);
      for (int c = lo; c <= hi; ++c)
        if (c != pos) train_pair(w, center_row, w.sentence[size_t(c)]);
      const float mean_step = w.rho * steps_.mean_scale[center], relax = steps_.precision_relax[center];
      prior_step(params_.d, mean_step, relax, prior_precision_, center_row, center_row + params_.d);
      float* context_row = params_.context_row(center);
      prior_step(params_.d, mean_step, relax, prior_precision_, context_row, context_row + params_.d);
    }
  }

  // One positive pair (center, ctx) and its negatives.
  void train_pair(Worker& w, float* center_row, uint32_t ctx) {
    // Draw the targets first and prefetch their rows: the random rows, not the
    // arithmetic, are the bottleneck.
    const size_t row_bytes = params_.row * sizeof(float);
    w.targets[0] = ctx;
    for (int k = 1; k <= o_.negatives; ++k) {
      w.targets[size_t(k)] = negatives_.draw(w.rng.next());
      const char* r = reinterpret_cast<const char*>(params_.context_row(w.targets[size_t(k)]));
      for (size_t off = 0; off < row_bytes; off += 64) __builtin_prefetch(r + off, 1);
    }
    const float* eps[kMaxTargets + 1];
    float* rows[kMaxTargets];
    int n = 0;
    eps[0] = &gauss_[w.rng.next() >> (64 - kGaussBits)];
    for (int k = 0; k <= o_.negatives; ++k) {
      if (k > 0 && w.targets[size_t(k)] == ctx) continue;
      rows[n] = params_.context_row(w.targets[size_t(k)]);
      eps[++n] = &gauss_[w.rng.next() >> (64 - kGaussBits)];
    }
    w.nll += pair_step(params_.d, center_row, rows, eps, n, w.rho, gamma_, w.scratch);
    w.targets_seen += n;
    ++w.pairs;
  }

  // Publishes the worker's counts, updates its learning rate, polls the
  // cancellation token and (thread 0) reports progress.
  void checkpoint(Worker& w) {
    const uint64_t done = processed_.fetch_add(w.tokens) + w.tokens;
    pairs_total_.fetch_add(w.pairs);
    w.tokens = w.pairs = 0;
    w.rho = float(o_.lr * std::max(1e-4, 1.0 - double(done) / double(total_work_ + 1)));
    if (w.targets_seen > 0) recent_nll_[size_t(w.tid)].store(w.nll / w.targets_seen, std::memory_order_relaxed);
    if (cancel_ && cancel_->load(std::memory_order_relaxed)) stop_.store(true);
    if (w.tid == 0 && o_.on_progress) {
      SkipGramProgress p;
      p.tokens_done = done;
      p.tokens_total = total_work_;
      p.epoch = int(std::min<uint64_t>(done / N_, uint64_t(o_.epochs - 1))) + 1;
      p.seconds = seconds();
      for (auto& r : recent_nll_) p.recent_nll_per_target += r.load(std::memory_order_relaxed) / T_;
      o_.on_progress(p);
    }
  }

  void end_epoch() noexcept {
    ++epochs_done_;
    if (!o_.after_epoch || stop_.load()) return;
    try {
      o_.after_epoch(epochs_done_, epoch_mean_nll(), model());
    } catch (...) {
      callback_error_ = std::current_exception();
      stop_.store(true);
    }
  }

  const Corpus& corpus_;
  const SkipGramOptions& o_;
  const std::atomic<bool>* cancel_;
  const uint64_t N_;
  const int T_;
  const uint64_t total_work_;
  const AliasTable negatives_;
  const WordSteps steps_;
  const std::vector<size_t> first_sentence_;
  const float prior_precision_, gamma_;
  Parameters params_;
  std::vector<float> gauss_;
  std::atomic<uint64_t> processed_{0}, pairs_total_{0};
  std::atomic<bool> stop_{false};
  std::vector<double> epoch_nll_, epoch_targets_;
  std::vector<std::atomic<double>> recent_nll_;
  std::chrono::steady_clock::time_point t0_;
  int epochs_done_ = 0;
  std::exception_ptr callback_error_;
};

}  // namespace

Model train_skipgram(const Corpus& corpus, const SkipGramOptions& o, SkipGramStats* stats_out,
                     const std::atomic<bool>* cancel) {
  check_options(o);
  const uint64_t N = corpus.tokens.size();
  if (corpus.vocab.words.empty() || N == 0) throw Error(ErrorKind::argument, "empty corpus: nothing to train on");
  if (corpus.vocab.words.size() > UINT32_MAX) throw Error(ErrorKind::argument, "vocabulary too large");
  Training training(corpus, o, cancel);
  const SkipGramStats st = training.run();
  if (stats_out) *stats_out = st;

  Model m = training.model();
  auto& a = m.attributes;
  a["trainer"] = "vbq train-embeddings: Bayesian skip-gram, negative sampling, mean-field Gaussian posterior";
  write_skipgram_options(o, N, a);
  a["tokens_seen"] = std::to_string(st.tokens_seen);
  a["positive_pairs"] = std::to_string(st.pairs);
  a["final_epoch_nll_per_target"] = format_attribute(st.mean_nll);
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
  a[skipgram_keys::kLowercase] = std::to_string(int(co.lowercase));
  a["vocab_size_limit"] = std::to_string(co.vocab_size);
  a["min_count"] = std::to_string(co.min_count);
  a["tokenizer"] = "[A-Za-z0-9]+([-'][A-Za-z0-9]+)*";
  a["corpus_tokens"] = std::to_string(corpus.raw_tokens);
  a["corpus_distinct_words"] = std::to_string(corpus.distinct_words);
  if (record_timing) {
    a["training_seconds"] = format_attribute(st.seconds);
    a["words_per_sec_per_thread"] = format_attribute(st.words_per_sec_per_thread);
  }
  return m;
}

}  // namespace vbq
