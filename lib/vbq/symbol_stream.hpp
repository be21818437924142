// Entropy coding of a sequence of arbitrary 64-bit symbols (code points, grid
// values, codebook indices) with the rANS coder and their empirical distribution.
//
// The alphabet is the sorted set of distinct symbols; its quantized frequencies
// form the code-point table, which travels in the file (paper Sec. 3.3,
// "Encoding"). The message is cut into blocks of block_symbols symbols, each an
// independent rANS stream, so blocks code in parallel and the bytes never depend
// on the thread count.
//
// Block tables (beyond the paper). Symbol statistics drift along a tensor: the
// rows of an embedding are words by falling frequency, and rare words' code
// points crowd onto a few cheap ones. So runs of adjacent blocks may get their
// own frequency table (over the same alphabet): the encoder starts from one
// table per block and merges neighbouring runs while that shrinks the estimated
// payload plus table bytes, ending at a single table when drift does not pay.
//
// Coders (beyond the paper). Blocks are coded either by rANS with the frequency
// tables above (EntropyCoder::rans, the paper's order-0 coding) or by the
// context-adaptive coder of context_coder.hpp (EntropyCoder::context), which
// needs no frequency table but the row length of the tensor's layout.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vbq/rans.hpp"

namespace vbq {

inline constexpr uint64_t kDefaultBlockSymbols = uint64_t(1) << 20;

enum class EntropyCoder : uint8_t { rans = 1, context = 2 };

// Command-line names: "rans", "ctx". parse throws ErrorKind::argument naming both.
const char* entropy_coder_name(EntropyCoder coder);
EntropyCoder parse_entropy_coder(const std::string& name);

// Bytes of v as an LEB128 varint, the container's encoding of table entries
// (for estimates of table size).
inline int varint_bytes(uint64_t v) {
  int n = 1;
  while (v >= 128) v >>= 7, ++n;
  return n;
}

struct SymbolStream {
  std::vector<uint64_t> alphabet;  // distinct symbols, ascending
  EntropyCoder coder = EntropyCoder::rans;
  // rans: frequency tables over indices into alphabet, all of one precision; a
  // table may give 0 to symbols its blocks do not use. Block b is coded with
  // tables[block_table[b]]. context: both empty.
  std::vector<FrequencyTable> tables;
  std::vector<uint32_t> block_table;  // one entry per block
  uint64_t row_length = 1;            // context: elements per row of the layout (contexts)
  uint64_t count = 0;                 // number of symbols in the message
  uint64_t block_symbols = kDefaultBlockSymbols;
  std::vector<std::vector<uint8_t>> blocks;  // ceil(count / block_symbols) streams of `coder`

  uint64_t payload_bytes() const;
  const FrequencyTable& table_of(uint64_t block) const { return tables[block_table[block]]; }
};

// Throws ErrorKind::argument on an empty message. block_tables = false keeps one
// table for the whole message (the paper's layout). coder = context codes the
// blocks with context_coder.hpp in a layout of rows of row_length elements
// (block_tables is then ignored).
SymbolStream encode_symbols(std::span<const uint64_t> symbols, int threads = 0,
                            uint64_t block_symbols = kDefaultBlockSymbols, bool block_tables = true,
                            EntropyCoder coder = EntropyCoder::rans, uint64_t row_length = 1);

// encode_symbols in two stages, for encoders that count and code the blocks
// apart (python/vbq/dask.py on a cluster); with the same counts they give the
// same stream. plan_symbol_stream: the stream without its blocks (alphabet,
// count, block_symbols, coder, tables and block_table), from the ascending
// distinct symbols of the message and block_counts[b][i], the count of
// alphabet[i] in block b (every block but the last holds block_symbols).
// encode_block: the bytes of block b of a planned stream from its symbols
// (each in the alphabet), or from the block's distinct symbols and each
// element's index into them (symbol_counts). All throw ErrorKind::argument on
// inconsistent input.
SymbolStream plan_symbol_stream(std::vector<uint64_t> alphabet, std::vector<std::vector<uint64_t>> block_counts,
                                uint64_t block_symbols, bool block_tables = true,
                                EntropyCoder coder = EntropyCoder::rans, uint64_t row_length = 1);
std::vector<uint8_t> encode_block(const SymbolStream& stream, uint64_t block, std::span<const uint64_t> symbols);
std::vector<uint8_t> encode_block(const SymbolStream& stream, uint64_t block, std::span<const uint64_t> distinct,
                                  std::span<const uint32_t> indices);

// The same message with the context coder, from a rANS stream (same alphabet and
// blocks): decodes and re-encodes. Throws as decode_symbol_indices.
SymbolStream recode_with_context(const SymbolStream& stream, uint64_t row_length, int threads = 0);

// Decodes into alphabet indices (out.size() == stream.count). Throws
// ErrorKind::corrupt if a block fails to decode; the message names the block.
void decode_symbol_indices(const SymbolStream& stream, std::span<uint32_t> out, int threads = 0);
// The same for whole blocks first_block, first_block + 1, ... only (out covers
// them exactly; the stream's last block may be among them), in parallel.
void decode_symbol_blocks(const SymbolStream& stream, uint64_t first_block, std::span<uint32_t> out, int threads = 0);

// Decodes symbols [begin, end) only, from the blocks that overlap them, into
// out (size end - begin); a rANS block is decoded from its start up to `end`
// only, without the checks at its end. Throws ErrorKind::argument on a bad range.
void decode_symbol_range(const SymbolStream& stream, uint64_t begin, uint64_t end, std::span<uint32_t> out);

// Ideal empirical entropy of the message in bits: sum over symbols of -log2(count/N).
double empirical_entropy_bits(std::span<const uint64_t> symbols);

// The distinct symbols of a message, ascending, and how often each occurs.
struct SymbolCounts {
  std::vector<uint64_t> symbols, counts;
};
// indices, if given (one per symbol): each symbol's index in the result's symbols.
SymbolCounts symbol_counts(std::span<const uint64_t> symbols, std::span<uint32_t> indices = {});

}  // namespace vbq
