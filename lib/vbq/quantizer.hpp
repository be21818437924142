// Variational Bayesian Quantization: Algorithm 1 of the paper (Sec. 3.3).
//
// For each coordinate with posterior N(mu, sigma^2) and prior CDF F, pick the
// code point xi = (0.b1...bR)_2 minimising Eq. 9:
//     l_lambda(xi) = (F^{-1}(xi) - mu)^2 + 2 lambda sigma^2 R(xi),
// where R(xi) is the number of binary digits of xi (its shortest form, bR = 1).
//
// A code point is held as a CodeKey: the bit string "1 b1 ... bR" read as an
// integer, i.e. key = 2^R + 2^R xi. So xi = 1/2 is key 3 (0b11), 1/4 is 0b101,
// 3/4 is 0b111. Keys are unique, R(xi) = floor(log2 key), and the decoder needs
// only integers to tell code points apart.
//
// Algorithm 1 runs in tail coordinates: for mu above the prior median it works on
// 1 - xi (the dyadic grid is symmetric), so code points near xi = 1 keep the same
// relative precision as those near 0. Termination (paper's rule, multiplied by
// 2 sigma^2): stop after rate r once l* < 2 lambda sigma^2 (r + 1), because every
// longer code point costs at least that much. r is capped at kMaxRateBits.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "vbq/buffer.hpp"
#include "vbq/prior.hpp"

namespace vbq {

using CodeKey = uint64_t;

// A model's code keys, one per coordinate (often 10^7 or more), in storage
// that the threads of quantize() fault in and write once (buffer.hpp).
using CodeKeys = UninitializedVector<CodeKey>;

// Longest code point considered: xi resolves down to 2^-62 (a Gaussian prior's
// +-8.2 std). Means farther out in the tails are clipped to the outermost code point.
inline constexpr int kMaxRateBits = 62;

// R(xi) of a key: its number of binary digits.
inline int rate_bits(CodeKey key) { return 63 - __builtin_clzll(key); }

// The shortest key of xi = numerator / 2^r (0 < numerator < 2^r).
CodeKey code_key(uint64_t numerator, int r);

// F^{-1}(xi) for the code point `key`, evaluated on the tail side (no 1 - xi
// rounding). Requires 2 <= key < 2^(kMaxRateBits+1) with a nonzero fractional part.
double reconstruct(const Prior& prior, CodeKey key);

// Precomputed F^{-1} at every dyadic point of rate <= kTableRateBits, so that
// Algorithm 1's short candidates cost a table lookup (the paper's hot path).
class CodePointTable {
 public:
  static constexpr int kTableRateBits = 16;
  explicit CodePointTable(const Prior& prior);
  const Prior& prior() const { return prior_; }
  // F^{-1}(k / 2^r) for the tail coordinate k / 2^r <= 1/2 on the given side
  // (upper: xi = 1 - k / 2^r). Requires 0 < k <= 2^(r-1).
  double tail_quantile(uint64_t k, int r, bool upper) const;
  double reconstruct(CodeKey key) const;

 private:
  const Prior& prior_;
  std::vector<double> lower_, upper_;  // index j: F^{-1}(j / 2^16), F^{-1}(1 - j / 2^16)
};

// The escape, a candidate beside the code points: the mean itself, sent as a
// float32 at `bits` bits (the codec's kEscapeBits). Its key is kEscapeKey, which
// no code point has. It wins where its Eq. 9, (fl32(mu) - mu)^2 + penalty bits,
// is below the best code point's (penalty = 2 lambda sigma^2).
inline constexpr CodeKey kEscapeKey = 0;
inline bool escape_wins(double mu, double penalty, double bits, double code_point_loss) {
  const double e = double(float(mu)) - mu;
  return e * e + penalty * bits < code_point_loss;
}

class LevelTable;

// Below this many coordinates a Quantizer's fast tables do not pay for their check.
inline constexpr size_t kMinFastCoordinates = size_t(1) << 18;

// Algorithm 1's tables for one prior, built once for any number of calls: the
// CodePointTable and, where they are exact for this prior (checked once, ~10 ms),
// the tables by which quantize() finds most code points without F(mu).
class Quantizer {
 public:
  // fast: build and check the descent tables (worth it from ~2^18 coordinates on).
  // avx2: descend 16 coordinates at once where the CPU has AVX2 (false: the
  // portable descent alone; both give the same keys, and the tests hold them to it).
  Quantizer(const Prior& prior, bool fast = true, int threads = 0, bool avx2 = true);
  ~Quantizer();
  // Algorithm 1 for every coordinate into keys (same size), on `threads` threads
  // (0 = all cores); the result does not depend on the thread count. With
  // escape_bits > 0 the escape is a candidate too (key kEscapeKey where it wins).
  // Throws ErrorKind::argument if lambda <= 0, the sizes differ or max_rate_bits
  // is outside 1..kMaxRateBits.
  void quantize(std::span<const double> mu, std::span<const double> sigma, double lambda, std::span<CodeKey> keys,
                int threads = 0, int max_rate_bits = kMaxRateBits, double escape_bits = 0) const;
  const CodePointTable& table() const { return table_; }

 private:
  const Prior& prior_;
  CodePointTable table_;
  std::unique_ptr<const LevelTable> levels_;  // CodePointTable's points, level by level
  double width_ = 0;  // of the bands around the table's points
  bool descend_ = false;  // levels_ may be descended; otherwise F(mu) for every coordinate
  bool avx2_ = true;
};

// Algorithm 1 for one coordinate. Requires sigma > 0, lambda > 0, finite mu.
CodeKey quantize_one(const CodePointTable& table, double mu, double sigma, double lambda,
                     int max_rate_bits = kMaxRateBits);

// Algorithm 1 for every coordinate: Quantizer(prior, fast from
// kMinFastCoordinates on).quantize(...) into new storage.
CodeKeys quantize(const Prior& prior, std::span<const double> mu, std::span<const double> sigma, double lambda,
                  int threads = 0, int max_rate_bits = kMaxRateBits);

// Algorithm 1 exactly as the paper prints it, in plain code: the twin that the
// tests hold quantize() and quantize_one() to. No tables, no descent: each
// candidate costs one call of F^{-1}. It returns the same key, bit for bit: it
// evaluates Eq. 9 with the same floating-point operations and visits the same
// candidates (within a rate in the paper's order, left then right; the fast path
// takes the tail side's floor first, so only an exact tie in Eq. 9 between the two
// can be broken the other way). Same requirements as quantize_one. Where Eq. 9
// overflows for every candidate (|mu - F^{-1}(xi)| beyond ~1e154) all three forms
// minimise the equivalent (F^{-1}(xi) - mu)^2 - mu^2, scaled by a power of two:
// the same code point without overflow. Returns 0, the paper's "null", only if
// 2 lambda sigma^2 R is beyond the double range (the fast forms then return the
// invalid key 1).
CodeKey quantize_reference(const Prior& prior, double mu, double sigma, double lambda,
                           int max_rate_bits = kMaxRateBits);

}  // namespace vbq
