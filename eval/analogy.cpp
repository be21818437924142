#include "eval/analogy.hpp"

#include <cblas.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "formats/atomic_file.hpp"
#include "vbq/error.hpp"

namespace vbq {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Distinct vectors per screening chunk: U x 128 float32 similarities stay in cache.
constexpr size_t kChunkWords = 128;

// s(w) = p . n in double: float32 x float32 products are exact in double, and
// the sum runs in index order, so equal vectors give equal scores.
double exact_score(const float* p, const float* n, size_t dim) {
  double s = 0;
  for (size_t k = 0; k < dim; ++k) s += double(p[k]) * double(n[k]);
  return s;
}

// exact_score for kLanes (p, n) pairs at once: the same operations per pair,
// in independent chains the CPU can overlap.
constexpr size_t kLanes = 8;
void exact_scores(const float* const* p, const float* const* n, size_t dim, double* out) {
  double s[kLanes] = {};
  for (size_t k = 0; k < dim; ++k)
    for (size_t l = 0; l < kLanes; ++l) s[l] += double(p[l][k]) * double(n[l][k]);
  std::copy_n(s, kLanes, out);
}

// Bound on |screening score - s(w)| for float32 vectors of L2 norm <= 1 + 1e-3.
// Each float32 dot product of length dim is off by at most gamma = dim u / (1 - dim u)
// times the product of the norms (any summation order, FMA or not; u = 2^-24);
// the screening score sums three of them with two float32 additions (each off
// by at most 3.01 u), and p's own two roundings move s(w) by at most 6.02 u.
// Doubled for margin, plus an absolute term for float32 underflow.
double screening_bound(size_t dim) {
  const double u = 0x1p-24, n = double(dim) * u;
  if (n >= 0.25) return std::numeric_limits<double>::infinity();  // absurd dim: score every word exactly
  const double gamma = n / (1 - n) * 1.002;
  return 2 * (3 * gamma + 13 * u) + 1e-30;
}

struct Screen {
  uint32_t ua, ub, uc;  // rows of a, b, c among the distinct question words
  float lo, hi;         // words with screening score in [lo, hi] are scored exactly
};

// For each question, over one chunk of distinct vectors (columns of sim, row
// length ld, width <= kChunkWords; vector j stands for count[j] words):
// above[q] += #{words with screening score > hi}, and every (q, j) with a score
// inside [lo, hi] is appended to `inside`. Compiled for AVX2 too (picked at run time).
__attribute__((target_clones("avx2", "default"))) void screen_chunk(
    const Screen* screens, size_t Q, const float* sim, size_t ld, size_t width, const uint32_t* count,
    uint32_t* above, std::vector<std::pair<uint32_t, uint32_t>>& inside) {
  alignas(64) uint8_t flag[kChunkWords] = {};  // zero past width
  for (size_t q = 0; q < Q; ++q) {
    const Screen& s = screens[q];
    const float *sa = sim + s.ua * ld, *sb = sim + s.ub * ld, *sc = sim + s.uc * ld;
    uint32_t words = 0, n_inside = 0;
    for (size_t j = 0; j < width; ++j) {
      const float v = (sb[j] - sa[j]) + sc[j];
      words += v > s.hi ? count[j] : 0;
      flag[j] = (v >= s.lo) & (v <= s.hi);
      n_inside += flag[j];
    }
    above[q] += words;
    if (n_inside == 0) continue;
    for (size_t j0 = 0; j0 < kChunkWords; j0 += 8) {  // 8 flags per test
      uint64_t bits;
      std::memcpy(&bits, &flag[j0], 8);
      if (bits != 0)
        for (size_t j = j0; j < j0 + 8; ++j)
          if (flag[j]) inside.push_back({uint32_t(q), uint32_t(j)});
    }
  }
}

// Holds OpenBLAS at one thread while alive: our OpenMP threads share the chunks
// (pthread builds of OpenBLAS ignore OpenMP nesting and would oversubscribe).
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

  // Equal unit vectors score equally: screen each distinct vector once, with
  // the number of words that share it.
  std::vector<float> vectors_distinct;
  std::vector<uint32_t> words_sharing;
  {
    std::unordered_map<std::string_view, uint32_t> seen;
    seen.reserve(V);
    for (size_t i = 0; i < V; ++i) {
      const std::string_view bytes(reinterpret_cast<const char*>(&unit[i * dim]), dim * sizeof(float));
      auto [it, added] = seen.emplace(bytes, uint32_t(words_sharing.size()));
      if (added) {
        vectors_distinct.insert(vectors_distinct.end(), &unit[i * dim], &unit[i * dim] + dim);
        words_sharing.push_back(0);
      }
      ++words_sharing[it->second];
    }
  }
  const size_t G = words_sharing.size();

  // rank(q) = #{w not excluded : s(w) >= s(d)}, where the excluded set is {d}
  // or, with exclude_question_words, {a, b, c, d}.
  const size_t Q = covered.size();
  std::vector<int32_t> distinct_of(V, -1);  // row -> index among the distinct question words
  std::vector<uint32_t> distinct;
  for (const auto& r : covered)
    for (uint32_t row : r)
      if (distinct_of[row] < 0) {
        distinct_of[row] = int32_t(distinct.size());
        distinct.push_back(row);
      }
  const size_t U = distinct.size();
  std::vector<float> p(Q * dim), question_units(U * dim);
  for (size_t u = 0; u < U; ++u)
    std::copy_n(&unit[size_t(distinct[u]) * dim], dim, &question_units[u * dim]);
  std::vector<Screen> screens(Q);
  std::vector<double> answer_score(Q);
  const double delta = screening_bound(dim);
  for (size_t i = 0; i < Q; ++i) {
    const auto& r = covered[i];
    const float *na = &unit[r[0] * dim], *nb = &unit[r[1] * dim], *nc = &unit[r[2] * dim];
    float* pi = &p[i * dim];
    for (size_t k = 0; k < dim; ++k) pi[k] = (nb[k] - na[k]) + nc[k];  // float32
    answer_score[i] = exact_score(pi, &unit[r[3] * dim], dim);
    // Screening score > hi: s(w) > s(d) + delta; < lo: s(w) < s(d) - delta.
    const float lo = float(answer_score[i] - 2 * delta), hi = float(answer_score[i] + 2 * delta);
    screens[i] = {uint32_t(distinct_of[r[0]]), uint32_t(distinct_of[r[1]]), uint32_t(distinct_of[r[2]]),
                  std::nextafter(lo, -std::numeric_limits<float>::infinity()),
                  std::nextafter(hi, std::numeric_limits<float>::infinity())};
  }

  // #{w : s(w) >= s(d)}: per thread, summed (integers: any thread count agrees).
  std::vector<uint32_t> rank(Q, 0);
  const size_t chunks = (G + kChunkWords - 1) / kChunkWords;
  SingleThreadedBlas single_threaded_blas;
#pragma omp parallel if (chunks > 1 && Q > 0)
  {
    std::vector<uint32_t> ahead(Q, 0);
    std::vector<std::pair<uint32_t, uint32_t>> pending;  // (question, vector in chunk)
    std::vector<float> sim(U * kChunkWords);
#pragma omp for schedule(dynamic, 4) nowait
    for (size_t chunk = 0; chunk < chunks; ++chunk) {
      const size_t g0 = chunk * kChunkWords, width = std::min(kChunkWords, G - g0);
      const float* chunk_vectors = &vectors_distinct[g0 * dim];
      // sim (U x width) = question_units (U x dim) . chunk_vectors (width x dim)^T
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(U), int(width), int(dim), 1.0f,
                  question_units.data(), int(dim), chunk_vectors, int(dim), 0.0f, sim.data(), int(kChunkWords));
      pending.clear();
      screen_chunk(screens.data(), Q, sim.data(), kChunkWords, width, &words_sharing[g0], ahead.data(), pending);
      // Words inside a window: exact scores, kLanes (question, vector) pairs at a time.
      for (size_t i = 0; i < pending.size(); i += kLanes) {
        const float *ps[kLanes], *ns[kLanes];
        double score[kLanes];
        for (size_t l = 0; l < kLanes; ++l) {
          const auto [q, j] = pending[std::min(i + l, pending.size() - 1)];  // pad with the last pair
          ps[l] = &p[size_t(q) * dim];
          ns[l] = &chunk_vectors[size_t(j) * dim];
        }
        exact_scores(ps, ns, dim, score);
        for (size_t l = 0; l < kLanes && i + l < pending.size(); ++l) {
          const auto [q, j] = pending[i + l];
          if (score[l] >= answer_score[q]) ahead[q] += words_sharing[g0 + j];
        }
      }
    }
#pragma omp critical
    for (size_t q = 0; q < Q; ++q) rank[q] += ahead[q];
  }
  for (size_t i = 0; i < Q; ++i) {  // take out d (always counted) and each excluded word once
    const auto& r = covered[i];
    uint32_t count = rank[i] - 1;
    if (options.exclude_question_words)
      for (int k = 0; k < 3; ++k) {
        bool repeat = r[k] == r[3];
        for (int j = 0; j < k; ++j) repeat |= r[j] == r[k];
        if (!repeat && exact_score(&p[i * dim], &unit[r[k] * dim], dim) >= answer_score[i]) --count;
      }
    rank[i] = count;
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
