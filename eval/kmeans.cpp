// 1-D k-means: see kmeans.hpp.
#include "eval/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "vbq/error.hpp"

namespace vbq {

namespace {

// Sorted values with prefix sums: the sufficient statistics of every
// contiguous cluster.
struct SortedData {
  std::vector<double> x;       // ascending
  std::vector<double> prefix;  // prefix[i] = x[0] + ... + x[i-1]

  double sum(size_t lo, size_t hi) const { return prefix[hi] - prefix[lo]; }
  double mean(size_t lo, size_t hi) const { return sum(lo, hi) / double(hi - lo); }
  // The value of x[lo, hi) nearest to v (lo < hi).
  double nearest(size_t lo, size_t hi, double v) const {
    auto it = std::lower_bound(x.begin() + std::ptrdiff_t(lo), x.begin() + std::ptrdiff_t(hi), v);
    if (it == x.begin() + std::ptrdiff_t(hi)) return x[hi - 1];
    if (it == x.begin() + std::ptrdiff_t(lo)) return *it;
    return v - *(it - 1) <= *it - v ? *(it - 1) : *it;
  }
  // Squared error of x[lo, hi) about its mean (direct pass: only for re-seeding).
  double sse(size_t lo, size_t hi) const {
    const double m = mean(lo, hi);
    double s = 0;
    for (size_t i = lo; i < hi; ++i) s += (x[i] - m) * (x[i] - m);
    return s;
  }
};

// starts[j] = first index of cluster j under nearest-centroid assignment with
// ties to the lower centroid (the predicate encode_codebook uses); starts[k] = n.
std::vector<size_t> assign(const SortedData& d, const std::vector<double>& c) {
  const size_t k = c.size();
  std::vector<size_t> starts(k + 1);
  starts[0] = 0;
  starts[k] = d.x.size();
  for (size_t j = 0; j + 1 < k; ++j) {
    const double lo = c[j], hi = c[j + 1];
    auto it = std::partition_point(d.x.begin() + std::ptrdiff_t(starts[j]), d.x.end(),
                                   [&](double v) { return v - lo <= hi - v; });
    starts[j + 1] = size_t(it - d.x.begin());
  }
  return starts;
}

std::vector<double> quantile_init(const SortedData& d, size_t k) {
  const size_t n = d.x.size();
  std::vector<double> c(k);
  for (size_t j = 0; j < k; ++j) c[j] = d.x[std::min(n - 1, size_t((double(j) + 0.5) * double(n) / double(k)))];
  return c;
}

std::vector<double> uniform_init(const SortedData& d, size_t k) {
  const double m = std::max(-d.x.front(), d.x.back());
  std::vector<double> c(k);
  for (size_t j = 0; j < k; ++j) c[j] = -m + (double(j) + 0.5) * 2 * m / double(k);
  return c;
}

// D^2 seeding on a subsample (the full O(nk) seeding would dominate the run).
std::vector<double> kmeans_pp_init(const SortedData& d, size_t k, uint64_t seed) {
  constexpr size_t kSample = size_t(1) << 17;
  std::mt19937_64 rng(seed);
  std::vector<double> sample;
  if (d.x.size() <= kSample) {
    sample = d.x;
  } else {
    std::uniform_int_distribution<size_t> pick(0, d.x.size() - 1);
    sample.resize(kSample);
    for (auto& v : sample) v = d.x[pick(rng)];
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> c;
  c.push_back(sample[size_t(unit(rng) * double(sample.size())) % sample.size()]);
  std::vector<double> dist2(sample.size());
  for (size_t i = 0; i < sample.size(); ++i) dist2[i] = (sample[i] - c[0]) * (sample[i] - c[0]);
  while (c.size() < k) {
    double total = 0;
    for (double w : dist2) total += w;
    if (total <= 0) break;  // every sample value is already a centroid
    double r = unit(rng) * total;
    size_t pick = sample.size() - 1;
    for (size_t i = 0; i < sample.size(); ++i) {
      r -= dist2[i];
      if (r < 0 && dist2[i] > 0) {
        pick = i;
        break;
      }
    }
    const double nc = sample[pick];
    c.push_back(nc);
    for (size_t i = 0; i < sample.size(); ++i) dist2[i] = std::min(dist2[i], (sample[i] - nc) * (sample[i] - nc));
  }
  // Missing centroids (fewer distinct sample values than k) are added by re-seeding.
  std::sort(c.begin(), c.end());
  return c;
}

// Makes the centroids strictly increasing, each owning >= 1 value, and k of them
// when the data has >= k distinct values: repeatedly splits the cluster with the
// largest squared error at its mean. Returns the assignment.
// Bounded so that a pathological drop/split cycle cannot loop forever.
std::vector<size_t> repair(const SortedData& d, std::vector<double>& c, size_t k) {
  for (size_t round = 0; round < 4 * k + 64; ++round) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    std::vector<size_t> starts = assign(d, c);
    std::vector<double> kept;
    for (size_t j = 0; j < c.size(); ++j)
      if (starts[j + 1] > starts[j]) kept.push_back(c[j]);
    if (kept.size() != c.size()) {
      c = std::move(kept);
      continue;
    }
    if (c.size() >= k) return starts;
    // Split: the cluster with the largest error that holds >= 2 distinct values.
    double best = 0;
    size_t best_j = c.size();
    for (size_t j = 0; j < c.size(); ++j) {
      const size_t lo = starts[j], hi = starts[j + 1];
      if (d.x[lo] == d.x[hi - 1]) continue;
      const double e = d.sse(lo, hi);
      if (best_j == c.size() || e > best) best = e, best_j = j;
    }
    if (best_j == c.size()) return starts;  // fewer than k distinct values
    const size_t lo = starts[best_j], hi = starts[best_j + 1];
    const double m = d.mean(lo, hi);
    // Lower part x <= m, upper part x > m: both nonempty since the range is not constant.
    const size_t mid = size_t(std::upper_bound(d.x.begin() + std::ptrdiff_t(lo), d.x.begin() + std::ptrdiff_t(hi), m) -
                              d.x.begin());
    // Centroids on data values own at least those values (distance 0).
    c[best_j] = d.nearest(lo, mid, d.mean(lo, mid));
    c.push_back(d.nearest(mid, hi, d.mean(mid, hi)));
  }
  // Cap reached: keep what owns values (removing an empty centroid moves nothing).
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  const std::vector<size_t> starts = assign(d, c);
  std::vector<double> kept;
  for (size_t j = 0; j < c.size(); ++j)
    if (starts[j + 1] > starts[j]) kept.push_back(c[j]);
  c = std::move(kept);
  return assign(d, c);
}

}  // namespace

std::vector<double> kmeans_1d(std::span<const double> values, int k, int iterations, uint64_t seed, KMeansInit init) {
  if (values.empty()) throw Error(ErrorKind::argument, "kmeans_1d: no values");
  if (k < 1) throw Error(ErrorKind::argument, "kmeans_1d: k must be >= 1, got " + std::to_string(k));
  if (iterations < 0) throw Error(ErrorKind::argument, "kmeans_1d: iterations must be >= 0");
  SortedData d;
  d.x.assign(values.begin(), values.end());
  for (size_t i = 0; i < d.x.size(); ++i)
    if (!std::isfinite(d.x[i]))
      throw Error(ErrorKind::argument, "kmeans_1d: non-finite value at flat index " + std::to_string(i));
  std::sort(d.x.begin(), d.x.end());
  d.prefix.resize(d.x.size() + 1);
  d.prefix[0] = 0;
  for (size_t i = 0; i < d.x.size(); ++i) d.prefix[i + 1] = d.prefix[i] + d.x[i];

  const size_t kk = size_t(k);
  std::vector<double> c = init == KMeansInit::quantiles ? quantile_init(d, kk)
                          : init == KMeansInit::uniform ? uniform_init(d, kk)
                                                        : kmeans_pp_init(d, kk, seed);
  std::vector<size_t> starts = repair(d, c, kk);
  for (int it = 0; it < iterations; ++it) {
    for (size_t j = 0; j < c.size(); ++j) c[j] = d.mean(starts[j], starts[j + 1]);
    std::vector<size_t> next = repair(d, c, kk);
    if (next == starts) break;  // Lloyd fixed point: the means are already c
    starts = std::move(next);
  }
  return c;
}

}  // namespace vbq
