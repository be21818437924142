// Decode loops over a blocked message, shared by the entropy coders that cut a
// message into independent blocks (symbol_stream.cpp: rANS, context_coder.cpp).
// Block b holds symbols [b * block_symbols, min((b + 1) * block_symbols, count));
// decode_block(b, out) must fill out (that block's symbols) or throw vbq::Error.
// Private to lib/src.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vbq/error.hpp"

namespace vbq::detail {

inline int resolve_threads(int threads) { return threads > 0 ? threads : omp_get_num_procs(); }

// Decodes every block into out (size count), blocks in parallel. A failing block
// is reported after the loop as ErrorKind::corrupt with the first message caught.
template <class DecodeBlock>
void decode_all_blocks(uint64_t count, uint64_t block_symbols, std::span<uint32_t> out, int threads,
                       DecodeBlock&& decode_block) {
  const int64_t nblocks = int64_t((count + block_symbols - 1) / block_symbols);
  std::string first_error;
#pragma omp parallel for schedule(dynamic, 1) num_threads(resolve_threads(threads))
  for (int64_t b = 0; b < nblocks; ++b) {
    const uint64_t begin = uint64_t(b) * block_symbols, end = std::min(begin + block_symbols, count);
    try {
      decode_block(uint64_t(b), out.subspan(begin, end - begin));
    } catch (const Error& e) {
#pragma omp critical
      if (first_error.empty()) first_error = e.what();
    }
  }
  if (!first_error.empty()) throw Error(ErrorKind::corrupt, first_error);
}

// Throws ErrorKind::argument unless [begin, end) lies within count symbols and
// out has end - begin entries.
inline void check_symbol_range(uint64_t count, uint64_t begin, uint64_t end, size_t out_size) {
  if (begin > end || end > count || out_size != end - begin)
    throw Error(ErrorKind::argument, "decode: symbol range [" + std::to_string(begin) + ", " + std::to_string(end) +
                                         ") invalid for " + std::to_string(count) + " symbols");
}

// Decodes symbols [begin, end) into out from the blocks that overlap them only.
// The range must pass check_symbol_range.
template <class DecodeBlock>
void decode_block_range(uint64_t count, uint64_t block_symbols, uint64_t begin, uint64_t end, std::span<uint32_t> out,
                        DecodeBlock&& decode_block) {
  if (begin == end) return;
  std::vector<uint32_t> block;
  for (uint64_t b = begin / block_symbols; b <= (end - 1) / block_symbols; ++b) {
    const uint64_t first = b * block_symbols, last = std::min(first + block_symbols, count);
    block.resize(last - first);
    decode_block(b, std::span<uint32_t>(block));
    const uint64_t from = std::max(first, begin), to = std::min(last, end);
    std::copy(block.begin() + (from - first), block.begin() + (to - first), out.begin() + (from - begin));
  }
}

}  // namespace vbq::detail
