// Entropy coding of a sequence of arbitrary 64-bit symbols (code points, grid
// values, codebook indices) with the rANS coder and their empirical distribution.
//
// The alphabet is the sorted set of distinct symbols; its quantized frequencies
// form the code-point table, which travels in the file (paper Sec. 3.3,
// "Encoding"). The message is cut into blocks of block_symbols symbols, each an
// independent rANS stream, so blocks code in parallel and the bytes never depend
// on the thread count.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "vbq/rans.hpp"

namespace vbq {

inline constexpr uint64_t kDefaultBlockSymbols = uint64_t(1) << 20;

struct SymbolStream {
  std::vector<uint64_t> alphabet;  // distinct symbols, ascending
  FrequencyTable table;            // over indices into alphabet
  uint64_t count = 0;              // number of symbols in the message
  uint64_t block_symbols = kDefaultBlockSymbols;
  std::vector<std::vector<uint8_t>> blocks;  // ceil(count / block_symbols) rANS streams

  uint64_t payload_bytes() const;
};

// Throws ErrorKind::argument on an empty message.
SymbolStream encode_symbols(std::span<const uint64_t> symbols, int threads = 0,
                            uint64_t block_symbols = kDefaultBlockSymbols);

// Decodes into alphabet indices (out.size() == stream.count). Throws
// ErrorKind::corrupt if a block fails to decode; the message names the block.
void decode_symbol_indices(const SymbolStream& stream, std::span<uint32_t> out, int threads = 0);

// Decodes symbols [begin, end) only, from the blocks that overlap them, into
// out (size end - begin). Throws ErrorKind::argument on a bad range.
void decode_symbol_range(const SymbolStream& stream, uint64_t begin, uint64_t end, std::span<uint32_t> out);

// Ideal empirical entropy of the message in bits: sum over symbols of -log2(count/N).
double empirical_entropy_bits(std::span<const uint64_t> symbols);

}  // namespace vbq
