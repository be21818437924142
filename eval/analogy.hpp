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
#pragma once
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

// Parses questions-words.txt. Throws ErrorKind::io / ErrorKind::format naming the
// file and line (a non-section line that does not hold exactly 4 words).
AnalogySet read_analogy_questions(const std::string& path, bool lowercase);

struct AnalogyOptions {
  bool exclude_question_words = false;  // word2vec compute-accuracy convention
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
