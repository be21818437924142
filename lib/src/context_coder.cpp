// Context-adaptive coder: see lib/vbq/context_coder.hpp for the binarization,
// the contexts and the stream layout.
//
// The range coder is LZMA's (Igor Pavlov; public domain): the encoder keeps the
// interval's low end in 33 bits and holds back one byte ("cache") plus a run of
// 0xFF bytes until it knows whether a carry reaches them. Per bin with
// P(0) = p / 2^16:  bound = (range >> 16) * p;  0 keeps [low, low + bound),
// 1 keeps [low + bound, low + range). Renormalise while range < 2^24.
// The binarization is written once (code_index) for both directions: the
// encoder's bin() codes the bit it is given, the decoder's bin() ignores it and
// returns the bit it decodes.
#include "vbq/context_coder.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "vbq/error.hpp"

namespace vbq {
namespace {

constexpr uint32_t kProbBits = 16;
constexpr uint32_t kTop = uint32_t(1) << 24;  // renormalise below this range
constexpr uint32_t kClasses = 5;              // neighbour classes: none, 0, 1, 2, >= 3
// left class x above class x (two rows up: none, 0, not 0)
constexpr uint32_t kNeighbourContexts = kClasses * kClasses * 3;
constexpr uint32_t kMaxPrefix = 33;  // Exp-Golomb prefix lengths 0..32 (r + 1 < 2^33)

// Adaptive estimate of P(bin = 0), in units of 2^-16. The two windows stay in
// [15, 65521] and [127, 65409], so their mean p is in (0, 2^16) and both
// bound = (range >> 16) * p and range - bound are >= 1 for range >= 2^24.
struct BitModel {
  uint16_t fast = 1 << (kProbBits - 1), slow = 1 << (kProbBits - 1);
  uint32_t p0() const { return (uint32_t(fast) + slow) >> 1; }
  void update(int bit) {
    if (bit) {
      fast -= fast >> kFastShift;
      slow -= slow >> kSlowShift;
    } else {
      fast += ((1u << kProbBits) - fast) >> kFastShift;
      slow += ((1u << kProbBits) - slow) >> kSlowShift;
    }
  }
};

// All adaptive state of one block.
struct Contexts {
  BitModel flag[kNeighbourContexts][kContextFlags];
  BitModel prefix[kNeighbourContexts][kMaxPrefix];
  // Suffix of length n: node `value` (the bits so far behind a leading 1, in
  // [1, 2^n)) at (1 << n) - 2 + value; lengths 1..kContextTreeBits fill [0, 2^(T+1) - 2).
  BitModel tree[size_t(2) << kContextTreeBits];
};

class RangeEncoder {
 public:
  explicit RangeEncoder(size_t reserve_bytes) { out_.reserve(reserve_bytes); }

  int bin(BitModel& m, int bit) {
    const uint32_t bound = (range_ >> kProbBits) * m.p0();
    if (bit) low_ += bound, range_ -= bound;
    else range_ = bound;
    m.update(bit);
    normalize();
    return bit;
  }
  int bypass(int bit) {
    range_ >>= 1;
    if (bit) low_ += range_;
    normalize();
    return bit;
  }
  std::vector<uint8_t> finish() {
    for (int i = 0; i < 5; ++i) shift_low();
    return std::move(out_);
  }

 private:
  void normalize() {
    while (range_ < kTop) range_ <<= 8, shift_low();
  }
  // Emits the top byte of low once no carry can change it.
  void shift_low() {
    if (uint32_t(low_) < 0xFF000000u || (low_ >> 32) != 0) {
      const uint8_t carry = uint8_t(low_ >> 32);
      // The first byte is the integer part of a number in [0, 1): always 0, never written.
      if (started_) out_.push_back(uint8_t(cache_ + carry));
      started_ = true;
      for (; pending_ > 0; --pending_) out_.push_back(uint8_t(0xFF + carry));
      cache_ = uint8_t(low_ >> 24);
    } else {
      ++pending_;
    }
    low_ = (low_ & 0x00FFFFFFu) << 8;
  }

  uint64_t low_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  uint8_t cache_ = 0;
  bool started_ = false;
  uint64_t pending_ = 0;
  std::vector<uint8_t> out_;
};

class RangeDecoder {
 public:
  explicit RangeDecoder(std::span<const uint8_t> bytes) : p_(bytes.data()), begin_(bytes.data()), end_(p_ + bytes.size()) {
    if (bytes.size() < 4)
      throw Error(ErrorKind::corrupt, "context stream truncated: " + std::to_string(bytes.size()) +
                                          " bytes, the 4-byte coder state ends at byte offset 4");
    for (int i = 0; i < 4; ++i) code_ = code_ << 8 | *p_++;
    // code < range is the decoder's invariant; every later step keeps it.
    if (code_ == 0xFFFFFFFFu) throw Error(ErrorKind::corrupt, "context stream: initial coder state out of range");
  }

  int bin(BitModel& m, int /*ignored*/) {
    const uint32_t bound = (range_ >> kProbBits) * m.p0();
    int bit;
    if (code_ < bound) range_ = bound, bit = 0;
    else code_ -= bound, range_ -= bound, bit = 1;
    m.update(bit);
    normalize();
    return bit;
  }
  int bypass(int /*ignored*/) {
    range_ >>= 1;
    int bit = 0;
    if (code_ >= range_) code_ -= range_, bit = 1;
    normalize();
    return bit;
  }
  void set_symbol(uint64_t i) { symbol_ = i; }
  uint64_t symbol() const { return symbol_; }
  // Throws unless every byte was consumed.
  void finish() const {
    if (p_ != end_)
      throw Error(ErrorKind::corrupt, "context stream: " + std::to_string(end_ - p_) +
                                          " trailing bytes from byte offset " + std::to_string(p_ - begin_));
  }

 private:
  void normalize() {
    while (range_ < kTop) {
      if (p_ == end_) [[unlikely]]
        throw Error(ErrorKind::corrupt, "context stream truncated at byte offset " + std::to_string(p_ - begin_) +
                                            " while decoding symbol " + std::to_string(symbol_));
      range_ <<= 8, code_ = code_ << 8 | *p_++;
    }
  }

  const uint8_t *p_, *begin_, *end_;
  uint32_t range_ = 0xFFFFFFFFu, code_ = 0;
  uint64_t symbol_ = 0;
};

// Sums -log2 P(bin) over the bins it is given, updating the models as the coder does.
class CostMeter {
 public:
  int bin(BitModel& m, int bit) {
    const double p0 = double(m.p0()) / double(1u << kProbBits);
    bits_ -= std::log2(bit ? 1.0 - p0 : p0);
    m.update(bit);
    return bit;
  }
  int bypass(int bit) {
    bits_ += 1;
    return bit;
  }
  double take() { return std::exchange(bits_, 0.0); }

 private:
  double bits_ = 0;
};

// Codes index v (the encoder's; the decoder passes 0) in neighbour context nb
// and returns the index coded; last = alphabet_size - 1. The returned index may
// exceed last only when decoding garbage.
template <class Coder>
inline uint64_t code_index(Coder& c, Contexts& ctx, uint32_t nb, uint32_t v, uint32_t last) {
  BitModel* flag = ctx.flag[nb];
  const uint32_t flags = std::min(kContextFlags, last);
  uint32_t k = 0;
  for (; k < flags; ++k)
    if (!c.bin(flag[k], v > k)) return k;
  if (k == last) return k;
  // Exp-Golomb order 0 of r = v - kContextFlags: r + 1 = 2^n + suffix.
  const uint64_t r1 = uint64_t(v) - kContextFlags + 1;  // meaningful for the encoder only
  const uint32_t n_enc = uint32_t(std::bit_width(r1)) - 1;
  const uint32_t n_max = uint32_t(std::bit_width(uint64_t(last) - kContextFlags + 1)) - 1;
  BitModel* prefix = ctx.prefix[nb];
  uint32_t n = 0;
  while (n < n_max && c.bin(prefix[n], n < n_enc)) ++n;
  uint64_t value = 1;
  for (uint32_t j = n; j-- > 0;) {
    const int bit = int(r1 >> j) & 1;
    value = value << 1 |
            uint64_t(n <= kContextTreeBits ? c.bin(ctx.tree[(size_t(1) << n) - 2 + value], bit) : c.bypass(bit));
  }
  return value - 1 + kContextFlags;
}

// Neighbour class of an index: 1 + min(v, 3); 0 is "none".
inline uint32_t neighbour_class(uint32_t v) { return 1 + std::min<uint32_t>(v, kClasses - 2); }

// Visits a block's elements in order with their neighbour context. values[j]
// for j < i must hold element j when step(i, ...) runs (the decoder fills them).
template <class Step>
inline void walk_block(size_t n, uint64_t row_length, uint64_t first_column, const uint32_t* values, Step&& step) {
  uint64_t column = first_column;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t left = column > 0 && i > 0 ? neighbour_class(values[i - 1]) : 0;
    const uint32_t above = i >= row_length ? neighbour_class(values[i - row_length]) : 0;
    const uint32_t above2 = i >= 2 * row_length ? 1 + (values[i - 2 * row_length] != 0) : 0;
    step(i, (left * kClasses + above) * 3 + above2);
    if (++column == row_length) column = 0;
  }
}

void check_layout(uint32_t alphabet_size, uint64_t row_length, uint64_t first_column, ErrorKind kind) {
  if (alphabet_size == 0) throw Error(kind, "context coder: alphabet size is 0");
  if (row_length == 0) throw Error(kind, "context coder: row length is 0");
  if (first_column >= row_length)
    throw Error(kind, "context coder: first column " + std::to_string(first_column) + " outside a row of " +
                          std::to_string(row_length));
}

}  // namespace

// The encoder's preconditions (ErrorKind::argument).
static void check_indices(std::span<const uint32_t> indices, uint32_t alphabet_size, uint64_t row_length,
                          uint64_t first_column) {
  check_layout(alphabet_size, row_length, first_column, ErrorKind::argument);
  for (size_t i = 0; i < indices.size(); ++i)
    if (indices[i] >= alphabet_size)
      throw Error(ErrorKind::argument, "context coder: index " + std::to_string(indices[i]) + " at position " +
                                           std::to_string(i) + " is outside the alphabet of " +
                                           std::to_string(alphabet_size));
}

std::vector<uint8_t> context_encode_block(std::span<const uint32_t> indices, uint32_t alphabet_size,
                                          uint64_t row_length, uint64_t first_column) {
  check_indices(indices, alphabet_size, row_length, first_column);
  auto ctx = std::make_unique<Contexts>();
  RangeEncoder enc(indices.size() / 4 + 16);
  walk_block(indices.size(), row_length, first_column, indices.data(), [&](size_t i, uint32_t nb) {
    code_index(enc, *ctx, nb, indices[i], alphabet_size - 1);
  });
  return enc.finish();
}

void context_decode_block(std::span<const uint8_t> bytes, uint32_t alphabet_size, uint64_t row_length,
                          std::span<uint32_t> out, uint64_t first_column) {
  check_layout(alphabet_size, row_length, first_column, ErrorKind::corrupt);
  auto ctx = std::make_unique<Contexts>();
  RangeDecoder dec(bytes);
  walk_block(out.size(), row_length, first_column, out.data(), [&](size_t i, uint32_t nb) {
    dec.set_symbol(i);
    const uint64_t v = code_index(dec, *ctx, nb, 0, alphabet_size - 1);
    if (v >= alphabet_size)
      throw Error(ErrorKind::corrupt, "context stream: symbol " + std::to_string(i) + " decodes to index " +
                                          std::to_string(v) + ", outside the alphabet of " +
                                          std::to_string(alphabet_size));
    out[i] = uint32_t(v);
  });
  dec.finish();
}

std::vector<double> context_code_lengths_block(std::span<const uint32_t> indices, uint32_t alphabet_size,
                                               uint64_t row_length, uint64_t first_column) {
  check_indices(indices, alphabet_size, row_length, first_column);
  auto ctx = std::make_unique<Contexts>();
  CostMeter meter;
  std::vector<double> bits(indices.size());
  walk_block(indices.size(), row_length, first_column, indices.data(), [&](size_t i, uint32_t nb) {
    code_index(meter, *ctx, nb, indices[i], alphabet_size - 1);
    bits[i] = meter.take();
  });
  return bits;
}

}  // namespace vbq
