// The held-out nll task (train/heldout_nll.hpp) and its R-D sweep and summary.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "eval/rd.hpp"
#include "tests/support.hpp"
#include "train/corpus.hpp"
#include "train/heldout_nll.hpp"
#include "train/skipgram.hpp"
#include "vbq/error.hpp"

namespace {

using vbq::testing::TempDir;

// Lines of words from 4 topics of 8 words each (a line keeps to one topic), the
// first word capitalised: a model learns the topics, and reading the text without
// lowercasing loses every first word.
void write_topic_text(const std::string& path, int lines, uint32_t seed) {
  std::mt19937 rng(seed);
  std::ofstream out(path);
  for (int i = 0; i < lines; ++i) {
    const int topic = int(rng() % 4);
    for (int k = 0; k < 8; ++k) {
      std::string w = "w" + std::to_string(topic) + char('a' + rng() % 8);
      if (k == 0) w[0] = 'W';
      out << w << (k == 7 ? "\n" : " ");
    }
  }
}

struct TinyModel {
  TempDir dir{"heldout"};
  vbq::Model model;
  std::string heldout = dir.file("heldout.txt");
  TinyModel() {
    write_topic_text(dir.file("train.txt"), 600, 1);
    write_topic_text(heldout, 200, 2);
    vbq::CorpusOptions co;
    co.lowercase = true;
    vbq::SkipGramOptions so;
    so.dim = 8, so.window = 3, so.negatives = 4, so.epochs = 2, so.threads = 1, so.seed = 5;
    model = vbq::train_embeddings({dir.file("train.txt")}, co, so, false, {}, nullptr);
  }
  vbq::HeldoutNllOptions options(int threads = 1) const {
    vbq::HeldoutNllOptions o;
    o.corpus_files = {heldout};
    o.threads = threads;
    return o;
  }
};

}  // namespace

TEST_CASE("heldout nll: uncompressed equals the ELBO's nll at the means, model settings read back") {
  const TinyModel t;
  const vbq::HeldoutNllSetup s = vbq::make_heldout_nll_task(t.model, t.options());
  CHECK(s.task->metric_names() == std::vector<std::string>{"heldout_nll"});
  CHECK(s.task->lower_is_better());
  const double nll = s.task->evaluate(t.model)[0];
  // What `vbq elbo MODEL TEXT --lowercase` computes: window, negatives and case
  // from the model, seed 1, 4 draws.
  vbq::CorpusOptions co;
  co.lowercase = true;
  const vbq::Vocabulary vocab{t.model.vocab, t.model.counts};
  co.vocabulary = &vocab;
  vbq::SkipGramElboOptions eo;
  eo.window = 3, eo.negatives = 4;
  const vbq::SkipGramElbo e = vbq::skipgram_elbo(vbq::load_corpus({t.heldout}, co), t.model, eo);
  CHECK(nll == e.nll_at_means);
  CHECK(nll < 0.9 * std::log(2.0));  // the model learned the topics
  CHECK(s.description.find("window 3, 4 negatives, lowercase") != std::string::npos);
  // Overriding the recorded settings changes the pairs.
  vbq::HeldoutNllOptions other = t.options();
  other.lowercase = false;
  CHECK(vbq::make_heldout_nll_task(t.model, other).task->evaluate(t.model)[0] != nll);
  other = t.options();
  other.window = 2;
  CHECK(vbq::make_heldout_nll_task(t.model, other).task->evaluate(t.model)[0] != nll);
}

TEST_CASE("heldout nll: the same value for any thread count and on every call, exact tensors stand in") {
  const TinyModel t;
  vbq::Model noisy = t.model;
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 0.3);
  for (vbq::Tensor& x : noisy.tensors)
    for (double& m : x.mu) m += noise(rng);
  const auto one = vbq::make_heldout_nll_task(t.model, t.options(1));
  const auto three = vbq::make_heldout_nll_task(t.model, t.options(3));
  const double a = one.task->evaluate(noisy)[0];
  CHECK(a == three.task->evaluate(noisy)[0]);
  CHECK(a == one.task->evaluate(noisy)[0]);
  CHECK(a > one.task->evaluate(t.model)[0]);
  // Only the word tensor given: the context tensor is the model's own.
  vbq::Model word_only = noisy;
  std::erase_if(word_only.tensors, [](const vbq::Tensor& x) { return x.name != "word"; });
  vbq::Model mixed = t.model;
  *const_cast<vbq::Tensor*>(mixed.find("word")) = *noisy.find("word");
  CHECK(one.task->evaluate(word_only)[0] == one.task->evaluate(mixed)[0]);
  // Missing pieces are clear errors.
  vbq::Model no_counts = t.model;
  no_counts.counts.clear();
  CHECK_THROWS_AS(vbq::make_heldout_nll_task(no_counts, t.options()), vbq::Error);
  vbq::HeldoutNllOptions no_text = t.options();
  no_text.corpus_files.clear();
  CHECK_THROWS_AS(vbq::make_heldout_nll_task(t.model, no_text), vbq::Error);
}

TEST_CASE("heldout nll: the sweep's CSV, header line and summary in nll increases") {
  const TinyModel t;
  const auto s = vbq::make_heldout_nll_task(t.model, t.options(2));
  vbq::RdOptions o;
  o.lambdas = {0.01, 1};
  o.grid_q_max = {3, 63};
  o.baselines = {"uniform+rans"};
  o.threads = 2;
  const vbq::RdResult r = vbq::run_rd_sweep(t.model, *s.task, o);
  CHECK(r.lower_is_better);
  CHECK(r.uncompressed[0] == s.task->evaluate(t.model)[0]);
  const TempDir dir("heldout-csv");
  vbq::write_rd_csv(dir.file("rd.csv"), r, false);
  std::ifstream in(dir.file("rd.csv"));
  std::string header, columns;
  std::getline(in, header), std::getline(in, columns);
  CHECK(header.rfind("# uncompressed heldout_nll=", 0) == 0);
  CHECK(columns == "method,setting,bytes,bits_per_dim,ideal_entropy_bits_per_dim,heldout_nll");
  const vbq::RdResult back = vbq::read_rd_csv(dir.file("rd.csv"));
  CHECK(back.lower_is_better);
  CHECK(vbq::rd_task_kind("heldout_nll") == vbq::RdTaskKind::heldout_nll);
  CHECK(vbq::rd_summary(back, {0.02, 0.005}).find("stay within an increase") != std::string::npos);
}

TEST_CASE("heldout nll: bits for an nll increase interpolate between the points around it") {
  vbq::RdResult r;
  r.metric_names = {"heldout_nll"};
  r.lower_is_better = true;
  r.uncompressed = {0.40};
  r.dimensions = 100;
  r.rows = {{"vbq", "lambda=1", 0, 1.0, 1.0, {0.60}}, {"vbq", "lambda=0.1", 0, 2.0, 2.0, {0.45}},
            {"vbq", "lambda=0.01", 0, 3.0, 3.0, {0.41}}, {"uniform+rans", "q=3", 0, 2.0, 2.0, {0.50}},
            {"uniform+rans", "q=63", 0, 6.0, 6.0, {0.40}}};
  CHECK(vbq::level_target(r, 0.02) == doctest::Approx(0.42));
  // 0.42 lies between 0.45 (2 bits) and 0.41 (3 bits): 2 + 0.75.
  CHECK(vbq::bits_for_level(r, "vbq", 0.02) == doctest::Approx(2.75));
  CHECK(vbq::bits_for_level(r, "vbq", 0.25) == doctest::Approx(1.0));  // the first point is within
  CHECK(std::isnan(vbq::bits_for_level(r, "vbq", 0.005)));              // never within 0.405
  // 0.42 between 0.50 (2 bits) and 0.40 (6 bits): 2 + 0.8 * 4 = 5.2.
  CHECK(vbq::bits_for_level(r, "uniform+rans", 0.02) == doctest::Approx(5.2));
  const std::string summary = vbq::rd_summary(r, {0.02});
  CHECK(summary.find("+0.02") != std::string::npos);
  CHECK(summary.find("0.529") != std::string::npos);  // vbq / best: 2.75 / 5.2
}

TEST_CASE("heldout nll: one lambda per tensor follows the sweep's lambda (a lower nll is better)") {
  const TinyModel t;
  const auto s = vbq::make_heldout_nll_task(t.model, t.options(2));
  vbq::RdOptions o;
  o.lambdas = {0.01, 0.3, 10};
  o.variants = {vbq::parse_vbq_variant("vbq+alloc", 0)};
  o.baselines = {};
  o.refine_rounds = 0;
  o.threads = 2;
  const vbq::RdResult r = vbq::run_rd_sweep(t.model, *s.task, o);
  std::vector<uint64_t> bytes;
  std::vector<double> nll;
  for (const vbq::RdPoint& p : r.rows)
    if (p.method == "vbq+alloc") bytes.push_back(p.bytes), nll.push_back(p.metrics[0]);
  REQUIRE(bytes.size() == 3);
  CHECK(bytes[0] > bytes[1]);
  CHECK(bytes[1] > bytes[2]);
  CHECK(nll[0] < nll[2]);
}
