// rANS coder: see lib/vbq/rans.hpp for the contract and the stream layout.
//
// Notation (Duda's rANS): M = 2^precision_bits, f = freq[s], c = cumulative[s],
// L = kRansLower. Per symbol:
//   encode  C(s, x) = floor(x / f) * M + (x mod f) + c
//   decode  D(x)    = (s, f * floor(x / M) + (x mod M) - c), s the symbol whose
//                     slot range [c, c + f) holds x mod M.
// Renormalisation keeps x in [L, L * 2^32): the encoder emits the low 32 bits
// while x >= x_max(s) = ((L >> precision_bits) << 32) * f, the decoder reads one
// word whenever x < L. One word per symbol always suffices with 32-bit words.
#include "vbq/rans.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <limits>
#include <queue>
#include <string>

#include "vbq/error.hpp"

namespace vbq {
namespace {

constexpr size_t kStateBytes = 8 * kRansStreams;

void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint32_t load_le32(const uint8_t* p) {
  if constexpr (std::endian::native == std::endian::little) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  } else {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  }
}
uint64_t load_le64(const uint8_t* p) {
  return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32;
}

void check_precision(uint32_t precision_bits, ErrorKind kind) {
  if (precision_bits < 1 || precision_bits > kMaxPrecisionBits)
    throw Error(kind, "rANS: precision_bits " + std::to_string(precision_bits) +
                          " outside 1.." + std::to_string(kMaxPrecisionBits));
}

// Encode and decode index arrays by these fields, so a hand-built table that
// breaks the invariants must be refused rather than trusted.
void check_table(const FrequencyTable& t, const char* who) {
  auto fail = [&](const std::string& why) {
    throw Error(ErrorKind::argument, std::string(who) + ": invalid frequency table: " + why);
  };
  if (t.precision_bits < 1 || t.precision_bits > kMaxPrecisionBits) fail("precision_bits out of range");
  if (t.freq.empty() || t.cumulative.size() != t.freq.size() + 1) fail("size mismatch");
  if (t.cumulative[0] != 0) fail("cumulative[0] != 0");
  for (size_t s = 0; s < t.freq.size(); ++s)
    if (uint64_t(t.cumulative[s]) + t.freq[s] != t.cumulative[s + 1])
      fail("cumulative[" + std::to_string(s + 1) + "] inconsistent");
  if (t.cumulative.back() != uint32_t(1) << t.precision_bits) fail("total is not 2^precision_bits");
}

void fill_cumulative(FrequencyTable& t) {
  t.cumulative.assign(t.freq.size() + 1, 0);
  for (size_t s = 0; s < t.freq.size(); ++s) t.cumulative[s + 1] = t.cumulative[s] + t.freq[s];
}

// Per-symbol encoder constants. The division x / f is replaced by a multiply
// (Granlund & Montgomery, "Division by invariant integers", thm 4.2): x < 2^63,
// so with l = ceil(log2 f) and m = ceil(2^(63+l) / f), the error m*f - 2^(63+l)
// is < f <= 2^l = 2^((63+l) - 63), hence floor(x / f) = floor(x * m / 2^(63+l))
// exactly. Then C(s, x) = x + floor(x / f) * (M - f) + c.
// f = 1 has l = 0 and would need a right shift of -1; instead it uses
// m = 2^64 - 1 (quotient x - 1 for x >= 1) and folds the missing (M - 1) into
// the bias: x + (x - 1)(M - 1) + c + M - 1 = x * M + c.
// 16 bytes so that big alphabets stay cache friendly; x_max, M - f and the
// shift l - 1 (0 for f = 1) are recomputed from freq, which is cheap.
struct EncSymbol {
  uint64_t rcp = 0;
  uint32_t freq = 0;  // 0 marks an uncodable symbol
  uint32_t bias = 0;
};

EncSymbol make_enc_symbol(uint32_t f, uint32_t c, uint32_t precision_bits) {
  EncSymbol e;
  if (f == 0) return e;
  const uint64_t M = uint64_t(1) << precision_bits;
  e.freq = f;
  if (f == 1) {
    e.rcp = ~uint64_t(0);
    e.bias = uint32_t(c + M - 1);
  } else {
    const uint32_t l = uint32_t(std::bit_width(f - 1));  // ceil(log2 f), >= 1
    // m = ceil(2^(63+l) / f) fits in 64 bits because f > 2^(l-1).
    const unsigned __int128 num = static_cast<unsigned __int128>(1) << (63 + l);
    e.rcp = uint64_t((num + f - 1) / f);
    e.bias = c;
  }
  return e;
}

// l - 1 for f >= 2, 0 for f = 1.
inline uint32_t rcp_shift(uint32_t f) { return uint32_t(std::bit_width((f - 1) | 1u)) - 1; }

inline uint64_t mulhi64(uint64_t a, uint64_t b) {
  return uint64_t((static_cast<unsigned __int128>(a) * b) >> 64);
}

[[noreturn]] void throw_bad_symbol(std::span<const uint32_t> symbols, const FrequencyTable& table) {
  for (size_t i = 0; i < symbols.size(); ++i) {
    const uint32_t s = symbols[i];
    if (s >= table.size())
      throw Error(ErrorKind::argument, "rANS encode: symbol " + std::to_string(s) + " at index " +
                                           std::to_string(i) + " is outside the alphabet of " +
                                           std::to_string(table.size()));
    if (table.freq[s] == 0)
      throw Error(ErrorKind::argument, "rANS encode: symbol " + std::to_string(s) + " at index " +
                                           std::to_string(i) + " has frequency 0");
  }
  throw Error(ErrorKind::argument, "rANS encode: uncodable symbol");  // unreachable
}

// Decoder view of a table: per-symbol (freq, start) plus one of two lookups.
struct DecSymbol {
  uint32_t freq;
  uint32_t start;
};

// Full slot -> symbol table up to this many slots; beyond it, a bucketed
// binary search (the table would not fit in cache and costs more to build).
constexpr uint32_t kMaxSlotTableBits = 20;
// Buckets: a few per symbol, so that most searches end at once.
constexpr uint32_t kMinBucketBits = 12;
constexpr uint32_t kMaxBucketBits = 18;

class Decoder {
 public:
  Decoder(const FrequencyTable& t, size_t n_symbols) : prec_(t.precision_bits) {
    syms_.resize(t.size());
    for (size_t s = 0; s < t.size(); ++s) syms_[s] = {t.freq[s], t.cumulative[s]};
    const uint64_t M = uint64_t(1) << prec_;
    // A big table only pays off when the message is long enough to amortise it.
    use_table_ = prec_ <= 16 || (prec_ <= kMaxSlotTableBits && M <= 4 * uint64_t(n_symbols));
    if (use_table_) {
      slot_.resize(M);
      for (size_t s = 0; s < t.size(); ++s)
        std::fill(slot_.begin() + t.cumulative[s], slot_.begin() + t.cumulative[s + 1], uint32_t(s));
    } else {
      // bucket b covers slots [b << shift, (b + 1) << shift); lo_[b] is the symbol
      // holding its first slot, so the symbol of any slot in b is in [lo_[b], lo_[b+1]].
      const uint32_t want = uint32_t(std::bit_width(t.size())) + 2;
      shift_ = prec_ - std::min(prec_, std::clamp(want, kMinBucketBits, kMaxBucketBits));
      const size_t n_buckets = size_t(1) << (prec_ - shift_);
      lo_.resize(n_buckets + 1);
      uint32_t s = 0;
      for (size_t b = 0; b < n_buckets; ++b) {
        const uint64_t first = uint64_t(b) << shift_;
        while (t.cumulative[s + 1] <= first) ++s;
        lo_[b] = s;
      }
      lo_[n_buckets] = uint32_t(t.size() - 1);
    }
  }

  // Symbol whose slot range holds `slot` (always one with freq > 0).
  uint32_t lookup(uint32_t slot) const {
    if (use_table_) return slot_[slot];
    const uint32_t b = slot >> shift_;
    uint32_t lo = lo_[b], hi = lo_[b + 1];  // answer: largest s in [lo, hi] with cum[s] <= slot
    while (lo < hi) {
      const uint32_t mid = lo + (hi - lo + 1) / 2;
      if (syms_[mid].start <= slot) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  bool use_table() const { return use_table_; }
  const std::vector<uint32_t>& slot_table() const { return slot_; }
  const DecSymbol* syms() const { return syms_.data(); }
  uint32_t precision_bits() const { return prec_; }

 private:
  uint32_t prec_;
  std::vector<DecSymbol> syms_;
  bool use_table_ = false;
  std::vector<uint32_t> slot_;
  uint32_t shift_ = 0;
  std::vector<uint32_t> lo_;
};

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos;

  [[noreturn]] void truncated(size_t symbol_index) const {
    throw Error(ErrorKind::corrupt, "rANS stream truncated: needed 4 bytes at byte offset " +
                                        std::to_string(pos) + " of " + std::to_string(size) +
                                        " while decoding symbol " + std::to_string(symbol_index));
  }
};

// One decode step D(x) for symbol index i, followed by renormalisation.
template <class Lookup>
inline uint32_t decode_step(uint64_t& x, const DecSymbol* syms, uint32_t prec, Lookup&& lookup,
                            Reader& r, size_t i) {
  const uint64_t mask = (uint64_t(1) << prec) - 1;
  const uint32_t slot = uint32_t(x & mask);
  const uint32_t s = lookup(slot);
  const DecSymbol d = syms[s];
  x = uint64_t(d.freq) * (x >> prec) + slot - d.start;
  if (x < kRansLower) {
    if (r.size - r.pos < 4) [[unlikely]]
      r.truncated(i);
    x = (x << 32) | load_le32(r.data + r.pos);
    r.pos += 4;
  }
  return s;
}

template <class Lookup>
void decode_loop(uint64_t* x, const DecSymbol* syms, uint32_t prec, Lookup lookup, Reader& r,
                 std::span<uint32_t> out) {
  const size_t n = out.size();
  size_t i = 0;
  for (; i + kRansStreams <= n; i += kRansStreams)
    for (int j = 0; j < kRansStreams; ++j) out[i + j] = decode_step(x[j], syms, prec, lookup, r, i + j);
  for (int j = 0; i < n; ++i, ++j) out[i] = decode_step(x[j], syms, prec, lookup, r, i);
}

}  // namespace

FrequencyTable FrequencyTable::from_counts(std::span<const uint64_t> counts, uint32_t precision_bits) {
  check_precision(precision_bits, ErrorKind::argument);
  const uint64_t M = uint64_t(1) << precision_bits;
  size_t nonzero = 0;
  long double total = 0;
  for (uint64_t c : counts) {
    nonzero += c != 0;
    total += static_cast<long double>(c);
  }
  if (nonzero == 0) throw Error(ErrorKind::argument, "rANS from_counts: all counts are zero");
  if (nonzero > M)
    throw Error(ErrorKind::argument, "rANS from_counts: " + std::to_string(nonzero) +
                                         " symbols do not fit precision " + std::to_string(precision_bits) +
                                         " bits (" + std::to_string(M) + " slots)");
  if (counts.size() > std::numeric_limits<uint32_t>::max())
    throw Error(ErrorKind::argument, "rANS from_counts: alphabet too large");

  FrequencyTable t;
  t.precision_bits = precision_bits;
  t.freq.assign(counts.size(), 0);
  // Proportional scaling, rounded, at least 1 for every seen symbol.
  int64_t sum = 0;
  for (size_t s = 0; s < counts.size(); ++s) {
    if (counts[s] == 0) continue;
    const long double ideal = static_cast<long double>(counts[s]) * static_cast<long double>(M) / total;
    const uint64_t f = std::clamp<uint64_t>(uint64_t(std::llround(ideal)), 1, M);
    t.freq[s] = uint32_t(f);
    sum += int64_t(f);
  }

  // Fix the sum one unit at a time, each time on the symbol where the change in
  // code length count * log2(f'/f) is cheapest. Code length is convex in f, so
  // the greedy choice stays optimal as units move. Ties break on the lower
  // symbol index, which keeps the result deterministic.
  const int64_t target = int64_t(M);
  if (sum != target) {
    const bool grow = sum < target;
    // Cost (bits) of moving symbol s by one unit in the needed direction.
    auto delta_cost = [&](size_t s) -> double {
      const double c = double(counts[s]), f = double(t.freq[s]);
      return grow ? -c * std::log2((f + 1) / f) : c * std::log2(f / (f - 1));
    };
    using Item = std::pair<double, uint32_t>;  // (cost, symbol); min-heap
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
    for (size_t s = 0; s < counts.size(); ++s)
      if (counts[s] != 0 && (grow || t.freq[s] > 1)) heap.emplace(delta_cost(s), uint32_t(s));
    while (sum != target) {
      // heap never runs empty: shrinking stops at all-ones, whose sum (nonzero) <= M
      const uint32_t s = heap.top().second;
      heap.pop();
      if (grow) {
        ++t.freq[s];
        ++sum;
      } else {
        --t.freq[s];
        --sum;
      }
      if (grow || t.freq[s] > 1) heap.emplace(delta_cost(s), s);
    }
  }
  fill_cumulative(t);
  return t;
}

FrequencyTable FrequencyTable::from_frequencies(std::vector<uint32_t> freq, uint32_t precision_bits) {
  check_precision(precision_bits, ErrorKind::corrupt);
  if (freq.empty()) throw Error(ErrorKind::corrupt, "rANS frequency table is empty");
  uint64_t sum = 0;
  for (uint32_t f : freq) sum += f;
  if (sum != uint64_t(1) << precision_bits)
    throw Error(ErrorKind::corrupt, "rANS frequency table sums to " + std::to_string(sum) +
                                        ", expected 2^" + std::to_string(precision_bits));
  FrequencyTable t;
  t.precision_bits = precision_bits;
  t.freq = std::move(freq);
  fill_cumulative(t);
  return t;
}

double FrequencyTable::cost_bits(std::span<const uint64_t> counts) const {
  double bits = 0;
  for (size_t s = 0; s < counts.size(); ++s) {
    if (counts[s] == 0) continue;
    if (s >= size() || freq[s] == 0) return std::numeric_limits<double>::infinity();
    bits += double(counts[s]) * (double(precision_bits) - std::log2(double(freq[s])));
  }
  return bits;
}

uint32_t default_precision_bits(size_t alphabet_size) {
  const uint32_t log2n = alphabet_size <= 1 ? 0 : uint32_t(std::bit_width(alphabet_size - 1));
  return std::min<uint32_t>(std::max<uint32_t>(16, log2n + 8), kMaxPrecisionBits);
}

std::vector<uint8_t> rans_encode(std::span<const uint32_t> symbols, const FrequencyTable& table,
                                 std::span<const uint32_t> to_table) {
  check_table(table, "rANS encode");
  const uint32_t prec = table.precision_bits;
  std::vector<EncSymbol> enc(to_table.empty() ? table.size() : to_table.size());
  for (size_t s = 0; s < enc.size(); ++s) {
    const size_t t = to_table.empty() ? s : to_table[s];
    if (t < table.size()) enc[s] = make_enc_symbol(table.freq[t], table.cumulative[t], prec);  // else frequency 0
  }
  // The first uncodable symbol, named as the table sees it.
  auto fail = [&]() {
    if (to_table.empty()) throw_bad_symbol(symbols, table);
    std::vector<uint32_t> seen(symbols.size());
    for (size_t i = 0; i < symbols.size(); ++i)
      seen[i] = symbols[i] < to_table.size() ? to_table[symbols[i]] : uint32_t(table.size());
    throw_bad_symbol(seen, table);
  };

  // Words are written back to front from the end of the buffer: at most one per
  // symbol. The states go just before the first word, then everything is moved
  // to the front.
  const size_t n = symbols.size();
  // Uninitialised: only the tail that is written gets touched (page faults on
  // a zeroed worst-case buffer cost more than the coding itself).
  const size_t capacity = kStateBytes + 4 * n;
  std::unique_ptr<uint8_t[]> buffer(new uint8_t[capacity]);
  uint8_t* const end = buffer.get() + capacity;
  uint8_t* p = end;
  uint64_t x[kRansStreams];
  for (auto& xi : x) xi = kRansLower;

  const uint64_t M = uint64_t(1) << prec;
  const uint32_t x_max_shift = 63 - prec;  // x_max = ((L >> prec) << 32) * f = f << (63 - prec)
  // C(s, x) with renormalisation first; returns false for an uncodable symbol.
  auto put = [&](uint64_t& xs, uint32_t s) {
    if (s >= enc.size() || enc[s].freq == 0) [[unlikely]]
      return false;
    const EncSymbol& e = enc[s];
    if (xs >= uint64_t(e.freq) << x_max_shift) {
      p -= 4;
      store_le32(p, uint32_t(xs));
      xs >>= 32;
    }
    const uint64_t q = mulhi64(xs, e.rcp) >> rcp_shift(e.freq);
    xs += e.bias + q * (M - e.freq);
    return true;
  };
  // Reverse order: first the ragged tail, then whole groups of kRansStreams
  // with the states in locals so that they stay in registers.
  size_t i = n;
  while (i % kRansStreams != 0) {
    --i;
    if (!put(x[i % kRansStreams], symbols[i])) fail();
  }
  static_assert(kRansStreams == 4);
  uint64_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
  while (i > 0) {
    i -= 4;
    // separate statements: the order of the word writes matters
    bool ok = put(x3, symbols[i + 3]);
    ok &= put(x2, symbols[i + 2]);
    ok &= put(x1, symbols[i + 1]);
    ok &= put(x0, symbols[i]);
    if (!ok) [[unlikely]]
      fail();
  }
  x[0] = x0, x[1] = x1, x[2] = x2, x[3] = x3;
  p -= kStateBytes;
  for (int j = 0; j < kRansStreams; ++j) store_le64(p + 8 * j, x[j]);
  return std::vector<uint8_t>(p, end);
}

// Decodes the first out.size() symbols into out; leaves the states in x and
// returns the byte offset reached.
static size_t decode_front(std::span<const uint8_t> bytes, const FrequencyTable& table, std::span<uint32_t> out,
                           uint64_t (&x)[kRansStreams]) {
  check_table(table, "rANS decode");
  if (bytes.size() < kStateBytes)
    throw Error(ErrorKind::corrupt, "rANS stream truncated: " + std::to_string(bytes.size()) +
                                        " bytes, the " + std::to_string(kStateBytes) +
                                        "-byte state header ends at byte offset " +
                                        std::to_string(kStateBytes));
  for (int j = 0; j < kRansStreams; ++j) {
    x[j] = load_le64(bytes.data() + 8 * j);
    // Out-of-range states would break the decoder's invariants; reject early.
    if (x[j] < kRansLower || x[j] >= (kRansLower << 32))
      throw Error(ErrorKind::corrupt, "rANS stream: initial state " + std::to_string(j) +
                                          " at byte offset " + std::to_string(8 * j) + " is out of range");
  }
  Decoder dec(table, out.size());
  Reader r{bytes.data(), bytes.size(), kStateBytes};
  const uint32_t prec = table.precision_bits;
  if (dec.use_table()) {
    const uint32_t* slot = dec.slot_table().data();
    decode_loop(x, dec.syms(), prec, [slot](uint32_t v) { return slot[v]; }, r, out);
  } else {
    decode_loop(x, dec.syms(), prec, [&dec](uint32_t v) { return dec.lookup(v); }, r, out);
  }
  return r.pos;
}

void rans_decode(std::span<const uint8_t> bytes, const FrequencyTable& table, std::span<uint32_t> out) {
  uint64_t x[kRansStreams];
  const size_t pos = decode_front(bytes, table, out, x);
  if (pos != bytes.size())
    throw Error(ErrorKind::corrupt, "rANS stream: " + std::to_string(bytes.size() - pos) +
                                        " trailing bytes from byte offset " + std::to_string(pos));
  for (int j = 0; j < kRansStreams; ++j)
    if (x[j] != kRansLower)
      throw Error(ErrorKind::corrupt, "rANS stream: state " + std::to_string(j) +
                                          " does not end in its initial value (stream end, byte offset " +
                                          std::to_string(pos) + ")");
}

void rans_decode_prefix(std::span<const uint8_t> bytes, const FrequencyTable& table, std::span<uint32_t> out) {
  uint64_t x[kRansStreams];
  decode_front(bytes, table, out, x);
}

}  // namespace vbq
