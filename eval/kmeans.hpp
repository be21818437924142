// 1-D k-means: the k-means (Lloyd) scalar quantizer of the paper's Sec. 4.2; its
// centroids go to lib encode_codebook for entropy coding.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace vbq {

// 1-D k-means (Lloyd's algorithm), exact.
//
// In 1-D each cluster of a Lloyd assignment is a contiguous range of the sorted
// values, so one iteration is k binary searches plus k range means from prefix
// sums: O(k log n) after one O(n log n) sort. Assignment matches encode_codebook
// (nearest centroid, exact midpoint ties to the lower one).
//
// Initialisation:
//   kmeans_plus_plus  (default) D^2 seeding (Arthur & Vassilvitskii) on a
//                     seeded random subsample of at most 2^17 values.
//   quantiles         c_j = the ((j + 1/2) / k)-quantile of the values; ignores seed.
//   uniform           the midpoints of k equal cells over [-m, m], m = max|x|;
//                     ignores seed. For k = 2 q_max + 1 these are exactly the
//                     levels of the paper's grid (encode_grid), and since Lloyd
//                     never increases the error, the result's MSE is at most
//                     that grid's.
// Lloyd only finds a local optimum, and in 1-D it creeps slowly: measured on
// 10^6 N(0,1) values with k = 255, k-means++ reaches MSE 4.17e-5 (the
// high-rate optimum is ~4.18e-5) within 1000 iterations; quantiles stall at
// 5.8e-5, uniform at 7.2e-5. For k = 15 all three agree. Use >= 1000
// iterations; a converged run stops early.
// An empty cluster (or a duplicate centroid) is re-seeded by splitting the
// cluster with the largest squared error at its mean, so every returned
// centroid owns at least one value.
// Stops after `iterations` updates or when the assignment no longer changes.
//
// Returns strictly increasing centroids: k of them, or the distinct values
// when there are fewer than k (then the quantization error is zero).
// Deterministic for given (values, k, iterations, seed, init).
// Requires nonempty finite values, k >= 1, iterations >= 0 (ErrorKind::argument).
enum class KMeansInit { kmeans_plus_plus, quantiles, uniform };
std::vector<double> kmeans_1d(std::span<const double> values, int k, int iterations, uint64_t seed,
                              KMeansInit init = KMeansInit::kmeans_plus_plus);

}  // namespace vbq
