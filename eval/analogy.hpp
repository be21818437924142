// Word-analogy task (Mikolov et al. 2013), exactly as docs/PROTOCOL.md fixes it.
//
// Questions: questions-words.txt; a line starting with ':' opens a section, every
// other line is "a b c d" (a : b = c : d). A question is skipped (and counted) when
// any of its words is out of vocabulary.
// Scoring: n(v) = v / (||v||_2 + 1e-8); p = n(b) - n(a) + n(c) (not renormalised);
// s(w) = p . n(w) for every vocabulary word w (a, b, c included by default).
// rank = #{w : s(w) >= s(d)} - 1  (ties count AGAINST the answer).
// Hits@k = mean [rank < k]; MRR = mean 1 / (1 + rank), over covered questions.
// Normalisation detail: ||v|| is accumulated in double and rounded to float32,
// then n = v / (||v|| + 1e-8f) in float32. p = (n(b) - n(a)) + n(c) in float32.
//
// Exact scores. s(w) is the dot product of the float32 vectors p and n(w) taken
// in double: each product is exact, the sum runs in index order. Equal vectors
// therefore tie exactly, and ranks depend on neither BLAS nor the thread count.
// Speed. Computing s(w) for all V words per question is what numpy does (one
// sgemm of Q x V x dim). Instead, one sgemm of V x U x dim gives every word's
// float32 similarity to the U distinct question words, and the screening score
// (n(b).n(w) - n(a).n(w)) + n(c).n(w) lies within a proven bound delta of s(w)
// (see analogy.cpp). Words further than 2 delta from s(d) are decided by the
// screening score; only the few inside are scored exactly. U is about 900 for
// questions-words.txt, so this is ~20x fewer flops. Memory: U x 128 floats per
// thread, plus the questions' p vectors.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vbq {

struct AnalogyQuestion {
  uint32_t section;        // index into AnalogySet::sections
  std::string words[4];
  size_t line;             // 1-based line number in the file
};

struct AnalogySet {
  std::vector<std::string> sections;
  std::vector<AnalogyQuestion> questions;
};

// Parses questions-words.txt. Blank lines are skipped; questions before the first
// section line go to a section named "(unsectioned)". `lowercase` lowercases the
// question words (ASCII), not the section names. Throws ErrorKind::io / ErrorKind::format naming the
// file and line (a non-section line that does not hold exactly 4 words).
AnalogySet read_analogy_questions(const std::string& path, bool lowercase);

struct AnalogyOptions {
  // word2vec compute-accuracy convention: a, b, c are no candidates, i.e.
  // rank = #{w not in {a, b, c, d} : s(w) >= s(d)}.
  bool exclude_question_words = false;
  size_t top_words = 0;                 // restrict the vocabulary to its first N words (0 = all)
};

struct AnalogyScore {
  size_t covered = 0, total = 0;
  double hits1 = 0, hits10 = 0, mrr = 0;
};

struct AnalogyResult {
  AnalogyScore overall;
  std::vector<AnalogyScore> per_section;  // parallel to AnalogySet::sections
  std::vector<uint32_t> ranks;            // per covered question, in file order
};

// vectors: row-major vocab.size() x dim (float32). vocab[i] names row i; the
// vocabulary is assumed ordered by frequency (top_words keeps the first rows).
AnalogyResult evaluate_analogies(const AnalogySet& questions, std::span<const std::string> vocab,
                                 std::span<const float> vectors, size_t dim,
                                 const AnalogyOptions& options = {});

}  // namespace vbq
