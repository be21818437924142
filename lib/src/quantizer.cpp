#include "vbq/quantizer.hpp"

#include "parallel.hpp"


#include <algorithm>
#include <bit>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <cmath>
#include <limits>
#include <string>

#include "vbq/error.hpp"

namespace vbq {

CodeKey code_key(uint64_t numerator, int r) {
  int tz = __builtin_ctzll(numerator);
  return (uint64_t(1) << (r - tz)) | (numerator >> tz);
}

namespace {
// A code point as a tail coordinate: key = 2^R + n with xi = n / 2^R and n odd, so
// the tail is k / 2^R with k = min(n, 2^R - n), on the upper side when n > 2^(R-1).
struct Tail {
  uint64_t k;
  int r;
  bool upper;
};
Tail tail_of(CodeKey key) {
  int r = rate_bits(key);
  uint64_t n = key - (uint64_t(1) << r);
  bool upper = n > (uint64_t(1) << (r - 1));
  return {upper ? (uint64_t(1) << r) - n : n, r, upper};
}
}  // namespace

double reconstruct(const Prior& prior, CodeKey key) {
  Tail t = tail_of(key);
  double p = std::ldexp(double(t.k), -t.r);
  return t.upper ? prior.quantile_upper(p) : prior.quantile_lower(p);
}

CodePointTable::CodePointTable(const Prior& prior) : prior_(prior) {
  const size_t n = (size_t(1) << (kTableRateBits - 1)) + 1;
  lower_.resize(n);
  upper_.resize(n);
  for (size_t j = 1; j < n; ++j) {
    double p = std::ldexp(double(j), -kTableRateBits);
    lower_[j] = prior.quantile_lower(p);
    upper_[j] = prior.quantile_upper(p);
  }
}

double CodePointTable::tail_quantile(uint64_t k, int r, bool upper) const {
  if (r <= kTableRateBits) {
    size_t j = size_t(k) << (kTableRateBits - r);
    return upper ? upper_[j] : lower_[j];
  }
  double t = std::ldexp(double(k), -r);
  return upper ? prior_.quantile_upper(t) : prior_.quantile_lower(t);
}

double CodePointTable::reconstruct(CodeKey key) const {
  Tail t = tail_of(key);
  return tail_quantile(t.k, t.r, t.upper);
}

namespace {

// Half-width of the band around every tabulated boundary F^{-1}(j / 2^16) inside
// which mu is too close to the boundary to place t by comparison: kBandRel times
// the largest |boundary| plus the distance between the outermost ones. One width
// for all boundaries keeps it off the descent's critical path.
constexpr double kBandRel = 1e-10;
double band_width(const CodePointTable& table) {
  constexpr int kBits = CodePointTable::kTableRateBits;
  const double lo = table.tail_quantile(1, kBits, false), hi = table.tail_quantile(1, kBits, true);
  return kBandRel * (std::max(std::fabs(lo), std::fabs(hi)) + (hi - lo));
}

}  // namespace

// The CodePointTable's points of rate <= 16 again (the same doubles), stored
// level by level: rate r, k odd at index 2^r / 4 + k / 2, the upper side negated.
// The first ten levels, which Algorithm 1 visits most, then share 8 KiB per side
// instead of a cache line each.
class LevelTable {
 public:
  static constexpr int kBits = CodePointTable::kTableRateBits;
  static constexpr size_t kSide = size_t(1) << (kBits - 1);  // entries per side
  explicit LevelTable(const CodePointTable& table) : table_(table), levels_(2 * kSide) {
    for (int side = 0; side < 2; ++side)
      for (int r = 1; r <= kBits; ++r)
        for (uint64_t k = 1; k <= (uint64_t(1) << (r - 1)); k += 2)
          levels_[side * kSide + index(k, r)] =
              side == 1 ? -table.tail_quantile(k, r, true) : table.tail_quantile(k, r, false);
  }
  static size_t index(uint64_t k, int r) { return ((size_t(1) << r) >> 2) + size_t(k >> 1); }
  // F^{-1}(k / 2^r) on the tail side, as CodePointTable::tail_quantile (k odd).
  double operator()(uint64_t k, int r, bool upper) const {
    if (r > kBits) return table_.tail_quantile(k, r, upper);
    const double v = side(upper)[index(k, r)];
    return upper ? -v : v;
  }
  // The side's levels, negated on the upper side, so that they grow with t there
  // too; the upper side follows the lower one, kSide entries on.
  const double* side(bool upper) const { return levels_.data() + (upper ? kSide : 0); }

 private:
  const CodePointTable& table_;
  std::vector<double> levels_;
};

namespace {

// The key of the tail point k / 2^r (k odd): xi = k / 2^r, or 1 - k / 2^r if upper.
inline CodeKey key_of(uint64_t k, int r, bool upper) {
  const uint64_t n = upper ? (uint64_t(1) << r) - k : k;
  return (uint64_t(1) << r) | n;
}

// Eq. 9's distortion (q - mu)^2 overflows once |q - mu| passes ~1e154, and then no
// candidate has a finite loss. Minimising (q - mu)^2 - mu^2 = q (q - 2 mu) instead
// gives the same minimiser; scaled by s^2, s = 2^-ilogb(mu) (exact: a power of two),
// nothing overflows and mu^2 does not swamp the differences between candidates.
double offset_scale(double mu) { return std::fabs(mu) > 1.0 ? std::ldexp(1.0, -std::ilogb(mu)) : 1.0; }
double offset_loss(double q, double mu, double s) { return (s * q) * (s * q - 2.0 * (s * mu)); }

// Algorithm 1 in tail coordinates (see the header), from t = F(mu) (or 1 - F(mu)):
// one prior CDF call, the dearest step, then the floor and ceil of 2^r t for each
// rate r. Of the two, one is a point of rate < r seen before (same loss: skipped).
// quantile(k, r): F^{-1} of the tail point k / 2^r on this side (k odd, k / 2^r <= 1/2).
// kOffset: Eq. 9 minus the constant mu^2, scaled by s^2 (see offset_loss), for a mu
// so far out that (F^{-1}(xi) - mu)^2 overflows for every candidate.
// loss: set to the best code point's Eq. 9 (+inf in the offset form).
template <bool kOffset = false, class Quantile>
inline CodeKey search(Quantile&& quantile, const Prior& prior, double mu, double penalty, bool upper,
                      int max_rate_bits, double& loss, double scale = 1.0) {
  const double t = upper ? prior.upper(mu) : prior.lower(mu);
  uint64_t best_k = 0;
  int best_r = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  uint64_t prev_left = 0, prev_right = 0;  // same point as at r-1: same loss, skip
  auto consider = [&](uint64_t k, int r) {
    int tz = __builtin_ctzll(k);
    double loss;
    if constexpr (kOffset) {
      loss = offset_loss(quantile(k >> tz, r - tz), mu, scale) + penalty * (r - tz);
    } else {
      double d = quantile(k >> tz, r - tz) - mu;
      loss = d * d + penalty * (r - tz);
    }
    if (loss < best_loss) best_loss = loss, best_k = k >> tz, best_r = r - tz;
  };
  // Eq. 9 of the best point, for the stopping rule (offset form: add (s mu)^2 back).
  auto best_eq9 = [&] {
    if constexpr (kOffset) return best_loss + (scale * mu) * (scale * mu);
    else return best_loss;
  };
  double pow2 = 1.0;  // 2^r; t * 2^r is exact (t <= 1/2, r <= 62), like ldexp but cheaper
  for (int r = 1; r <= max_rate_bits; ++r) {
    pow2 *= 2.0;
    double scaled = t * pow2;
    uint64_t left = uint64_t(scaled);
    uint64_t right = double(left) == scaled && left != 0 ? left : left + 1;  // t underflowed to 0: 2^-r
    // Candidates 2^-r floor(2^r t) and 2^-r ceil(2^r t); t = 0 (xi = 0 or 1) is excluded.
    if (left != 0 && left != 2 * prev_left) consider(left, r);
    if (right != 0 && right != 2 * prev_right && right != left) consider(right, r);
    prev_left = left;
    prev_right = right;
    if (best_eq9() < penalty * (r + 1)) break;
  }
  if constexpr (!kOffset) {
    if (best_r == 0) {  // no candidate had a finite Eq. 9: |mu - F^{-1}(xi)| beyond ~1e154
      const double s = offset_scale(mu);
      return search<true>(quantile, prior, mu, penalty * s * s, upper, max_rate_bits, loss, s);
    }
  }
  loss = kOffset ? std::numeric_limits<double>::infinity() : best_loss;
  return key_of(best_k, best_r, upper);
}

// search() without F(mu), for rates up to 16 (only once bands_hold() said yes for
// this table): t lies above the midpoint mid / 2^r = (2 floor(2^(r-1) t) + 1) / 2^r
// iff mu lies beyond that midpoint's tabulated quantile, certain outside its band.
// The midpoint (rate exactly r) is the one new candidate of rate r, so one table
// load serves both the descent and its loss. Negation is exact, so the signed
// comparisons and difference (levels: LevelTable::side(); smu: mu, negated on the
// upper side) decide and compute exactly what mu and the quantile would: where it
// returns true, k / 2^r, the loss and the visits are search()'s. It returns false,
// for search() to decide, where mu falls in a band, no rate up to max_r stops, or
// no loss is finite.
inline bool descend(const double* levels, double smu, double penalty, double width, int max_r, bool last,
                    uint64_t& best_k, int& best_r, double& best_loss) {
  best_k = 0, best_r = 0, best_loss = std::numeric_limits<double>::infinity();
  uint64_t left = 0;  // floor(2^(r-1) t)
  for (int r = 1; r <= max_r; ++r) {
    const uint64_t mid = 2 * left + 1;
    const double sq = levels[LevelTable::index(mid, r)];
    if (!(smu >= sq + width || smu <= sq - width)) [[unlikely]] return false;
    const double d = sq - smu, loss = d * d + penalty * r;
    if (loss < best_loss) best_loss = loss, best_k = mid, best_r = r;
    left = mid - (smu < sq);
    if (best_loss < penalty * (r + 1)) return true;
  }
  return last && best_r != 0;  // max_r is the longest rate allowed
}

#if defined(__x86_64__) && defined(__GNUC__)
#define VBQ_DESCEND_LANES 1
// descend() for coordinates [0, n) in 16 AVX2 lanes (four sets of 4: one set's
// gather overlaps the others' compares), a level per step with no branch on a
// lane's data. A lane that stops takes the next coordinate, so no lane waits for
// the deepest of its neighbours. The same IEEE operations as descend() and
// quantize() (no FMA), so a coordinate that stops (decided) gets descend()'s k,
// r and loss; one in a band, or not stopped by rate max_r, is left to descend().
// It also gives each coordinate's side (upper) and penalty 2 lambda sigma^2.
// lower: LevelTable::side(false) (the upper side kSide entries on).
__attribute__((target("avx2"))) void descend_lanes(const double* lower, const double* mu, const double* sigma,
                                                   int64_t n, double lambda, double median, double width, int max_r,
                                                   bool* upper_out, double* penalty_out, bool* decided,
                                                   uint64_t* best_k, int* best_r, double* best_loss) {
  constexpr int G = 4, L = 4 * G;  // sets of 4 lanes, lanes
  // Each lane's state, loaded and stored around every step: smu is mu, negated
  // on the upper side; active and band are masks (all bits set or none).
  alignas(32) double smu[L], penalty[L], loss_best[L], active[L], band_hit[L], rate[L];
  alignas(32) int64_t side[L], left[L], code[L], r[L];
  int64_t at[L];  // the lane's coordinate, -1 once none is left
  int64_t next = 0;
  int busy = 0;
  const double two_lambda = 2.0 * lambda, on = std::bit_cast<double>(int64_t(-1));
  auto take = [&](int l) {
    at[l] = next < n ? next++ : -1;
    side[l] = 0, left[l] = 0, code[l] = 0, r[l] = 1, rate[l] = 1.0;
    loss_best[l] = std::numeric_limits<double>::infinity(), band_hit[l] = 0.0, active[l] = 0.0;
    if (at[l] < 0) return;  // idle: inactive, its loads stay at entry 0
    const double m = mu[at[l]], s = sigma[at[l]];
    const bool up = m > median;
    upper_out[at[l]] = up, smu[l] = up ? -m : m;
    penalty[l] = two_lambda * s * s, penalty_out[at[l]] = penalty[l];  // descend()'s order
    side[l] = up ? int64_t(LevelTable::kSide) : 0, active[l] = on, ++busy;
  };
  for (int l = 0; l < L; ++l) take(l);
  const __m256d w = _mm256_set1_pd(width), one_d = _mm256_set1_pd(1.0);
  const __m256i one = _mm256_set1_epi64x(1), top = _mm256_set1_epi64x(max_r);
  while (busy > 0) {
    int finished = 0;
    for (int g = 0; g < G; ++g) {
      const int o = 4 * g;
      const __m256d sm = _mm256_load_pd(smu + o), pen = _mm256_load_pd(penalty + o), rt = _mm256_load_pd(rate + o);
      const __m256d act = _mm256_load_pd(active + o);
      __m256d best = _mm256_load_pd(loss_best + o);
      const __m256i lf = _mm256_load_si256(reinterpret_cast<const __m256i*>(left + o));
      const __m256i rv = _mm256_load_si256(reinterpret_cast<const __m256i*>(r + o));
      const __m256i row = _mm256_srli_epi64(_mm256_sllv_epi64(one, rv), 2);  // (2^r) / 4
      const __m256i mid = _mm256_add_epi64(_mm256_add_epi64(lf, lf), one);
      const __m256i sd = _mm256_load_si256(reinterpret_cast<const __m256i*>(side + o));
      const __m256d sq = _mm256_i64gather_pd(lower, _mm256_add_epi64(_mm256_add_epi64(sd, lf), row), 8);
      const __m256d beyond = _mm256_cmp_pd(sm, _mm256_add_pd(sq, w), _CMP_GE_OQ);
      const __m256d before = _mm256_cmp_pd(sm, _mm256_sub_pd(sq, w), _CMP_LE_OQ);
      const __m256d band = _mm256_andnot_pd(_mm256_or_pd(beyond, before), act);
      const __m256d d = _mm256_sub_pd(sq, sm);
      const __m256d loss = _mm256_add_pd(_mm256_mul_pd(d, d), _mm256_mul_pd(pen, rt));
      const __m256d better = _mm256_and_pd(act, _mm256_cmp_pd(loss, best, _CMP_LT_OQ));
      best = _mm256_blendv_pd(best, loss, better);
      const __m256i this_code = _mm256_or_si256(_mm256_slli_epi64(mid, 8), rv);
      const __m256d cd = _mm256_blendv_pd(_mm256_load_pd(reinterpret_cast<const double*>(code + o)),
                                          _mm256_castsi256_pd(this_code), better);
      const __m256d hit = _mm256_or_pd(_mm256_load_pd(band_hit + o), band);
      const __m256d stop = _mm256_cmp_pd(best, _mm256_mul_pd(pen, _mm256_add_pd(rt, one_d)), _CMP_LT_OQ);
      const __m256d still = _mm256_andnot_pd(_mm256_or_pd(band, stop), act);
      // mid - 1 before sq
      const __m256i nl = _mm256_add_epi64(mid, _mm256_castpd_si256(_mm256_cmp_pd(sm, sq, _CMP_LT_OQ)));
      const __m256d at_top = _mm256_castsi256_pd(_mm256_cmpeq_epi64(rv, top));
      // Finished: active before this level and stopped by it, or at rate max_r.
      finished |= _mm256_movemask_pd(_mm256_and_pd(act, _mm256_or_pd(_mm256_xor_pd(still, act), at_top))) << o;
      _mm256_store_pd(loss_best + o, best);
      _mm256_store_pd(reinterpret_cast<double*>(code + o), cd);
      _mm256_store_pd(band_hit + o, hit);
      _mm256_store_pd(active + o, still);
      _mm256_store_pd(rate + o, _mm256_add_pd(rt, _mm256_and_pd(still, one_d)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(r + o), _mm256_sub_epi64(rv, _mm256_castpd_si256(still)));
      _mm256_store_pd(reinterpret_cast<double*>(left + o),
                      _mm256_blendv_pd(_mm256_castsi256_pd(lf), _mm256_castsi256_pd(nl), still));
    }
    for (; finished != 0; finished &= finished - 1) {
      const int l = std::countr_zero(unsigned(finished));
      const int64_t i = at[l];
      const bool open = std::bit_cast<int64_t>(active[l]) != 0 || std::bit_cast<int64_t>(band_hit[l]) != 0;
      decided[i] = !open;
      best_k[i] = uint64_t(code[l]) >> 8, best_r[i] = int(code[l] & 255), best_loss[i] = loss_best[l];
      --busy;
      take(l);
    }
  }
}
#endif

// Whether descent is exact for this table: for every boundary b = j / 2^16 on both
// sides, the prior's own tail (lower or upper) is below b (1 - 1e-12) at the inner
// edge of the band and above b (1 + 1e-12) at the outer one. As the tail is
// monotone and accurate to a few ulp (far below 1e-12), any mu outside a band then
// has t strictly on the side the comparison says. ~4 CDF calls per boundary.
bool bands_hold(const Prior& prior, const CodePointTable& table, double width, [[maybe_unused]] int threads) {
  constexpr int kBits = CodePointTable::kTableRateBits;
  const int64_t n = int64_t(1) << (kBits - 1);
  if (!(width > 0) || !std::isfinite(width)) return false;
  int bad = 0;
VBQ_OMP(parallel for schedule(static) num_threads(threads) reduction(+ : bad))
  for (int64_t j = 1; j <= n; ++j) {
    const double b = std::ldexp(double(j), -kBits);
    const double ql = table.tail_quantile(uint64_t(j), kBits, false);
    const double qu = table.tail_quantile(uint64_t(j), kBits, true);
    const bool ok = std::isfinite(ql) && std::isfinite(qu) && prior.lower(ql - width) < b * (1 - 1e-12) &&
                    prior.lower(ql + width) > b * (1 + 1e-12) && prior.upper(qu + width) < b * (1 - 1e-12) &&
                    prior.upper(qu - width) > b * (1 + 1e-12);
    bad += !ok;
  }
  return bad == 0;
}

}  // namespace

CodeKey quantize_one(const CodePointTable& table, double mu, double sigma, double lambda, int max_rate_bits) {
  const Prior& prior = table.prior();
  // Work on the tail coordinate t = xi (lower side) or 1 - xi (upper side), t <= 1/2.
  const bool upper = mu > prior.median();
  double loss;
  return search([&](uint64_t k, int r) { return table.tail_quantile(k, r, upper); }, prior, mu,
                2.0 * lambda * sigma * sigma, upper, max_rate_bits, loss);
}

Quantizer::Quantizer(const Prior& prior, bool fast, int threads, bool avx2)
    : prior_(prior), table_(prior), levels_(std::make_unique<LevelTable>(table_)), width_(band_width(table_)),
      avx2_(avx2) {
  descend_ = fast && bands_hold(prior, table_, width_, resolve_threads(threads));
}

Quantizer::~Quantizer() = default;

void Quantizer::quantize(std::span<const double> mu, std::span<const double> sigma, double lambda,
                         std::span<CodeKey> keys, int threads, int max_rate_bits, double escape_bits) const {
  if (!(lambda > 0) || !std::isfinite(lambda))
    throw Error(ErrorKind::argument, "lambda must be a finite number > 0, got " + std::to_string(lambda));
  if (mu.size() != sigma.size() || keys.size() != mu.size())
    throw Error(ErrorKind::argument, "quantize: mu, sigma and keys differ in size");
  if (max_rate_bits < 1 || max_rate_bits > kMaxRateBits)
    throw Error(ErrorKind::argument, "max rate must be in 1.." + std::to_string(kMaxRateBits) + " bits");
  const int64_t n = int64_t(mu.size());
  const double median = prior_.median();
  const LevelTable& levels = *levels_;
  constexpr int kTableBits = CodePointTable::kTableRateBits;
  // Locals, not members: the stores to keys could alias members, forcing reloads.
  const int descent_bits = descend_ ? std::min(max_rate_bits, kTableBits) : 0;
  const bool last = max_rate_bits <= kTableBits;
  const double width = width_;
  const double* const sides[2] = {levels.side(false), levels.side(true)};
#ifdef VBQ_DESCEND_LANES
  static const bool cpu_avx2 = __builtin_cpu_supports("avx2");
  const bool wide = avx2_ && cpu_avx2 && descent_bits > 0;  // descend_lanes
#endif
  auto escaped = [&](double m, double penalty, CodeKey key, double loss) {
    return escape_bits > 0 && escape_wins(m, penalty, escape_bits, loss) ? kEscapeKey : key;
  };
  // Two loops: descent for every coordinate (runs of kRun, 16 lanes at a time),
  // then search() for the few it leaves, so that the first stays small and branch-light.
  constexpr CodeKey kUndecided = 1;  // no code point's key
  constexpr int64_t kRun = 1024;
VBQ_OMP(parallel num_threads(resolve_threads(threads)))
  {
VBQ_OMP(for schedule(static, 8))
    for (int64_t c = 0; c < (n + kRun - 1) / kRun; ++c) {
      const int64_t i0 = c * kRun, count = std::min<int64_t>(kRun, n - i0);
      double penalty[kRun], loss[kRun];
      bool upper[kRun], decided[kRun];
      uint64_t k[kRun];
      int r[kRun];
#ifdef VBQ_DESCEND_LANES
      if (wide) {
        descend_lanes(sides[0], &mu[i0], &sigma[i0], count, lambda, median, width, descent_bits, upper, penalty,
                      decided, k, r, loss);
      } else
#endif
      {
        for (int64_t l = 0; l < count; ++l) {
          upper[l] = mu[i0 + l] > median, decided[l] = false;
          penalty[l] = 2.0 * lambda * sigma[i0 + l] * sigma[i0 + l];
        }
      }
      for (int64_t l = 0; l < count; ++l) {
        if (!decided[l])
          decided[l] = descend(sides[upper[l]], upper[l] ? -mu[i0 + l] : mu[i0 + l], penalty[l], width, descent_bits,
                               last, k[l], r[l], loss[l]);
        keys[i0 + l] = decided[l] ? escaped(mu[i0 + l], penalty[l], key_of(k[l], r[l], upper[l]), loss[l]) : kUndecided;
      }
    }
VBQ_OMP(for schedule(static, 4096))
    for (int64_t i = 0; i < n; ++i) {
      if (keys[i] != kUndecided) continue;
      const double m = mu[i], penalty = 2.0 * lambda * sigma[i] * sigma[i];
      const bool upper = m > median;
      double loss;
      const CodeKey key = search([&](uint64_t k, int r) { return levels(k, r, upper); }, prior_, m, penalty, upper,
                                 max_rate_bits, loss);
      keys[i] = escaped(m, penalty, key, loss);
    }
  }
}

CodeKeys quantize(const Prior& prior, std::span<const double> mu, std::span<const double> sigma, double lambda,
                  int threads, int max_rate_bits) {
  CodeKeys keys(mu.size());  // uninitialized: quantize() writes every element
  Quantizer(prior, mu.size() >= kMinFastCoordinates, threads)
      .quantize(mu, sigma, lambda, keys, threads, max_rate_bits);
  return keys;
}

// Algorithm 1 line by line (the header says how it matches the fast path).
CodeKey quantize_reference(const Prior& prior, double mu, double sigma, double lambda, int max_rate_bits) {
  // xi† = F(mu), held as its distance t to the nearer end of (0, 1), so that a
  // xi† close to 1 does not round to 1: xi† = t, or xi† = 1 - t above the median.
  const bool upper = mu > prior.median();
  const double t = upper ? prior.upper(mu) : prior.lower(mu);
  // offset: Eq. 9 as s^2 ((F^{-1}(xi) - mu)^2 - mu^2), for when Eq. 9 overflows (offset_loss).
  auto run = [&](bool offset) {
    const double s = offset ? offset_scale(mu) : 1.0;
    const double penalty = 2 * lambda * sigma * sigma * s * s;  // 2 lambda sigma^2 per bit
    auto distortion = [&](CodeKey xi) {  // (F^{-1}(xi) - mu)^2, the first term of Eq. 9
      if (offset) return offset_loss(reconstruct(prior, xi), mu, s);
      const double d = reconstruct(prior, xi) - mu;
      return d * d;
    };
    const double offset_back = offset ? (s * mu) * (s * mu) : 0.0;  // makes distortion() (q - mu)^2 again
    CodeKey best = 0;  // null
    double best_loss = std::numeric_limits<double>::infinity(), best_distortion = 0;
    for (int r = 1; r <= max_rate_bits; ++r) {
      const uint64_t one = uint64_t(1) << r;  // xi = 1 at rate r
      // floor and ceil of 2^r t (exact in double); t > 0 even where it underflows to 0
      const uint64_t t_floor = uint64_t(std::floor(std::ldexp(t, r)));
      const uint64_t t_ceil = std::max<uint64_t>(1, uint64_t(std::ceil(std::ldexp(t, r))));
      // 2^r xi-left = floor(2^r xi†) and 2^r xi-right = ceil(2^r xi†)
      const uint64_t left = upper ? one - t_ceil : t_floor, right = upper ? one - t_floor : t_ceil;
      for (uint64_t numerator : {left, right}) {
        if (numerator == 0 || numerator == one) continue;  // xi = 0 and xi = 1 are no code points
        const CodeKey xi = code_key(numerator, r);
        const double d2 = distortion(xi), loss = d2 + penalty * rate_bits(xi);  // Eq. 9
        if (loss < best_loss) best = xi, best_loss = loss, best_distortion = d2;
      }
      // Stop once log g(xi†) - log g(xi*) < lambda (r + 1 - R(xi*)), times 2 sigma^2.
      if (best != 0 && best_distortion + offset_back < penalty * (r + 1 - rate_bits(best))) break;
    }
    return best;
  };
  const CodeKey best = run(false);
  return best != 0 ? best : run(true);
}

}  // namespace vbq
