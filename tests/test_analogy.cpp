#include <cblas.h>
#include <doctest/doctest.h>
#include <omp.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "eval/analogy.hpp"
#include "vbq/error.hpp"

using namespace vbq;

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

std::string temp_path(const std::string& stem) {
  return (std::filesystem::temp_directory_path() / ("vbq_test_analogy_" + std::to_string(::getpid()) + "_" + stem))
      .string();
}

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

TEST_CASE("analogy: blocked evaluation equals a direct full-matrix count, any thread count") {
  // Several question blocks (the last one partial). Words share 40 prototype
  // vectors (scaled, so normalisation must map them to the same n), hence many
  // scores tie exactly, as in a heavily quantized model.
  const size_t V = 9000, dim = 24, Q = 2 * kAnalogyQuestionBlock + 100;
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> proto(40 * dim);
  for (float& v : proto) v = g(rng);
  std::vector<std::string> vocab;
  std::vector<float> vectors(V * dim);
  for (size_t i = 0; i < V; ++i) {
    vocab.push_back("w" + std::to_string(i));
    const float scale = (i % 3 == 0) ? 2.0f : 1.0f;
    for (size_t k = 0; k < dim; ++k) vectors[i * dim + k] = scale * proto[(i % 40) * dim + k];
  }
  std::uniform_int_distribution<size_t> pick(0, V - 1);
  AnalogySet set;
  set.sections = {"all"};
  for (size_t q = 0; q < Q; ++q) {
    AnalogyQuestion aq;
    aq.section = 0;
    for (auto& w : aq.words) w = vocab[pick(rng)];
    aq.line = q + 2;
    set.questions.push_back(aq);
  }
  for (bool exclude : {false, true}) {
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

    // Reference: normalise the same way, one single-threaded sgemm per block of
    // kAnalogyQuestionBlock questions against all words, then a plain count.
    std::vector<float> unit(V * dim);
    for (size_t i = 0; i < V; ++i) {
      double ss = 0;
      for (size_t k = 0; k < dim; ++k) ss += double(vectors[i * dim + k]) * vectors[i * dim + k];
      float den = float(std::sqrt(ss)) + 1e-8f;
      for (size_t k = 0; k < dim; ++k) unit[i * dim + k] = vectors[i * dim + k] / den;
    }
    std::vector<float> p(Q * dim), s(Q * V);
    std::vector<size_t> idx(4 * Q);
    for (size_t q = 0; q < Q; ++q)
      for (int k = 0; k < 4; ++k) idx[4 * q + k] = std::stoul(set.questions[q].words[k].substr(1));
    for (size_t q = 0; q < Q; ++q)
      for (size_t k = 0; k < dim; ++k)
        p[q * dim + k] = (unit[idx[4 * q + 1] * dim + k] - unit[idx[4 * q] * dim + k]) + unit[idx[4 * q + 2] * dim + k];
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (size_t q0 = 0; q0 < Q; q0 += kAnalogyQuestionBlock) {
      const size_t m = std::min(kAnalogyQuestionBlock, Q - q0);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(V), int(dim), 1.0f, &p[q0 * dim], int(dim),
                  unit.data(), int(dim), 0.0f, &s[q0 * V], int(V));
    }
    openblas_set_num_threads(blas_threads);
    size_t mismatches = 0, tied = 0;
    for (size_t q = 0; q < Q; ++q) {
      const float* row = &s[q * V];
      const float sd = row[idx[4 * q + 3]];
      uint32_t rank = 0;
      for (size_t w = 0; w < V; ++w) {
        bool excluded = w == idx[4 * q + 3] ||
                        (exclude && (w == idx[4 * q] || w == idx[4 * q + 1] || w == idx[4 * q + 2]));
        if (!excluded && row[w] >= sd) ++rank;
        if (w != idx[4 * q + 3] && row[w] == sd) ++tied;
      }
      mismatches += rank != one.ranks[q];
    }
    CHECK(tied > 100 * Q);  // the prototypes really produce ties
    CHECK(mismatches == 0);
  }
}

TEST_CASE("analogy: question file parsing, lowercase, errors name file and line") {
  const std::string path = temp_path("q.txt");
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
  try {
    read_analogy_questions(path, false);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::format);
    std::string m = e.what();
    CHECK(m.find(path) != std::string::npos);
    CHECK(m.find("line 3") != std::string::npos);
    CHECK(m.find("found 3") != std::string::npos);
  }
  std::filesystem::remove(path);
  try {
    read_analogy_questions(path, false);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::io);
  }
}

TEST_CASE("analogy: the real questions-words.txt has 14 sections and 19544 questions") {
  const char* data = std::getenv("VBQ_DATA");
  if (!data) {
    MESSAGE("VBQ_DATA not set; skipping");
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
