// Word-analogy task (Mikolov et al. 2013), exactly as ../shared/PROTOCOL.md fixes it.
//
// Questions: questions-words.txt; a line starting with ':' opens a section, every
// other line is "a b c d" (a : b = c : d). A question is skipped (and counted) when
// any of its words is out of vocabulary.
// Scoring: n(v) = v / (||v||_2 + 1e-8); p = n(b) - n(a) + n(c) (not renormalised);
// s(w) = p . n(w) for every vocabulary word w (a, b, c included by default).
// rank = #{w : s(w) >= s(d)} - 1  (ties count AGAINST the answer).
// Hits@k = mean [rank < k]; MRR = mean 1 / (1 + rank), over covered questions.
// Scores are computed with BLAS sgemm in blocks of questions; results do not
// depend on the thread count.
// Normalisation detail: ||v|| is accumulated in double and rounded to float32,
// then n = v / (||v|| + 1e-8f) in float32. p = (n(b) - n(a)) + n(c) in float32.
// Each score comes from one single-threaded sgemm call of shape
// kAnalogyQuestionBlock (fewer for the last block) x V x dim, questions taken
// in file order; numpy's P[i:i+B] @ N.T under OPENBLAS_NUM_THREADS=1 gives the
// same bits. (OpenBLAS's values depend on its thread count and tile position, so
// OpenBLAS is held at one thread during the call, a process-wide setting restored
// on return; our OpenMP threads share the blocks.) Memory: one block of scores,
// kAnalogyQuestionBlock x V float32 (200 MB at V = 100,000), per OpenMP thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vbq {

// Questions per sgemm call (fixed, never derived from the thread count).
inline constexpr size_t kAnalogyQuestionBlock = 512;

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
