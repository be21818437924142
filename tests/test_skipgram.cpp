#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "formats/hdf5_model.hpp"
#include "tools/trainers/corpus.hpp"
#include "tools/trainers/skipgram.hpp"
#include "vbq/error.hpp"

namespace {

constexpr int clusters = 4, words_per_cluster = 60;

// Sentences of 12 words, each sentence from one topic cluster; within a cluster
// word i has probability ~ 1/(i+1)^1.3 (Zipf), so counts span ~200x.
vbq::Corpus synthetic_corpus(int sentences, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<double> w(words_per_cluster);
  for (int i = 0; i < words_per_cluster; ++i) w[i] = std::pow(i + 1.0, -1.3);
  std::discrete_distribution<int> word(w.begin(), w.end());
  std::string text;
  for (int s = 0; s < sentences; ++s) {
    int c = int(rng() % clusters);
    for (int k = 0; k < 12; ++k) text += "c" + std::to_string(c) + "w" + std::to_string(word(rng)) + " ";
    text += "\n";
  }
  std::string path = (std::filesystem::temp_directory_path() /
                      ("vbq_test_skipgram_" + std::to_string(::getpid()) + ".txt")).string();
  std::ofstream(path) << text;
  vbq::CorpusOptions o;
  o.vocab_size = 0;
  auto corpus = vbq::load_corpus({path}, o);
  std::remove(path.c_str());
  return corpus;
}

vbq::SkipGramOptions small_options() {
  vbq::SkipGramOptions o;
  o.dim = 16;
  o.window = 4;
  o.negatives = 4;
  o.epochs = 3;
  o.threads = 1;
  o.seed = 7;
  return o;
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

int cluster_of(const std::string& word) { return word[1] - '0'; }

}  // namespace

TEST_CASE("skipgram: posterior std shrinks with frequency, clusters separate") {
  auto corpus = synthetic_corpus(12000, 1);  // 144k tokens
  REQUIRE(corpus.vocab.words.size() == size_t(clusters * words_per_cluster));
  vbq::SkipGramStats stats;
  auto model = vbq::train_skipgram(corpus, small_options(), &stats);
  CHECK(stats.tokens_seen == 3 * corpus.tokens.size());
  CHECK(stats.mean_nll > 0);
  CHECK(stats.mean_nll < std::log(2.0));  // better than the untrained 0.693 per target

  const vbq::Tensor* u = model.find("word");
  REQUIRE(u);
  REQUIRE(model.find("context"));
  const size_t V = corpus.vocab.words.size(), d = 16;
  REQUIRE(u->shape == std::vector<uint64_t>{V, d});
  CHECK(model.vocab == corpus.vocab.words);
  CHECK(model.counts == corpus.vocab.counts);

  // Median sigma over the coordinates of the 40 most and 40 least frequent words.
  auto median_sigma = [&](size_t first, size_t last) {
    std::vector<double> s(u->sigma.begin() + first * d, u->sigma.begin() + last * d);
    return median(s);
  };
  double frequent = median_sigma(0, 40), rare = median_sigma(V - 40, V);
  MESSAGE("median sigma: frequent " << frequent << ", rare " << rare << " (counts " << corpus.vocab.counts[0]
                                    << ".." << corpus.vocab.counts[V - 1] << ")");
  CHECK(frequent < 0.5 * rare);
  CHECK(rare > 0.3);  // rare words stay near their initial/prior width (init_std 0.5)
  for (double s : u->sigma) REQUIRE(std::isfinite(s));

  // Cosine similarity of posterior means among the 80 most frequent words.
  auto cosine = [&](size_t a, size_t b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t j = 0; j < d; ++j) {
      double x = u->mu[a * d + j], y = u->mu[b * d + j];
      ab += x * y, aa += x * x, bb += y * y;
    }
    return ab / std::sqrt(aa * bb + 1e-30);
  };
  double same = 0, across = 0;
  int n_same = 0, n_across = 0;
  for (size_t a = 0; a < 80; ++a)
    for (size_t b = a + 1; b < 80; ++b) {
      if (cluster_of(corpus.vocab.words[a]) == cluster_of(corpus.vocab.words[b]))
        same += cosine(a, b), ++n_same;
      else
        across += cosine(a, b), ++n_across;
    }
  same /= n_same, across /= n_across;
  MESSAGE("mean cosine: same cluster " << same << ", across " << across);
  CHECK(same > across + 0.3);
}

TEST_CASE("skipgram: one thread and a fixed seed are deterministic") {
  auto corpus = synthetic_corpus(1500, 2);
  auto o = small_options();
  o.epochs = 1;
  auto a = vbq::train_skipgram(corpus, o);
  auto b = vbq::train_skipgram(corpus, o);
  for (size_t t = 0; t < 2; ++t) {
    CHECK(a.tensors[t].mu == b.tensors[t].mu);
    CHECK(a.tensors[t].sigma == b.tensors[t].sigma);
  }
  CHECK(a.attributes == b.attributes);
  o.seed = 8;
  auto c = vbq::train_skipgram(corpus, o);
  CHECK(a.tensors[0].mu != c.tensors[0].mu);

  // Several threads (Hogwild) still train every token.
  o.threads = 2;
  vbq::SkipGramStats st;
  vbq::train_skipgram(corpus, o, &st);
  CHECK(st.tokens_seen == corpus.tokens.size());
}

TEST_CASE("skipgram: subsampling, options and interruption") {
  auto corpus = synthetic_corpus(1500, 3);
  auto o = small_options();
  o.epochs = 1;
  o.sample = 1e-3;
  vbq::SkipGramStats with, without;
  vbq::train_skipgram(corpus, o, &with);
  o.sample = 0;
  vbq::train_skipgram(corpus, o, &without);
  CHECK(with.pairs < 0.9 * double(without.pairs));  // frequent words are dropped

  auto expect_kind = [&](vbq::SkipGramOptions bad, vbq::ErrorKind kind, const std::atomic<bool>* cancel = nullptr) {
    try {
      vbq::train_skipgram(corpus, bad, nullptr, cancel);
      FAIL("expected an error");
    } catch (const vbq::Error& e) {
      CHECK(e.kind() == kind);
    }
  };
  auto bad = o;
  bad.dim = 0;
  expect_kind(bad, vbq::ErrorKind::argument);
  bad = o;
  bad.prior_std = -1;
  expect_kind(bad, vbq::ErrorKind::argument);
  std::atomic<bool> cancel{true};
  expect_kind(o, vbq::ErrorKind::interrupted, &cancel);
}

TEST_CASE("skipgram: model file round trip") {
  auto corpus = synthetic_corpus(300, 4);
  auto o = small_options();
  o.epochs = 1;
  auto m = vbq::train_skipgram(corpus, o);
  std::string path = (std::filesystem::temp_directory_path() /
                      ("vbq_test_skipgram_" + std::to_string(::getpid()) + ".h5")).string();
  vbq::write_model(path, m, true);
  auto r = vbq::read_model(path);
  std::remove(path.c_str());
  REQUIRE(r.find("word"));
  REQUIRE(r.find("context"));
  CHECK(r.find("word")->shape == m.find("word")->shape);
  CHECK(r.vocab == m.vocab);
  CHECK(r.counts == m.counts);
  CHECK(r.attributes.at("dim") == "16");
  const auto &a = *m.find("word"), &b = *r.find("word");
  for (size_t i = 0; i < a.size(); i += 37) {
    CHECK(b.mu[i] == doctest::Approx(a.mu[i]).epsilon(1e-6));
    CHECK(b.sigma[i] == doctest::Approx(a.sigma[i]).epsilon(1e-5));
  }
}
