#include "eval/analogy.hpp"

#include <cblas.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "formats/atomic_file.hpp"
#include "vbq/error.hpp"

namespace vbq {
namespace {

// What we learned measuring OpenBLAS 0.3.21 (read before changing the blocking):
// an sgemm element's value depends on where it sits in the call (edge tiles use
// other kernels) and on OpenBLAS's own thread count. So every score comes from
// one sgemm call of a fixed shape, kAnalogyQuestionBlock questions x all V words,
// run single-threaded; the blocks are shared among OpenMP threads. Scores, and so
// ranks, are then the same for any thread count, and numpy's
// P[i:i+B] @ N.T with OPENBLAS_NUM_THREADS=1 reproduces them bit for bit.

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// #{i : row[i] >= t}. Exact integer count; compiled for AVX2 too (picked at run time).
__attribute__((target_clones("avx2", "default"))) uint32_t count_at_least(const float* row, size_t n, float t) {
  uint32_t c = 0;
  for (size_t i = 0; i < n; ++i) c += row[i] >= t;
  return c;
}

// Holds OpenBLAS at one thread while alive (pthread builds ignore OpenMP nesting).
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : saved_(openblas_get_num_threads()) {
    if (saved_ != 1) openblas_set_num_threads(1);
  }
  ~SingleThreadedBlas() {
    if (saved_ != 1) openblas_set_num_threads(saved_);
  }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int saved_;
};

}  // namespace

AnalogySet read_analogy_questions(const std::string& path, bool lowercase) {
  const std::string bytes = read_file_bytes(path);
  AnalogySet set;
  size_t pos = 0, line = 0;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string::npos) nl = bytes.size();
    ++line;
    std::string_view text(bytes.data() + pos, nl - pos);
    pos = nl + 1;
    while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
    if (text.empty()) continue;
    const std::string where = "analogy questions '" + path + "', line " + std::to_string(line) + ": ";
    if (text.front() == ':') {
      text.remove_prefix(1);
      while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
      if (text.empty()) throw Error(ErrorKind::format, where + "section line ':' without a name");
      set.sections.emplace_back(text);
      continue;
    }
    AnalogyQuestion q;
    size_t count = 0, i = 0;
    while (i < text.size()) {
      while (i < text.size() && is_blank(text[i])) ++i;
      size_t j = i;
      while (j < text.size() && !is_blank(text[j])) ++j;
      if (j > i) {
        if (count < 4) q.words[count].assign(text.substr(i, j - i));
        ++count;
      }
      i = j;
    }
    if (count != 4)
      throw Error(ErrorKind::format,
                  where + "expected 4 words \"a b c d\", found " + std::to_string(count) + ": '" +
                      std::string(text.substr(0, 80)) + "'");
    if (set.sections.empty()) set.sections.emplace_back("(unsectioned)");
    if (lowercase)
      for (auto& w : q.words)
        for (char& c : w) c = char(std::tolower(static_cast<unsigned char>(c)));
    q.section = uint32_t(set.sections.size() - 1);
    q.line = line;
    set.questions.push_back(std::move(q));
  }
  return set;
}

AnalogyResult evaluate_analogies(const AnalogySet& questions, std::span<const std::string> vocab,
                                 std::span<const float> vectors, size_t dim, const AnalogyOptions& options) {
  if (dim == 0) throw Error(ErrorKind::argument, "analogy: vector dimension must be at least 1");
  if (vectors.size() != vocab.size() * dim)
    throw Error(ErrorKind::argument, "analogy: " + std::to_string(vectors.size()) + " values for " +
                                         std::to_string(vocab.size()) + " words of dimension " + std::to_string(dim));
  const size_t V = options.top_words ? std::min(options.top_words, vocab.size()) : vocab.size();
  if (V > size_t(std::numeric_limits<int>::max()) || dim > size_t(std::numeric_limits<int>::max()))  // BLAS ints
    throw Error(ErrorKind::argument, "analogy: vocabulary or dimension too large");

  // Row of each word; a repeated word keeps its first (most frequent) row.
  std::unordered_map<std::string_view, uint32_t> row_of;
  row_of.reserve(V);
  for (size_t i = 0; i < V; ++i) row_of.emplace(vocab[i], uint32_t(i));

  AnalogyResult result;
  result.per_section.resize(questions.sections.size());
  std::vector<std::array<uint32_t, 4>> covered;  // rows of a, b, c, d
  std::vector<uint32_t> covered_section;
  for (const AnalogyQuestion& q : questions.questions) {
    if (q.section >= questions.sections.size())
      throw Error(ErrorKind::argument, "analogy: question on line " + std::to_string(q.line) +
                                           " names section " + std::to_string(q.section) + " of " +
                                           std::to_string(questions.sections.size()));
    ++result.per_section[q.section].total;
    std::array<uint32_t, 4> rows;
    bool ok = true;
    for (int k = 0; k < 4 && ok; ++k) {
      auto it = row_of.find(q.words[k]);
      ok = it != row_of.end();
      if (ok) rows[k] = it->second;
    }
    if (!ok) continue;
    covered.push_back(rows);
    covered_section.push_back(q.section);
  }
  result.overall.total = questions.questions.size();
  result.overall.covered = covered.size();

  // n(v) = v / (||v||_2 + 1e-8) in float32; the norm is accumulated in double
  // (each square exact) and rounded once to float32.
  std::vector<float> unit(V * dim);
  for (size_t i = 0; i < V; ++i) {
    const float* v = vectors.data() + i * dim;
    double sum_sq = 0;
    for (size_t k = 0; k < dim; ++k) {
      if (!std::isfinite(v[k]))
        throw Error(ErrorKind::argument, "analogy: non-finite value in the vector of word " + std::to_string(i) +
                                             " ('" + vocab[i] + "'), component " + std::to_string(k));
      sum_sq += double(v[k]) * double(v[k]);
    }
    const float denom = float(std::sqrt(sum_sq)) + 1e-8f;
    for (size_t k = 0; k < dim; ++k) unit[i * dim + k] = v[k] / denom;
  }

  // rank(q) = #{w not excluded : s(w) >= s(d)}, where the excluded set is {d}
  // (so this is #{w : s(w) >= s(d)} - 1) or, with exclude_question_words, {a, b, c, d}.
  const size_t Q = covered.size(), B = kAnalogyQuestionBlock;
  const size_t blocks = (Q + B - 1) / B;
  std::vector<uint32_t> rank(Q, 0);
  SingleThreadedBlas single_threaded_blas;
#pragma omp parallel if (blocks > 1)
  {
    std::vector<float> p, scores;
#pragma omp for schedule(dynamic, 1)
    for (size_t blk = 0; blk < blocks; ++blk) {
      const size_t q0 = blk * B, m = std::min(B, Q - q0);
      p.resize(m * dim);
      scores.resize(m * V);
      for (size_t i = 0; i < m; ++i) {
        const auto& r = covered[q0 + i];
        const float *na = &unit[r[0] * dim], *nb = &unit[r[1] * dim], *nc = &unit[r[2] * dim];
        for (size_t k = 0; k < dim; ++k) p[i * dim + k] = (nb[k] - na[k]) + nc[k];  // float32, as numpy
      }
      // scores (m x V) = p (m x dim) . unit (V x dim)^T
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(V), int(dim), 1.0f, p.data(), int(dim),
                  unit.data(), int(dim), 0.0f, scores.data(), int(V));
      for (size_t i = 0; i < m; ++i) {
        const auto& r = covered[q0 + i];
        const float* row = &scores[i * V];
        const float t = row[r[3]];
        uint32_t count = count_at_least(row, V, t);
        const int first = options.exclude_question_words ? 0 : 3;
        for (int k = first; k < 4; ++k) {  // take out each excluded word once
          bool repeat = false;
          for (int j = first; j < k; ++j) repeat |= r[j] == r[k];
          if (!repeat && row[r[k]] >= t) --count;
        }
        rank[q0 + i] = count;
      }
    }
  }

  // Hits@k = mean [rank < k]; MRR = mean 1 / (1 + rank), in file order.
  auto add = [](AnalogyScore& s, uint32_t r) {
    s.hits1 += r < 1;
    s.hits10 += r < 10;
    s.mrr += 1.0 / (1.0 + double(r));
  };
  auto finish = [](AnalogyScore& s) {
    if (s.covered == 0) return;
    s.hits1 /= double(s.covered);
    s.hits10 /= double(s.covered);
    s.mrr /= double(s.covered);
  };
  for (size_t i = 0; i < Q; ++i) {
    add(result.overall, rank[i]);
    AnalogyScore& s = result.per_section[covered_section[i]];
    ++s.covered;
    add(s, rank[i]);
  }
  finish(result.overall);
  for (auto& s : result.per_section) finish(s);
  result.ranks = std::move(rank);
  return result;
}

}  // namespace vbq
