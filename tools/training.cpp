#include "tools/training.hpp"

#include <chrono>
#include <cstdio>

#include "eval/mlp.hpp"
#include "tools/progress.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {

namespace {
std::atomic<bool> g_ctrl_c{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");
extern "C" void on_ctrl_c(int) { g_ctrl_c.store(true); }
}  // namespace

CtrlC::CtrlC() {
  g_ctrl_c.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_ctrl_c;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  installed_ = ::sigaction(SIGINT, &sa, &old_) == 0;
}

CtrlC::~CtrlC() {
  if (installed_) ::sigaction(SIGINT, &old_, nullptr);
}

const std::atomic<bool>& CtrlC::token() const { return g_ctrl_c; }

std::string default_text(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

void add_corpus_options(po::options_description& opts, std::vector<std::string>& inputs, std::string& output,
                        CorpusOptions& co) {
  opts.add_options()                                                                                          //
      ("input", po::value(&inputs)->multitoken()->required(), "corpus files (.gz ok, - = stdin)")              //
      ("output,o", po::value(&output)->required(), "output file")                                               //
      ("vocab-size", po::value(&co.vocab_size)->default_value(30000), "keep the N most frequent words (0 = all)")  //
      ("min-count", po::value(&co.min_count)->default_value(1), "drop words seen fewer than N times")            //
      ("lowercase", po::bool_switch(&co.lowercase), "lowercase ASCII letters before counting");
}

std::vector<size_t> parse_hidden(const std::string& text) {
  std::vector<size_t> widths;
  if (text.empty() || text == "none") return widths;
  for (const std::string& item : split_list(text)) {
    size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
    }
    if (v < 1 || used != item.size())
      throw Error(ErrorKind::argument, "--hidden: '" + item + "' is not a positive width (e.g. 400,400)");
    widths.push_back(size_t(v));
  }
  return widths;
}

BnnResult train_bnn_reporting(const Dataset& train, const Dataset& test, BnnConfig cfg, bool verbose,
                              const std::atomic<bool>& cancel) {
  const size_t batch = std::min(cfg.batch, train.rows), batches = (train.rows + batch - 1) / batch;
  ProgressBar bar(cfg.deterministic ? "reference-mlp" : "train-bnn", double(cfg.epochs) * double(batches));
  double objective = 0, seen = 0, correct = 0;  // running over the epoch
  cfg.on_batch = [&](int epoch, size_t b, size_t size, const BnnLoss& l) {
    if (b == 0) objective = seen = correct = 0;
    objective += l.objective * double(size), seen += double(size), correct += double(l.correct);
    char status[128];
    std::snprintf(status, sizeof status, "epoch %d/%d loss %.4f acc %.2f%%", epoch + 1, cfg.epochs, objective / seen,
                  100.0 * correct / seen);
    bar.update(double(epoch) * double(batches) + double(b + 1), status);
  };
  BnnEpochCallback on_epoch;
  if (verbose)
    on_epoch = [&](int epoch, const BnnEpoch& e, const BnnParams<float>& params) {
      const MlpScore s = evaluate_mlp(bnn_means(params), test);
      const double n = double(train.rows);
      std::fprintf(stderr,
                   "epoch %d/%d: loss %.4f -elbo %.4f = nll %.4f + kl/N %.4f train acc %.2f%% test acc %.10g%% "
                   "test ll %.10g (%.1f s)\n",
                   epoch + 1, cfg.epochs, e.loss.objective, e.neg_elbo, e.loss.nll, e.loss.kl / n,
                   100.0 * double(e.loss.correct) / n, 100.0 * s.accuracy, s.log_likelihood, e.seconds);
    };
  BnnResult r = train_bnn(train, &test, cfg, &cancel, on_epoch);
  bar.finish();
  return r;
}

Model train_embeddings_reporting(const std::vector<std::string>& paths, const CorpusOptions& co, SkipGramOptions o,
                                 bool record_timing, const std::atomic<bool>& cancel) {
  ProgressBar read("read", 0);
  std::unique_ptr<ProgressBar> bar;
  EmbeddingsHooks hooks;
  hooks.cancel = &cancel;
  hooks.on_read = [&](uint64_t bytes, uint64_t tokens) {
    char s[96];
    std::snprintf(s, sizeof s, "%.1f MB, %.2fM tokens", double(bytes) / 1e6, double(tokens) / 1e6);
    read.update(double(bytes), s);
  };
  hooks.on_loaded = [&](const Corpus& c) {
    char s[128];
    std::snprintf(s, sizeof s, "%.2fM tokens, %zu words kept of %llu, %.2fM tokens in vocabulary",
                  double(c.raw_tokens) / 1e6, c.vocab.words.size(), (unsigned long long)c.distinct_words,
                  double(c.tokens.size()) / 1e6);
    read.finish(s);
    bar = std::make_unique<ProgressBar>("train", double(uint64_t(o.epochs) * c.tokens.size()));
  };
  o.on_progress = [&](const SkipGramProgress& p) {
    char s[128];
    std::snprintf(s, sizeof s, "epoch %d/%d  %.0fk words/s/thread  nll/target %.4f", p.epoch, o.epochs,
                  p.seconds > 0 ? double(p.tokens_done) / p.seconds / o.threads / 1000 : 0.0,
                  p.recent_nll_per_target);
    bar->update(double(p.tokens_done), s);
  };
  SkipGramStats st;
  Model m = train_embeddings(paths, co, o, record_timing, hooks, &st);
  char s[96];
  std::snprintf(s, sizeof s, "%.0fk words/s/thread  nll/target %.4f", st.words_per_sec_per_thread / 1000, st.mean_nll);
  bar->finish(s);
  return m;
}

}  // namespace vbq::cli
