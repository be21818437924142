// rANS entropy coder (range asymmetric numeral systems), written for vbq.
//
// Read me first:
//  - Encoding runs over the symbols in REVERSE, and the byte stream is built
//    back to front, so that decoding runs forward.
//  - kRansStreams independent rANS states are interleaved round-robin in ONE
//    byte stream: symbol i belongs to state i % kRansStreams.
//  - State: 64 bits, renormalised 32 bits at a time; the state stays in
//    [kRansLower, kRansLower << 32). Probability precision up to kMaxPrecisionBits (28) bits.
//  - The coder knows nothing about models: it takes any FrequencyTable whose
//    invariants hold. Decoding is integer arithmetic only, so a stream decodes
//    identically everywhere.
//
// Stream layout (little-endian): the kRansStreams final states as u64, then the
// 32-bit renormalisation words in decode order.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace vbq {

inline constexpr int kRansStreams = 4;
inline constexpr uint64_t kRansLower = uint64_t(1) << 31;
inline constexpr uint32_t kMaxPrecisionBits = 28;

// A quantized probability model over symbols 0..size()-1.
// Invariants: 1 <= precision_bits <= kMaxPrecisionBits; sum(freq) == 1 << precision_bits;
// cumulative[s] = sum(freq[0..s)). A symbol with freq 0 cannot be coded.
struct FrequencyTable {
  uint32_t precision_bits = 0;
  std::vector<uint32_t> freq;
  std::vector<uint32_t> cumulative;  // size() + 1 entries

  size_t size() const { return freq.size(); }

  // Quantizes empirical counts to frequencies summing to 2^precision_bits, keeping
  // every nonzero count at freq >= 1 and minimising the coding cost approximately.
  // Requires: at least one nonzero count, and #nonzero counts <= 2^precision_bits.
  // Throws ErrorKind::argument otherwise.
  static FrequencyTable from_counts(std::span<const uint64_t> counts, uint32_t precision_bits);

  // Rebuilds a table read from a file. Throws ErrorKind::corrupt if the
  // invariants do not hold (sum, precision range).
  static FrequencyTable from_frequencies(std::vector<uint32_t> freq, uint32_t precision_bits);

  // Ideal code length in bits of a message with these symbol counts under this table:
  // sum_s counts[s] * (precision_bits - log2 freq[s]).
  double cost_bits(std::span<const uint64_t> counts) const;
};

// Smallest sensible precision for an alphabet of n symbols: max(16, ceil(log2 n) + 8),
// capped at kMaxPrecisionBits.
uint32_t default_precision_bits(size_t alphabet_size);

// Encodes symbols (each < table.size() with freq > 0), or, given `to_table`,
// the symbols to_table[symbols[i]] (a block's indices into its own few distinct
// symbols, mapped to the table's as they are coded). Throws ErrorKind::argument
// naming the index of the first symbol that cannot be coded.
std::vector<uint8_t> rans_encode(std::span<const uint32_t> symbols, const FrequencyTable& table,
                                 std::span<const uint32_t> to_table = {});

// Decodes exactly out.size() symbols. Throws ErrorKind::corrupt when the stream is
// too short, has trailing bytes, or does not end in the initial states.
void rans_decode(std::span<const uint8_t> bytes, const FrequencyTable& table, std::span<uint32_t> out);

// Decodes the first out.size() symbols of a stream that may hold more: decoding
// runs forward, so the rest of the stream is never read (one row of a block
// costs the symbols before it, not the whole block). Without rans_decode's
// end-of-stream checks, which need the whole stream; throws ErrorKind::corrupt
// if the stream is too short or a state is out of range.
void rans_decode_prefix(std::span<const uint8_t> bytes, const FrequencyTable& table, std::span<uint32_t> out);

}  // namespace vbq
