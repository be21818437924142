#include "vbq/refinement.hpp"

#include "parallel.hpp"


#include <algorithm>
#include <cmath>
#include <limits>

#include "vbq/symbol_stream.hpp"

namespace vbq {

namespace {

// Code points of the table sorted by reconstruction, with their code lengths.
struct Table {
  std::vector<CodeKey> keys;   // sorted by value (F^{-1} is monotone)
  std::vector<double> values;  // F^{-1}(xi)
  std::vector<double> bits;    // -log2 p(xi)
  double min_bits = 0;
};

// Bits a table entry field costs in the container (a varint).
double varint_bits(uint64_t v) { return 8.0 * varint_bytes(v); }

Table build_table(const Prior& prior, std::span<const CodeKey> keys, RefinementPass& pass) {
  std::vector<CodeKey> sorted(keys.begin(), keys.end());
  std::sort(sorted.begin(), sorted.end());
  Table t;
  std::vector<uint64_t> counts;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    t.keys.push_back(sorted[i]);
    counts.push_back(j - i);
    i = j;
  }
  // Keys sort by rate first; F^{-1}(xi) order is needed for the search.
  std::vector<size_t> order(t.keys.size());
  std::vector<double> value(t.keys.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i, value[i] = reconstruct(prior, t.keys[i]);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return value[a] < value[b]; });
  const double n = double(keys.size());
  pass = RefinementPass{};
  pass.table_size = t.keys.size();
  CodeKey prev = 0;
  for (size_t i = 0; i < t.keys.size(); ++i) {
    pass.payload_bits += double(counts[i]) * -std::log2(double(counts[i]) / n);
    pass.table_bits += varint_bits(t.keys[i] - prev) + varint_bits(counts[i]);  // freq ~ count scale
    prev = t.keys[i];
  }
  Table s;
  s.min_bits = std::numeric_limits<double>::infinity();
  for (size_t i : order) {
    s.keys.push_back(t.keys[i]);
    s.values.push_back(value[i]);
    s.bits.push_back(-std::log2(double(counts[i]) / n));
    s.min_bits = std::min(s.min_bits, s.bits.back());
  }
  return s;
}

// Best table entry for one coordinate: walk outwards from mu until the distortion
// alone exceeds the best loss found.
CodeKey best_entry(const Table& t, double mu, double sigma, double lambda) {
  const double penalty = 2.0 * lambda * sigma * sigma;
  const double floor_rate = penalty * t.min_bits;
  size_t right = std::lower_bound(t.values.begin(), t.values.end(), mu) - t.values.begin();
  double best = std::numeric_limits<double>::infinity();
  size_t best_i = 0;
  auto consider = [&](size_t i) {
    double d = t.values[i] - mu, loss = d * d + penalty * t.bits[i];
    if (loss < best || (loss == best && i < best_i)) best = loss, best_i = i;
  };
  for (size_t i = right; i < t.values.size(); ++i) {
    double d = t.values[i] - mu;
    if (d * d + floor_rate > best) break;
    consider(i);
  }
  for (size_t i = right; i-- > 0;) {
    double d = mu - t.values[i];
    if (d * d + floor_rate > best) break;
    consider(i);
  }
  return t.keys[best_i];
}

}  // namespace

CodeKeys refine_code_points(const Prior& prior, std::span<const double> mu, std::span<const double> sigma,
                            double lambda, CodeKeys keys, int max_passes, int threads,
                            std::vector<RefinementPass>* log, size_t segment_symbols) {
  [[maybe_unused]] const int nthreads = resolve_threads(threads);
  const int64_t n = int64_t(keys.size());
  if (n == 0) return keys;
  const size_t seg = segment_symbols > 0 ? segment_symbols : size_t(n);
  const size_t segments = (size_t(n) + seg - 1) / seg;
  // One table per segment; the pass totals sum over them.
  auto build_tables = [&](std::span<const CodeKey> k, RefinementPass& total) {
    std::vector<Table> tables(segments);
    total = RefinementPass{};
    for (size_t s = 0; s < segments; ++s) {
      RefinementPass p;
      tables[s] = build_table(prior, std::span(k).subspan(s * seg, std::min(seg, size_t(n) - s * seg)), p);
      total.table_size += p.table_size;
      total.payload_bits += p.payload_bits;
      total.table_bits += p.table_bits;
    }
    return tables;
  };
  RefinementPass pass;
  std::vector<Table> tables = build_tables(keys, pass);
  auto squared_error = [&](std::span<const CodeKey> k) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      double d = reconstruct(prior, k[i]) - mu[i];
      sum += d * d;
    }
    return sum;
  };
  if (log) pass.squared_error = squared_error(keys), log->push_back(pass);
  double size_bits = pass.payload_bits + pass.table_bits;
  for (int p = 0; p < max_passes; ++p) {
    CodeKeys next(keys.size());  // every element written below
VBQ_OMP(parallel for schedule(static, 4096) num_threads(nthreads))
    for (int64_t i = 0; i < n; ++i) next[i] = best_entry(tables[size_t(i) / seg], mu[i], sigma[i], lambda);
    RefinementPass np;
    std::vector<Table> next_tables = build_tables(next, np);
    double next_bits = np.payload_bits + np.table_bits;
    if (log) np.squared_error = squared_error(next), log->push_back(np);
    keys = std::move(next);
    tables = std::move(next_tables);
    if (next_bits > size_bits * 0.999) break;
    size_bits = next_bits;
  }
  return keys;
}

}  // namespace vbq
