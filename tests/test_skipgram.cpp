#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include "formats/hdf5_model.hpp"
#include "tests/support.hpp"
#include "train/corpus.hpp"
#include "train/skipgram.hpp"
#include "train/attributes.hpp"
#include "train/skipgram_kernels.hpp"
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
  vbq::testing::TempDir tmp("skipgram");
  const std::string path = tmp.file("corpus.txt");
  std::ofstream(path) << text;
  vbq::CorpusOptions o;
  o.vocab_size = 0;
  return vbq::load_corpus({path}, o);
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
  CHECK(rare > 1.3 * small_options().init_std);  // widened from the init: the data do not pin them down
  // At the ELBO's stationary point precision = 1/prior^2 + (curvature ~ count):
  // sigma ~ count^-1/2 for words seen often. Log-log slope of the per-word
  // median sigma against count:
  {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t w = 0; w < V; ++w) {
      double x = std::log(double(corpus.vocab.counts[w])), y = std::log(median_sigma(w, w + 1));
      sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    double slope = (V * sxy - sx * sy) / (V * sxx - sx * sx);
    MESSAGE("log sigma vs log count slope " << slope);
    CHECK(slope < -0.3);
    CHECK(slope > -0.7);
  }
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

  using vbq::testing::kind_of;
  auto bad = o;
  bad.dim = 0;
  CHECK(kind_of([&] { vbq::train_skipgram(corpus, bad); }) == vbq::ErrorKind::argument);
  bad = o;
  bad.prior_std = -1;
  CHECK(kind_of([&] { vbq::train_skipgram(corpus, bad); }) == vbq::ErrorKind::argument);
  std::atomic<bool> cancel{true};
  CHECK(kind_of([&] { vbq::train_skipgram(corpus, o, nullptr, &cancel); }) == vbq::ErrorKind::interrupted);
}

TEST_CASE("skipgram: pair step = gradient and curvature of the ELBO estimate with fixed noise") {
  // f = sum_t log s(y_t z_u . z_t), z = mu + sigma eps with the noise held fixed:
  // the mean steps must be rho * df/dmu and the precision steps gamma * -d2f/dmu2
  // (the data curvature of the stationarity condition in skipgram.cpp).
  const size_t d = 8;
  const int n = 3;  // positive + 2 negatives
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  std::vector<std::vector<float>> rows(n + 1, std::vector<float>(2 * d)), eps(n + 1, std::vector<float>(d));
  for (int r = 0; r <= n; ++r)
    for (size_t j = 0; j < d; ++j) {
      rows[r][j] = float(0.3 * normal(rng));
      rows[r][d + j] = float(1 / (0.2 * 0.2) * (1 + 0.5 * (j % 3)));  // sigma 0.2 .. 0.14
      eps[r][j] = float(normal(rng));
    }
  // f as a function of the means (row 0 = word, rows 1..n = targets), in double.
  auto f = [&](const std::vector<std::vector<double>>& mu) {
    std::vector<double> zu(d);
    for (size_t j = 0; j < d; ++j) zu[j] = mu[0][j] + eps[0][j] / std::sqrt(double(rows[0][d + j]));
    double sum = 0;
    for (int t = 1; t <= n; ++t) {
      double x = 0;
      for (size_t j = 0; j < d; ++j) x += zu[j] * (mu[t][j] + eps[t][j] / std::sqrt(double(rows[t][d + j])));
      sum += -std::log1p(std::exp(t == 1 ? -x : x));
    }
    return sum;
  };
  std::vector<std::vector<double>> mu(n + 1, std::vector<double>(d));
  for (int r = 0; r <= n; ++r)
    for (size_t j = 0; j < d; ++j) mu[r][j] = rows[r][j];

  auto after = rows;
  std::vector<float*> targets;
  std::vector<const float*> eps_ptr{eps[0].data()};
  for (int t = 1; t <= n; ++t) targets.push_back(after[t].data()), eps_ptr.push_back(eps[t].data());
  vbq::skipgram_detail::PairScratch scratch(d);
  const float rho = 1.0f, gamma = 0.5f;  // rho = 1: the targets' steps do not feed back into this pair
  float nll = vbq::skipgram_detail::pair_step(d, after[0].data(), targets.data(), eps_ptr.data(), n, rho, gamma, scratch);
  CHECK(nll == doctest::Approx(-f(mu)).epsilon(0.01));

  const double e = 1e-3;
  int checked = 0;
  for (int r = 0; r <= n; ++r)
    for (size_t j = 0; j < d; ++j) {
      auto p = mu, m = mu;
      p[r][j] += e, m[r][j] -= e;
      double f0 = f(mu), fp = f(p), fm = f(m);
      double grad = (fp - fm) / (2 * e), curv = -(fp - 2 * f0 + fm) / (e * e);
      // The sigmoid table (word2vec.c's, 2048 steps on [-6, 6]) limits agreement to ~0.3%.
      CHECK((after[r][j] - rows[r][j]) / rho == doctest::Approx(grad).epsilon(0.01).scale(0.05));
      CHECK((after[r][d + j] - rows[r][d + j]) / gamma == doctest::Approx(curv).epsilon(0.02).scale(0.05));
      checked += std::abs(grad) > 1e-3 && curv > 1e-3;
    }
  CHECK(checked > int(d));  // not vacuous
}

TEST_CASE("skipgram: model file round trip") {
  auto corpus = synthetic_corpus(300, 4);
  auto o = small_options();
  o.epochs = 1;
  auto m = vbq::train_skipgram(corpus, o);
  vbq::testing::TempDir tmp("skipgram");
  const std::string path = tmp.file("model.h5");
  vbq::write_model(path, m, true);
  auto r = vbq::read_model(path);
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

TEST_CASE("skipgram: KL to the prior, closed form") {
  // KL(N(mu, s^2) || N(0, s0^2)) = log(s0/s) + (s^2 + mu^2) / (2 s0^2) - 1/2.
  vbq::Model m;
  vbq::Tensor t;
  t.name = "word";
  t.shape = {1, 3};
  t.mu = {0.0, 1.0, 0.0};
  t.sigma = {2.0, 2.0, 1.0};
  m.tensors.push_back(t);
  const double expected = (0.0 + 0.125 + (std::log(2.0) + 0.125 - 0.5)) / 3;
  CHECK(vbq::mean_kl_to_prior(m, 2.0) == doctest::Approx(expected).epsilon(1e-12));
  CHECK(vbq::mean_kl_to_prior(vbq::Model{}, 1.0) == 0.0);
}

TEST_CASE("skipgram: ELBO of a model on text, exact parts, any thread count") {
  const vbq::Corpus corpus = synthetic_corpus(300, 5);
  const size_t V = corpus.vocab.words.size(), d = 10;
  auto model_with = [&](double mu, double sigma) {
    vbq::Model m;
    for (const char* name : {"word", "context"}) {
      vbq::Tensor t;
      t.name = name;
      t.shape = {V, d};
      t.mu.assign(V * d, mu);
      t.sigma.assign(V * d, sigma);
      m.tensors.push_back(t);
    }
    return m;
  };
  vbq::SkipGramElboOptions o;
  o.window = 3;
  o.negatives = 4;
  o.prior_std = 1.0;
  o.samples = 8;
  o.max_tokens = 1000;

  // Means 0: every target costs -log s(0) = log 2 at the means; q = prior: KL 0.
  const vbq::SkipGramElbo prior_like = vbq::skipgram_elbo(corpus, model_with(0.0, 1.0), o);
  CHECK(prior_like.nll_at_means == doctest::Approx(std::log(2.0)).epsilon(1e-12));
  CHECK(prior_like.kl_per_coordinate == doctest::Approx(0.0));
  CHECK(prior_like.kl_per_target == doctest::Approx(0.0));
  // x = u . v with u, v ~ N(0, I_10) is symmetric with variance 10, so by Jensen
  // E softplus(-x) = E|x|/2 + E log(1 + e^-|x|) > log 2 by far (~1.3).
  CHECK(prior_like.expected_nll > std::log(2.0) + 0.4);
  CHECK(prior_like.neg_elbo_per_target == doctest::Approx(prior_like.expected_nll));
  // Sentences within the first 1000 tokens, each center's targets: positives
  // plus up to 4 negatives per context.
  CHECK(prior_like.centers >= 1000);
  CHECK(prior_like.centers < 1012);
  CHECK(prior_like.targets > prior_like.centers);
  CHECK(prior_like.targets <= prior_like.centers * 2 * 3 * 5);

  // A trained model: the same numbers on 1 and 3 threads, tiny sigma gives
  // E_q nll ~ nll at the means, and KL per target = KL sum / targets per epoch.
  vbq::SkipGramOptions so = small_options();
  so.dim = d;
  vbq::Model trained = vbq::train_skipgram(corpus, so);
  o.threads = 1;
  const vbq::SkipGramElbo a = vbq::skipgram_elbo(corpus, trained, o);
  o.threads = 3;
  const vbq::SkipGramElbo b = vbq::skipgram_elbo(corpus, trained, o);
  CHECK(a.nll_at_means == b.nll_at_means);
  CHECK(a.expected_nll == b.expected_nll);
  CHECK(a.targets == b.targets);
  CHECK(a.nll_at_means < 0.9 * std::log(2.0));  // it learned something
  for (auto& t : trained.tensors) std::fill(t.sigma.begin(), t.sigma.end(), 1e-6);
  const vbq::SkipGramElbo sharp = vbq::skipgram_elbo(corpus, trained, o);
  CHECK(sharp.expected_nll == doctest::Approx(sharp.nll_at_means).epsilon(1e-5));
  const double kl_sum = sharp.kl_per_coordinate * 2.0 * double(V * d);
  CHECK(sharp.kl_per_target == doctest::Approx(kl_sum / sharp.targets_per_epoch));
  CHECK(sharp.targets_per_epoch == doctest::Approx(double(sharp.targets) / double(sharp.centers) * double(corpus.tokens.size())));

  // Shapes must match the vocabulary.
  vbq::Model wrong = model_with(0.0, 1.0);
  wrong.tensors[1].shape = {V, d + 1};
  CHECK_THROWS_AS(vbq::skipgram_elbo(corpus, wrong, o), vbq::Error);
  wrong.tensors.pop_back();
  CHECK_THROWS_AS(vbq::skipgram_elbo(corpus, wrong, o), vbq::Error);
}

TEST_CASE("skipgram: Laplace precision = prior precision + second derivative of the nll at the means") {
  const vbq::Corpus corpus = synthetic_corpus(300, 5);
  vbq::SkipGramOptions so = small_options();
  so.dim = 6;
  const vbq::Model trained = vbq::train_skipgram(corpus, so);
  vbq::SkipGramElboOptions o;
  o.window = 3, o.negatives = 4, o.prior_std = 0.5, o.max_tokens = 1000, o.threads = 1;
  const vbq::LaplacePrecision p = vbq::skipgram_laplace_precision(corpus, trained, o);
  o.threads = 3;
  const vbq::LaplacePrecision p3 = vbq::skipgram_laplace_precision(corpus, trained, o);
  CHECK(p.word == p3.word);
  CHECK(p.context == p3.context);
  CHECK(p.data_scale == 1.0);
  const vbq::Tensor& word = *trained.find("word");
  const vbq::Tensor& context = *trained.find("context");
  REQUIRE(p.word.size() == word.mu.size());
  // The total nll over the evaluator's pairs, and its central second difference
  // in one coordinate: x is linear in it, so the difference is the curvature
  // up to O(h^2).
  const double targets = double(vbq::skipgram_elbo(corpus, trained, o).targets);
  auto total = [&](const vbq::Tensor& u, const vbq::Tensor& v) {
    return vbq::skipgram_nll_at_means(corpus, u, v, o) * targets;
  };
  const double h = 1e-3, f0 = total(word, context);
  int checked = 0;
  for (size_t i : {size_t(0), size_t(7), size_t(40), word.mu.size() - 1}) {
    for (bool in_word : {true, false}) {
      vbq::Tensor u = word, v = context;
      std::vector<double>& mu = in_word ? u.mu : v.mu;
      mu[i] += h;
      const double up = total(u, v);
      mu[i] -= 2 * h;
      const double down = total(u, v);
      const double curvature = (up - 2 * f0 + down) / (h * h);
      const double tau = (in_word ? p.word : p.context)[i];
      CHECK(tau - 4.0 == doctest::Approx(curvature).epsilon(1e-4));
      checked += curvature > 0.1;
    }
  }
  CHECK(checked >= 4);
  // data_tokens scales the data term only.
  o.data_tokens = 3 * p.centers;
  const vbq::LaplacePrecision scaled = vbq::skipgram_laplace_precision(corpus, trained, o);
  CHECK(scaled.data_scale == doctest::Approx(3.0));
  CHECK(scaled.word[7] - 4.0 == doctest::Approx(3 * (p.word[7] - 4.0)));
}

TEST_CASE("skipgram: training settings round-trip through the model attributes") {
  vbq::SkipGramOptions o;
  o.window = 7;
  o.negatives = 3;
  o.prior_std = 0.75;
  vbq::Model m;
  vbq::write_skipgram_options(o, 123456789012ull, m.attributes);
  CHECK(m.attributes.at(vbq::skipgram_keys::kWindow) == "7");
  CHECK(m.attributes.at(vbq::skipgram_keys::kPriorStd) == "0.75");
  const vbq::RecordedSkipGram r = vbq::read_skipgram_options(m);
  CHECK(r.window == 7);
  CHECK(r.negatives == 3);
  CHECK(r.prior_std == 0.75);
  CHECK(r.train_tokens == 123456789012ull);
  // A snapshot records nothing; a damaged value is a format error naming the key.
  const vbq::RecordedSkipGram none = vbq::read_skipgram_options(vbq::Model{});
  CHECK_FALSE(none.window.has_value());
  CHECK_FALSE(none.train_tokens.has_value());
  m.attributes[vbq::skipgram_keys::kNegatives] = "five";
  try {
    vbq::read_skipgram_options(m);
    FAIL("no error");
  } catch (const vbq::Error& e) {
    CHECK(e.kind() == vbq::ErrorKind::format);
    CHECK(std::string(e.what()).find("negatives") != std::string::npos);
  }
}

TEST_CASE("skipgram: prior step shrinks means by c tau0 and relaxes precisions toward tau0, capped") {
  using namespace vbq::skipgram_detail;
  const size_t d = 3;
  float mu[d] = {1.0f, -2.0f, 0.5f}, precision[d] = {10.0f, 0.5f, 2e12f};
  const float c = 0.1f, b = 0.25f, tau0 = 4.0f;
  prior_step(d, c, b, tau0, mu, precision);
  CHECK(mu[0] == doctest::Approx(1.0 - 0.1 * 1.0 * 4.0));   // 0.6
  CHECK(mu[1] == doctest::Approx(-2.0 + 0.1 * 2.0 * 4.0));  // -1.2
  CHECK(precision[0] == doctest::Approx(10.0 + 0.25 * (4.0 - 10.0)));  // 8.5
  CHECK(precision[1] == doctest::Approx(0.5 + 0.25 * (4.0 - 0.5)));    // 1.375
  CHECK(precision[2] == kPrecisionMax);  // 2e12 relaxes to 1.5e12, then the cap
  // b = 1 lands on tau0 exactly: a word seen once per epoch forgets its past.
  float p1[1] = {123.0f}, m1[1] = {0.0f};
  prior_step(1, 0.0f, 1.0f, tau0, m1, p1);
  CHECK(p1[0] == tau0);
}

TEST_CASE("skipgram: progress reports count up to the total, epoch by epoch") {
  const vbq::Corpus corpus = synthetic_corpus(3000, 3);
  vbq::SkipGramOptions o = small_options();
  o.epochs = 3;
  std::vector<vbq::SkipGramProgress> seen;
  o.on_progress = [&](const vbq::SkipGramProgress& p) { seen.push_back(p); };
  vbq::train_skipgram(corpus, o);
  REQUIRE(!seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    CHECK(seen[i].tokens_done >= seen[i - 1].tokens_done);
    CHECK(seen[i].epoch >= seen[i - 1].epoch);
  }
  CHECK(seen.back().tokens_done == seen.back().tokens_total);
  CHECK(seen.back().tokens_total == 3 * corpus.tokens.size());
  CHECK(seen.back().epoch == 3);
  CHECK(seen.back().recent_nll_per_target > 0);
}
