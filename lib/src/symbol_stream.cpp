#include "vbq/symbol_stream.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "vbq/error.hpp"

namespace vbq {

static int resolve_threads(int threads) { return threads > 0 ? threads : omp_get_num_procs(); }

uint64_t SymbolStream::payload_bytes() const {
  uint64_t total = 0;
  for (auto& b : blocks) total += b.size();
  return total;
}

// Sorted distinct symbols and their counts.
static void histogram(std::span<const uint64_t> symbols, std::vector<uint64_t>& alphabet,
                      std::vector<uint64_t>& counts) {
  std::vector<uint64_t> sorted(symbols.begin(), symbols.end());
  std::sort(sorted.begin(), sorted.end());
  alphabet.clear();
  counts.clear();
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    alphabet.push_back(sorted[i]);
    counts.push_back(j - i);
    i = j;
  }
}

SymbolStream encode_symbols(std::span<const uint64_t> symbols, int threads, uint64_t block_symbols) {
  if (symbols.empty()) throw Error(ErrorKind::argument, "cannot entropy-code an empty message");
  if (block_symbols == 0) throw Error(ErrorKind::argument, "block size must be > 0");
  SymbolStream s;
  std::vector<uint64_t> counts;
  histogram(symbols, s.alphabet, counts);
  s.table = FrequencyTable::from_counts(counts, default_precision_bits(s.alphabet.size()));
  s.count = symbols.size();
  s.block_symbols = block_symbols;

  std::vector<uint32_t> indices(symbols.size());
  const int64_t n = int64_t(symbols.size());
#pragma omp parallel for schedule(static) num_threads(resolve_threads(threads))
  for (int64_t i = 0; i < n; ++i)
    indices[i] = uint32_t(std::lower_bound(s.alphabet.begin(), s.alphabet.end(), symbols[i]) - s.alphabet.begin());

  const int64_t nblocks = int64_t((s.count + block_symbols - 1) / block_symbols);
  s.blocks.resize(nblocks);
#pragma omp parallel for schedule(dynamic, 1) num_threads(resolve_threads(threads))
  for (int64_t b = 0; b < nblocks; ++b) {
    size_t begin = size_t(b) * block_symbols, end = std::min<size_t>(begin + block_symbols, s.count);
    s.blocks[b] = rans_encode(std::span(indices).subspan(begin, end - begin), s.table);
  }
  return s;
}

static void check_block_count(const SymbolStream& s) {
  if (s.block_symbols == 0 || s.blocks.size() != (s.count + s.block_symbols - 1) / s.block_symbols)
    throw Error(ErrorKind::corrupt, "block count does not match symbol count");
}

// Decodes block b (all its symbols) into out.
static void decode_block(const SymbolStream& s, uint64_t b, std::span<uint32_t> out) {
  try {
    rans_decode(s.blocks[b], s.table, out);
  } catch (const Error& e) {
    throw Error(ErrorKind::corrupt, "block " + std::to_string(b) + ": " + e.what());
  }
}

void decode_symbol_indices(const SymbolStream& s, std::span<uint32_t> out, int threads) {
  if (out.size() != s.count) throw Error(ErrorKind::argument, "decode: output size differs from symbol count");
  check_block_count(s);
  const int64_t nblocks = int64_t(s.blocks.size());
  std::string first_error;
#pragma omp parallel for schedule(dynamic, 1) num_threads(resolve_threads(threads))
  for (int64_t b = 0; b < nblocks; ++b) {
    size_t begin = size_t(b) * s.block_symbols, end = std::min<size_t>(begin + s.block_symbols, s.count);
    try {
      decode_block(s, b, out.subspan(begin, end - begin));
    } catch (const Error& e) {
#pragma omp critical
      if (first_error.empty()) first_error = e.what();
    }
  }
  if (!first_error.empty()) throw Error(ErrorKind::corrupt, first_error);
}

void decode_symbol_range(const SymbolStream& s, uint64_t begin, uint64_t end, std::span<uint32_t> out) {
  if (begin > end || end > s.count || out.size() != end - begin)
    throw Error(ErrorKind::argument, "decode: symbol range [" + std::to_string(begin) + ", " + std::to_string(end) +
                                         ") invalid for " + std::to_string(s.count) + " symbols");
  check_block_count(s);
  if (begin == end) return;
  std::vector<uint32_t> block;
  for (uint64_t b = begin / s.block_symbols; b <= (end - 1) / s.block_symbols; ++b) {
    const uint64_t first = b * s.block_symbols, last = std::min(first + s.block_symbols, s.count);
    block.resize(last - first);
    decode_block(s, b, block);
    const uint64_t from = std::max(first, begin), to = std::min(last, end);
    std::copy(block.begin() + (from - first), block.begin() + (to - first), out.begin() + (from - begin));
  }
}

double empirical_entropy_bits(std::span<const uint64_t> symbols) {
  std::vector<uint64_t> alphabet, counts;
  histogram(symbols, alphabet, counts);
  double n = double(symbols.size()), bits = 0;
  for (uint64_t c : counts) bits -= double(c) * std::log2(double(c) / n);
  return bits;
}

}  // namespace vbq
