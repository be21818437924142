// Context-adaptive entropy coding of a tensor's symbols (beyond the paper).
//
// The rANS symbol stream (symbol_stream.hpp) codes every symbol with one static
// order-0 table. Tensors are not i.i.d.: in the first layer of an MLP the rows of
// dead input pixels are long runs of one symbol, which an order-0 coder pays for
// in full. This coder adapts as it goes, with contexts from the neighbours, like
// CABAC in H.264/HEVC and DeepCABAC in MPEG NNR. No frequency table travels: the
// decoder rebuilds every probability from the symbols it has already decoded.
//
// Read me first:
//  - It codes ALPHABET INDICES (0 .. alphabet_size-1), not symbols; the caller
//    keeps the alphabet. Small indices should be the likely ones: the sorted
//    alphabet does that for zigzagged grid values (0, -1, 1, ...) and, roughly,
//    for VBQ code points (shorter code points sort first).
//  - Binarization of an index v, each bin coded with its own adaptive
//    probability ("context"):
//      flags     [v > 0], [v > 1], ..., [v > kContextFlags-1], stopping at the
//                first 0 (truncated unary; none past alphabet_size - 1);
//      if v >= kContextFlags, r = v - kContextFlags by Exp-Golomb order 0:
//      prefix    n = floor(log2(r + 1)) as n ones and a zero (the zero is left
//                out at the largest n the alphabet allows);
//      suffix    the n low bits of r + 1, most significant first: a binary tree
//                of contexts per n <= kContextTreeBits, so the model can learn any
//                distribution there; equiprobable ("bypass") bits beyond.
//  - Contexts of the flags and the prefix: the bin's position, the classes of
//    two neighbours, the previous element in the row ("left") and the element
//    one row up in the same column ("above"), and whether the element two rows
//    up is 0. A class is min(v, 3), or "none" where the neighbour is missing
//    (at a row start, in the block's first rows). A rank-1 tensor has rows of
//    one element: "above" is the previous one. Measured on a Bayesian MLP
//    trained 3 epochs (bench_context_coder, 2026-11-30): finer classes (up to 5)
//    and per-class suffix trees gain < 0.5%, the two-rows-up bit 1%, slower
//    adaptation (shifts 5 and 8) loses 0.5%.
//  - Probabilities: 16-bit estimates of P(bin = 0), two per context, updated
//    by shifts of kFastShift and kSlowShift toward each bin (a fast and a slow
//    window), and the coder uses their mean.
//  - The binary coder is the LZMA range coder (32-bit range, carry by cache
//    byte): forward, byte-oriented, integer arithmetic only, so encoder and
//    decoder agree bit for bit on every platform.
//  - Blocks: a block is an independent stream that starts from fresh contexts.
//    SymbolStream (symbol_stream.hpp, EntropyCoder::context) cuts a message into
//    blocks, so blocks code in parallel, bytes never depend on the thread count,
//    and decoding a range decodes only the blocks that overlap it. With blocks
//    of whole rows (codec.hpp's row_block_symbols), "above" is missing only in a
//    block's first row.
//
// Block stream layout: the range coder's bytes, its always-zero first byte left
// out; 4 + (number of renormalisations) bytes. The decoder must consume all of
// them exactly.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace vbq {

inline constexpr uint32_t kContextFlags = 4;      // unary flags before Exp-Golomb
inline constexpr uint32_t kContextTreeBits = 10;  // suffix lengths with a context tree
inline constexpr uint32_t kFastShift = 4, kSlowShift = 7;

// One block: indices[i] is the element at column (first_column + i) % row_length
// of a row-major layout; contexts come from inside the block only.
// Requires alphabet_size >= 1, row_length >= 1, first_column < row_length, every
// index < alphabet_size (ErrorKind::argument naming the first bad index).
std::vector<uint8_t> context_encode_block(std::span<const uint32_t> indices, uint32_t alphabet_size,
                                          uint64_t row_length, uint64_t first_column = 0);

// Decodes exactly out.size() indices of a block made with the same alphabet_size,
// row_length and first_column. Throws ErrorKind::corrupt when the bytes are too
// short, have trailing bytes, or decode to an index >= alphabet_size (and on
// alphabet_size, row_length or first_column out of range); never reads outside `bytes`.
void context_decode_block(std::span<const uint8_t> bytes, uint32_t alphabet_size, uint64_t row_length,
                          std::span<uint32_t> out, uint64_t first_column = 0);

// What each element of a block costs under the adaptive model, in bits: the sum
// over its bins of -log2 P(bin) as the coder sees it (the stream matches the
// total to within its 4-byte flush). Same requirements as context_encode_block.
std::vector<double> context_code_lengths_block(std::span<const uint32_t> indices, uint32_t alphabet_size,
                                               uint64_t row_length, uint64_t first_column = 0);

}  // namespace vbq
