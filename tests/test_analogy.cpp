#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "eval/analogy.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::kind_of;
using vbq::testing::skip_for_missing_data;

namespace {

AnalogySet make_set(std::vector<std::string> sections, std::vector<std::array<std::string, 5>> rows) {
  // rows: {section index as text, a, b, c, d}
  AnalogySet set;
  set.sections = std::move(sections);
  size_t line = 1;
  for (auto& r : rows) {
    AnalogyQuestion q;
    q.section = uint32_t(std::stoul(r[0]));
    for (int k = 0; k < 4; ++k) q.words[k] = r[k + 1];
    q.line = line++;
    set.questions.push_back(q);
  }
  return set;
}

// Six 2-d words. p = n(b) - n(a) + n(c) = (0,1) - (1,0) + (-1,0) = (-2, 1); scores:
// a -2, b 1, c 2, d -1, e 1 (n(e) == n(b) exactly: a tie), f (4+1)/sqrt(5) = 2.236.
const std::vector<std::string> kVocab = {"a", "b", "c", "d", "e", "f"};
const std::vector<float> kVectors = {1, 0, 0, 1, -1, 0, 0, -1, 0, 5, -2, 1};

}  // namespace

TEST_CASE("analogy: hand-computed ranks with ties counted against the answer") {
  AnalogySet set = make_set({"s"}, {{"0", "a", "b", "c", "d"}, {"0", "a", "b", "c", "e"}, {"0", "a", "b", "c", "f"}});
  AnalogyResult r = evaluate_analogies(set, kVocab, kVectors, 2);
  // d: {b, c, d, e, f} score >= -1 -> rank 4. e: {b, c, e, f} >= 1 -> rank 3 (b ties). f: rank 0.
  CHECK(r.ranks == std::vector<uint32_t>{4, 3, 0});
  CHECK(r.overall.covered == 3);
  CHECK(r.overall.total == 3);
  CHECK(r.overall.hits1 == doctest::Approx(1.0 / 3));
  CHECK(r.overall.hits10 == 1.0);
  CHECK(r.overall.mrr == doctest::Approx((1.0 / 5 + 1.0 / 4 + 1.0) / 3));

  // word2vec convention: a, b, c are no candidates. d: {e, f} -> 2; e: {f} -> 1; f: 0.
  AnalogyOptions ex;
  ex.exclude_question_words = true;
  AnalogyResult rx = evaluate_analogies(set, kVocab, kVectors, 2, ex);
  CHECK(rx.ranks == std::vector<uint32_t>{2, 1, 0});
  CHECK(rx.overall.mrr == doctest::Approx((1.0 / 3 + 1.0 / 2 + 1.0) / 3));
}

TEST_CASE("analogy: top_words restricts the vocabulary and skips questions outside it") {
  AnalogySet set = make_set({"s"}, {{"0", "a", "b", "c", "d"}, {"0", "a", "b", "c", "e"}, {"0", "a", "b", "c", "f"}});
  AnalogyOptions top;
  top.top_words = 4;
  AnalogyResult r = evaluate_analogies(set, kVocab, kVectors, 2, top);
  // Vocabulary {a, b, c, d}: scores -2, 1, 2, -1 -> d has rank 2; e and f are OOV.
  CHECK(r.ranks == std::vector<uint32_t>{2});
  CHECK(r.overall.covered == 1);
  CHECK(r.overall.total == 3);
  CHECK(r.overall.hits1 == 0.0);
  CHECK(r.overall.hits10 == 1.0);
  CHECK(r.overall.mrr == doctest::Approx(1.0 / 3));
  top.top_words = 100;  // larger than V: whole vocabulary
  CHECK(evaluate_analogies(set, kVocab, kVectors, 2, top).ranks == std::vector<uint32_t>{4, 3, 0});
}

TEST_CASE("analogy: all-equal vectors give rank V-1 (no credit for ties)") {
  const size_t V = 20, dim = 3;
  std::vector<std::string> vocab;
  for (size_t i = 0; i < V; ++i) vocab.push_back("w" + std::to_string(i));
  std::vector<float> vectors(V * dim, 0.7f);
  AnalogySet set = make_set({"s"}, {{"0", "w0", "w1", "w2", "w3"}, {"0", "w5", "w9", "w7", "w19"}, {"0", "w4", "w4", "w4", "w4"}});
  AnalogyResult r = evaluate_analogies(set, vocab, vectors, dim);
  CHECK(r.ranks == std::vector<uint32_t>{19, 19, 19});
  CHECK(r.overall.hits1 == 0.0);
  CHECK(r.overall.hits10 == 0.0);
  CHECK(r.overall.mrr == doctest::Approx(1.0 / 20));
  AnalogyOptions ex;
  ex.exclude_question_words = true;
  // Excluding a, b, c (distinct, all != d) leaves 17 words: rank 16. The repeated
  // question w4 w4 w4 w4 excludes only w4 itself: rank 19.
  CHECK(evaluate_analogies(set, vocab, vectors, dim, ex).ranks == std::vector<uint32_t>{16, 16, 19});
}

TEST_CASE("analogy: zero vectors normalise to zero, no NaN") {
  std::vector<std::string> vocab = {"a", "b", "c", "d", "z"};
  std::vector<float> vectors = {1, 0, 0, 1, 0, 0, 1, 1, 0, 0};  // c and z are zero vectors
  AnalogySet set = make_set({"s"}, {{"0", "a", "b", "c", "d"}, {"0", "a", "b", "c", "z"}});
  AnalogyResult r = evaluate_analogies(set, vocab, vectors, 2);
  // p = (0,1) - (1,0) + 0 = (-1, 1). Scores a -1, b 1, c 0, d 0 (n(d) = (1,1)/sqrt2), z 0.
  // d: {b, c, d, z} >= 0 -> rank 3; z: same set -> rank 3.
  CHECK(r.ranks == std::vector<uint32_t>{3, 3});
  CHECK(std::isfinite(r.overall.mrr));
  CHECK(r.overall.mrr == doctest::Approx(0.25));
  std::vector<float> zeros(10, 0.0f);
  AnalogyResult rz = evaluate_analogies(set, vocab, zeros, 2);
  CHECK(rz.ranks == std::vector<uint32_t>{4, 4});
  CHECK(rz.overall.mrr == doctest::Approx(0.2));
  // Non-finite input is refused rather than producing NaN scores.
  vectors[3] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(evaluate_analogies(set, vocab, vectors, 2), Error);
}

TEST_CASE("analogy: OOV questions are skipped and counted per section") {
  AnalogySet set = make_set({"one", "two", "three"},
                            {{"0", "a", "b", "c", "d"},
                             {"0", "a", "b", "c", "nope"},
                             {"1", "a", "b", "c", "f"},
                             {"1", "x", "b", "c", "f"},
                             {"1", "a", "b", "c", "e"}});
  AnalogyResult r = evaluate_analogies(set, kVocab, kVectors, 2);
  CHECK(r.overall.total == 5);
  CHECK(r.overall.covered == 3);
  CHECK(r.ranks == std::vector<uint32_t>{4, 0, 3});
  REQUIRE(r.per_section.size() == 3);
  CHECK(r.per_section[0].total == 2);
  CHECK(r.per_section[0].covered == 1);
  CHECK(r.per_section[0].mrr == doctest::Approx(0.2));
  CHECK(r.per_section[1].total == 3);
  CHECK(r.per_section[1].covered == 2);
  CHECK(r.per_section[1].hits1 == doctest::Approx(0.5));
  CHECK(r.per_section[1].mrr == doctest::Approx((1.0 + 0.25) / 2));
  CHECK(r.per_section[2].total == 0);
  CHECK(r.per_section[2].covered == 0);
  CHECK(r.per_section[2].mrr == 0.0);
  // Argument errors.
  std::vector<float> short_vectors(5);
  CHECK_THROWS_AS(evaluate_analogies(set, kVocab, short_vectors, 2), Error);
}

namespace {

// Random questions over vocab "w0".."w{V-1}".
AnalogySet random_questions(size_t V, size_t Q, std::mt19937& rng) {
  std::uniform_int_distribution<size_t> pick(0, V - 1);
  AnalogySet set;
  set.sections = {"all"};
  for (size_t q = 0; q < Q; ++q) {
    AnalogyQuestion aq;
    aq.section = 0;
    for (auto& w : aq.words) w = "w" + std::to_string(pick(rng));
    aq.line = q + 2;
    set.questions.push_back(aq);
  }
  return set;
}

// The protocol by brute force: every score of every question in long double.
std::vector<uint32_t> brute_force_ranks(const AnalogySet& set, const std::vector<float>& vectors, size_t V,
                                        size_t dim, bool exclude) {
  std::vector<float> unit(V * dim);
  for (size_t i = 0; i < V; ++i) {
    double ss = 0;
    for (size_t k = 0; k < dim; ++k) ss += double(vectors[i * dim + k]) * vectors[i * dim + k];
    float den = float(std::sqrt(ss)) + 1e-8f;
    for (size_t k = 0; k < dim; ++k) unit[i * dim + k] = vectors[i * dim + k] / den;
  }
  std::vector<uint32_t> ranks;
  std::vector<float> p(dim);
  std::vector<long double> s(V);
  for (const auto& q : set.questions) {
    size_t idx[4];
    for (int k = 0; k < 4; ++k) idx[k] = std::stoul(q.words[k].substr(1));
    for (size_t k = 0; k < dim; ++k)
      p[k] = (unit[idx[1] * dim + k] - unit[idx[0] * dim + k]) + unit[idx[2] * dim + k];
    for (size_t w = 0; w < V; ++w) {
      s[w] = 0;
      for (size_t k = 0; k < dim; ++k) s[w] += (long double)p[k] * unit[w * dim + k];
    }
    uint32_t rank = 0;
    for (size_t w = 0; w < V; ++w) {
      bool excluded = w == idx[3] || (exclude && (w == idx[0] || w == idx[1] || w == idx[2]));
      rank += !excluded && s[w] >= s[idx[3]];
    }
    ranks.push_back(rank);
  }
  return ranks;
}

void check_against_brute_force(const std::vector<float>& vectors, size_t V, size_t dim, size_t Q, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> vocab;
  for (size_t i = 0; i < V; ++i) vocab.push_back("w" + std::to_string(i));
  const AnalogySet set = random_questions(V, Q, rng);
  for (bool exclude : {false, true}) {
    CAPTURE(exclude);
    AnalogyOptions opt;
    opt.exclude_question_words = exclude;
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    AnalogyResult one = evaluate_analogies(set, vocab, vectors, dim, opt);
    omp_set_num_threads(2);
    AnalogyResult two = evaluate_analogies(set, vocab, vectors, dim, opt);
    omp_set_num_threads(saved);
    CHECK(one.ranks == two.ranks);
    CHECK(one.overall.mrr == two.overall.mrr);
    const std::vector<uint32_t> ref = brute_force_ranks(set, vectors, V, dim, exclude);
    size_t mismatches = 0;
    for (size_t q = 0; q < Q; ++q) mismatches += ref[q] != one.ranks[q];
    CHECK(mismatches == 0);
  }
}

// Word i gets prototype i % prototypes (N(0, 1) entries) times factor(i, rng).
template <class Factor>
std::vector<float> prototype_model(size_t V, size_t dim, size_t prototypes, std::mt19937& rng, Factor factor) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> proto(prototypes * dim), vectors(V * dim);
  for (float& v : proto) v = g(rng);
  for (size_t i = 0; i < V; ++i)
    for (size_t k = 0; k < dim; ++k) vectors[i * dim + k] = proto[(i % prototypes) * dim + k] * factor(i, rng);
  return vectors;
}

}  // namespace

TEST_CASE("analogy: ranks equal a brute-force count, exact ties counted against the answer, any thread count") {
  // Words share 40 prototype vectors; scales 1 and 2 normalise to the same n, so
  // many scores tie exactly, as in a heavily quantized model.
  std::mt19937 rng(11);
  auto vectors = prototype_model(9000, 24, 40, rng, [](size_t i, std::mt19937&) { return i % 3 == 0 ? 2.0f : 1.0f; });
  check_against_brute_force(vectors, 9000, 24, 1100, 12);
}

TEST_CASE("analogy: near-ties inside the screening bound are ranked by their exact scores") {
  // Prototypes perturbed by ~1e-6: many scores differ from s(d) by less than the
  // screening bound (~1e-5 here) yet are not equal, so the exact path decides.
  const size_t V = 6000, dim = 50;
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  auto vectors = prototype_model(V, dim, 30, rng, [&](size_t, std::mt19937& r) { return 1.0f + 1e-6f * g(r); });
  check_against_brute_force(vectors, V, dim, 700, 6);
  // And a plain random model: V not a multiple of the chunk width.
  std::vector<float> plain(4099 * 64);
  for (float& v : plain) v = g(rng);
  check_against_brute_force(plain, 4099, 64, 300, 7);
}

TEST_CASE("analogy: question file parsing, lowercase, errors name file and line") {
  vbq::testing::TempDir tmp("analogy");
  const std::string path = tmp.file("q.txt");
  {
    std::ofstream out(path);
    out << ": capital\nAthens Greece Baghdad Iraq\r\n\n:  family \nboy girl  brother\tsister\n";
  }
  AnalogySet set = read_analogy_questions(path, false);
  CHECK(set.sections == std::vector<std::string>{"capital", "family"});
  REQUIRE(set.questions.size() == 2);
  CHECK(set.questions[0].words[0] == "Athens");
  CHECK(set.questions[0].words[3] == "Iraq");
  CHECK(set.questions[0].section == 0);
  CHECK(set.questions[0].line == 2);
  CHECK(set.questions[1].words[3] == "sister");
  CHECK(set.questions[1].section == 1);
  CHECK(set.questions[1].line == 5);
  AnalogySet low = read_analogy_questions(path, true);
  CHECK(low.questions[0].words[0] == "athens");
  CHECK(low.questions[0].words[3] == "iraq");
  CHECK(low.sections[0] == "capital");
  {
    std::ofstream out(path);
    out << ": s\na b c d\na b c\n";
  }
  expect_error([&] { read_analogy_questions(path, false); }, ErrorKind::format, {path, "line 3", "found 3"});
  std::filesystem::remove(path);
  CHECK(kind_of([&] { read_analogy_questions(path, false); }) == ErrorKind::io);
}

TEST_CASE("analogy: the real questions-words.txt has 14 sections and 19544 questions") {
  const char* data = std::getenv("VBQ_DATA");
  if (!data) {
    skip_for_missing_data("VBQ_DATA is not set");
    return;
  }
  AnalogySet set = read_analogy_questions(std::string(data) + "/questions-words.txt", true);
  CHECK(set.sections.size() == 14);
  CHECK(set.questions.size() == 19544);
  CHECK(set.sections.front() == "capital-common-countries");
  CHECK(set.questions.front().words[0] == "athens");
  size_t per_section_total = 0;
  for (const auto& q : set.questions) per_section_total += q.section < 14;
  CHECK(per_section_total == 19544);
}
