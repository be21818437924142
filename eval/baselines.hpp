// Baseline coders of the paper's Fig. 3 (docs/PROTOCOL.md, "Baselines").
//
//  - General-purpose compressors run on the stored grid (grid_bytes). Each
//    returns the WHOLE output of the real format, headers and checks included,
//    so its size() is the byte count the protocol asks for.
//  - grid_bytes: the paper's storage of a uniform grid (lib grid_values):
//    row-major int8 when q_max <= 127, int16 little-endian otherwise.
//  - kmeans_1d: the k-means (Lloyd) scalar quantizer of the paper's Sec. 4.2;
//    its centroids go to lib encode_codebook for entropy coding.
//  - bits_to_reach: the summary statistic of an R-D curve (docs/PROTOCOL.md,
//    "Summary ratios").
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vbq {

// ---------------------------------------------------------------------------
// General-purpose compressors, each as its command-line tool would write it.
//   gzip9         gzip format (RFC 1952) by zlib deflate, level 9, window 2^15
//                 (GNU gzip has its own deflate: sizes differ by ~0.05%).
//   bzip2_9       bzip2, block size 900k ("BZh9").
//   xz9e          .xz, preset 9 | extreme, CRC64 check (xz -9e), one block.
//   lzma_alone9e  legacy .lzma ("alone") container, preset 9e options, size
//                 field "unknown" + end marker, as the lzma tool writes; the
//                 container the paper used.
//   zstd19/22     zstd frame at level 19 / 22 with content size and the XXH64
//                 checksum the zstd CLI adds by default.
// Checked against the tools on 2e6 grid bytes (q_max 7): bzip2 and lzma
// byte-identical in size, xz +4 bytes (block header sizes), zstd +3 bytes
// (content size; `zstd < stdin` omits it), gzip +382 bytes.
enum class GeneralCompressor { gzip9, bzip2_9, xz9e, lzma_alone9e, zstd19, zstd22 };

inline constexpr GeneralCompressor kAllGeneralCompressors[] = {
    GeneralCompressor::gzip9,        GeneralCompressor::bzip2_9, GeneralCompressor::xz9e,
    GeneralCompressor::lzma_alone9e, GeneralCompressor::zstd19,  GeneralCompressor::zstd22};

// "gzip -9", "bzip2 -9", "xz -9e", "lzma -9e (.lzma)", "zstd -19", "zstd --ultra -22".
std::string compressor_label(GeneralCompressor c);

// The complete compressed file for `data` (any size, empty included).
// Deterministic. Throws ErrorKind::io when the library fails (e.g. out of memory).
std::string compress_bytes(GeneralCompressor c, std::string_view data);

// Inverse of compress_bytes for one complete stream of that format. Throws
// ErrorKind::corrupt on malformed, truncated or trailing data, ErrorKind::io on
// library failure.
std::string decompress_bytes(GeneralCompressor c, std::string_view compressed);

// ---------------------------------------------------------------------------
// The paper's storage of grid values q (from grid_values(mu, q_max)): one int8
// per value when q_max <= 127, else one int16, little-endian, in the order given.
// Requires 1 <= q_max <= 32767 and |q[i]| <= q_max (ErrorKind::argument naming
// the flat index otherwise).
std::string grid_bytes(std::span<const int32_t> q, int q_max);

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// R-D summaries.
struct RdPoint {
  std::string method, setting;
  uint64_t bytes = 0;
  double bits_per_dim = 0;        // 8 * bytes / dimensions (real file)
  double ideal_bits_per_dim = 0;  // empirical entropy of the symbols
  double quality = 0;             // e.g. Hits@10
};

enum class RdRate { file_bits, ideal_bits };  // which bits bits_to_reach reads

// The smallest rate at which one method's piecewise-linear R-D curve reaches
// `target_quality`:
//   sort the points by rate (ties by quality, ascending) and join consecutive
//   points by straight lines; walking this polyline from the lowest rate, return
//   the rate of the first point on it with quality >= target. That is
//     - the rate of the first point if its quality >= target;
//     - else, at the first segment (p_i, p_{i+1}) with q_i < target <= q_{i+1},
//       b_i + (target - q_i) / (q_{i+1} - q_i) * (b_{i+1} - b_i).
//   Because rate never decreases along the polyline, this is the smallest such
//   rate; later dips below target (noisy curves) do not matter.
// Returns NaN when no point reaches target (or the curve is empty).
// Throws ErrorKind::argument when points name different methods or carry a
// non-finite rate or a NaN quality.
double bits_to_reach(std::vector<RdPoint> curve_of_one_method, double target_quality,
                     RdRate rate = RdRate::file_bits);

}  // namespace vbq
