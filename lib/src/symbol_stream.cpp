#include "vbq/symbol_stream.hpp"

#include "parallel.hpp"


#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "vbq/buffer.hpp"
#include "vbq/context_coder.hpp"
#include "vbq/error.hpp"

namespace vbq {


uint64_t SymbolStream::payload_bytes() const {
  uint64_t total = 0;
  for (auto& b : blocks) total += b.size();
  return total;
}

// The alphabet of a message (its sorted distinct symbols with their counts)
// and the map from a symbol to its index in it. Small symbols (code points of
// up to 15 bits, or 19 in messages of 2^24 symbols, grid levels, codebook
// indices) use a direct table; larger ones, such as the few long code points
// of far-out means, an open-addressing hash table beside it. The message
// is read once; index() is read-only, so blocks map their symbols in parallel.
class Alphabet {
 public:
  explicit Alphabet(std::span<const uint64_t> symbols) {
    uint64_t max = 0;
    for (uint64_t x : symbols) max = std::max(max, x);
    // A table no larger than the message needs (a block of 2^20 keys gets 2^16 entries).
    const uint64_t direct =
        symbols.empty() ? 0 : std::min({max + 1, kDirectLimit, std::max<uint64_t>(65536, symbols.size() / 16)});
    std::vector<uint64_t> count(direct, 0), large_count;
    for (uint64_t x : symbols) {
      if (x < direct) {
        ++count[x];
        continue;
      }
      size_t i = find(x);
      if (slot_[i] == kEmpty) i = insert(x, i), large_count.push_back(0);
      ++large_count[slot_[i]];
    }
    direct_index_.assign(direct, 0);
    for (uint64_t x = 0; x < direct; ++x)
      if (count[x]) direct_index_[x] = uint32_t(symbols_.size()), symbols_.push_back(x), counts_.push_back(count[x]);
    // Large symbols follow the direct ones; slots are in order of first appearance
    // and become ranks.
    const uint32_t first = uint32_t(symbols_.size());
    std::vector<uint32_t> order(large_.size());
    for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return large_[a] < large_[b]; });
    std::vector<uint32_t> rank(order.size());
    for (uint32_t r = 0; r < order.size(); ++r) {
      rank[order[r]] = first + r;
      symbols_.push_back(large_[order[r]]), counts_.push_back(large_count[order[r]]);
    }
    for (uint32_t& s : slot_)
      if (s != kEmpty) s = rank[s];
  }
  const std::vector<uint64_t>& symbols() const { return symbols_; }  // ascending
  const std::vector<uint64_t>& counts() const { return counts_; }
  // Index of a symbol of the message.
  uint32_t index(uint64_t x) const { return x < direct_index_.size() ? direct_index_[x] : slot_[find(x)]; }

 private:
  static constexpr uint64_t kDirectLimit = uint64_t(1) << 20;
  static constexpr uint32_t kEmpty = UINT32_MAX;
  size_t find(uint64_t x) const {
    size_t i = size_t((x * 0x9E3779B97F4A7C15ull) >> shift_);
    while (slot_[i] != kEmpty && key_[i] != x) i = (i + 1) & mask_;
    return i;
  }
  size_t insert(uint64_t x, size_t i) {
    if (2 * (large_.size() + 1) > slot_.size()) {
      rehash(slot_.size() * 2);
      i = find(x);
    }
    key_[i] = x, slot_[i] = uint32_t(large_.size()), large_.push_back(x);
    return i;
  }
  void rehash(size_t size) {
    shift_ = 64 - std::countr_zero(size), mask_ = size - 1;
    key_.assign(size, 0), slot_.assign(size, kEmpty);
    for (uint32_t k = 0; k < large_.size(); ++k) {
      size_t i = find(large_[k]);
      key_[i] = large_[k], slot_[i] = k;
    }
  }
  std::vector<uint32_t> direct_index_;
  int shift_ = 64 - 4;
  size_t mask_ = 15;
  std::vector<uint64_t> key_ = std::vector<uint64_t>(16, 0);
  std::vector<uint32_t> slot_ = std::vector<uint32_t>(16, kEmpty);
  std::vector<uint64_t> large_;  // symbols >= the direct table's size, in order of first appearance
  std::vector<uint64_t> symbols_, counts_;
};

// Estimated bits of a run of blocks with its own table: the ideal payload (the
// empirical entropy of its counts) plus the table's frequencies as varints.
static double run_bits(std::span<const uint64_t> counts, uint32_t precision) {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  double bits = 0;
  for (uint64_t c : counts) {
    const double p = double(c) / double(n);
    bits += c ? -double(c) * std::log2(p) + 8.0 * varint_bytes(std::max<uint64_t>(1, uint64_t(std::ldexp(p, int(precision))))) : 8.0;
  }
  return bits;
}

// Table index of each block: runs of adjacent blocks, merged greedily (the pair
// whose merge saves most bits first) while a merge saves bits. block_counts[b]
// holds block b's count of every alphabet symbol; on return, the first run of
// each table holds the table's counts.
static std::vector<uint32_t> group_blocks(std::vector<std::vector<uint64_t>>& block_counts, uint32_t precision) {
  struct Run {
    size_t first;  // block whose counts hold the run's
    double bits;
  };
  std::vector<Run> runs;
  for (size_t b = 0; b < block_counts.size(); ++b) runs.push_back({b, run_bits(block_counts[b], precision)});
  std::vector<uint64_t> merged;
  auto merged_bits = [&](const Run& x, const Run& y) {
    merged = block_counts[x.first];
    for (size_t i = 0; i < merged.size(); ++i) merged[i] += block_counts[y.first][i];
    return run_bits(merged, precision);
  };
  std::vector<double> saving(runs.size() ? runs.size() - 1 : 0);  // saving[i]: merge runs i and i + 1
  for (size_t i = 0; i < saving.size(); ++i) saving[i] = runs[i].bits + runs[i + 1].bits - merged_bits(runs[i], runs[i + 1]);
  while (!saving.empty()) {
    const size_t i = size_t(std::max_element(saving.begin(), saving.end()) - saving.begin());
    if (!(saving[i] > 0)) break;
    runs[i].bits = merged_bits(runs[i], runs[i + 1]);
    block_counts[runs[i].first] = merged;
    runs.erase(runs.begin() + std::ptrdiff_t(i) + 1);
    saving.erase(saving.begin() + std::ptrdiff_t(i));
    if (i > 0) saving[i - 1] = runs[i - 1].bits + runs[i].bits - merged_bits(runs[i - 1], runs[i]);
    if (i < saving.size()) saving[i] = runs[i].bits + runs[i + 1].bits - merged_bits(runs[i], runs[i + 1]);
  }
  std::vector<uint32_t> table(block_counts.size());
  for (size_t r = 0; r < runs.size(); ++r) {
    const size_t end = r + 1 < runs.size() ? runs[r + 1].first : block_counts.size();
    for (size_t b = runs[r].first; b < end; ++b) table[b] = uint32_t(r);
  }
  return table;
}

// Per-block tables are considered up to this many (block, symbol) counts.
static constexpr uint64_t kMaxBlockCounts = uint64_t(1) << 24;

// Block b of s (alphabet, count, block_symbols, coder and, for rans, tables
// set) from its symbols' alphabet indices.
static std::vector<uint8_t> code_block(const SymbolStream& s, uint64_t b, std::span<const uint32_t> block) {
  return s.coder == EntropyCoder::context
             ? context_encode_block(block, uint32_t(s.alphabet.size()), s.row_length, b * s.block_symbols % s.row_length)
             : rans_encode(block, s.table_of(b));
}

// Codes all blocks of s from the message's alphabet indices.
static void encode_blocks(SymbolStream& s, std::span<const uint32_t> indices, [[maybe_unused]] int nthreads) {
  const int64_t nblocks = int64_t((s.count + s.block_symbols - 1) / s.block_symbols);
  s.blocks.resize(nblocks);
VBQ_OMP(parallel for schedule(dynamic, 1) num_threads(nthreads))
  for (int64_t b = 0; b < nblocks; ++b) {
    const uint64_t begin = uint64_t(b) * s.block_symbols, end = std::min(begin + s.block_symbols, s.count);
    s.blocks[b] = code_block(s, uint64_t(b), indices.subspan(begin, end - begin));
  }
}

// Whether the blocks get their own frequency tables (then merged by group_blocks).
static bool per_block_tables(bool block_tables, EntropyCoder coder, uint64_t nblocks, size_t alphabet_size) {
  return coder == EntropyCoder::rans && block_tables && nblocks > 1 &&
         nblocks * alphabet_size <= kMaxBlockCounts;
}

// The frequency tables of s (rans): from the blocks' counts when per-block
// tables are considered (block_counts nonempty; group_blocks rewrites them),
// else one table of the message's counts.
static void choose_tables(SymbolStream& s, std::vector<std::vector<uint64_t>>& block_counts,
                          std::span<const uint64_t> message_counts) {
  if (s.coder != EntropyCoder::rans) return;  // the context coder needs no tables
  const uint32_t precision = default_precision_bits(s.alphabet.size());
  const uint64_t nblocks = (s.count + s.block_symbols - 1) / s.block_symbols;
  if (!block_counts.empty()) {
    s.block_table = group_blocks(block_counts, precision);
    for (size_t b = 0; b < block_counts.size(); ++b)
      if (b == 0 || s.block_table[b] != s.block_table[b - 1])
        s.tables.push_back(FrequencyTable::from_counts(block_counts[b], precision));
  } else {
    s.tables.push_back(FrequencyTable::from_counts(message_counts, precision));
    s.block_table.assign(nblocks, 0);
  }
}

SymbolStream encode_symbols(std::span<const uint64_t> symbols, int threads, uint64_t block_symbols,
                            bool block_tables, EntropyCoder coder, uint64_t row_length) {
  if (symbols.empty()) throw Error(ErrorKind::argument, "cannot entropy-code an empty message");
  if (block_symbols == 0) throw Error(ErrorKind::argument, "block size must be > 0");
  if (row_length == 0) throw Error(ErrorKind::argument, "row length must be > 0");
  SymbolStream s;
  const Alphabet alphabet(symbols);
  s.alphabet = alphabet.symbols();
  s.count = symbols.size();
  s.block_symbols = block_symbols;
  s.coder = coder;
  if (coder == EntropyCoder::context) s.row_length = row_length;
  const int64_t nblocks = int64_t((s.count + block_symbols - 1) / block_symbols);
  const int nthreads = resolve_threads(threads);

  // Each symbol's alphabet index, looked up once; with block tables, each block's counts.
  UninitializedVector<uint32_t> indices(s.count);
  const bool per_block = per_block_tables(block_tables, coder, uint64_t(nblocks), s.alphabet.size());
  std::vector<std::vector<uint64_t>> counts(per_block ? nblocks : 0);
VBQ_OMP(parallel for schedule(dynamic, 1) num_threads(nthreads))
  for (int64_t b = 0; b < nblocks; ++b) {
    const size_t begin = size_t(b) * block_symbols, end = std::min<size_t>(begin + block_symbols, s.count);
    for (size_t i = begin; i < end; ++i) indices[i] = alphabet.index(symbols[i]);
    if (per_block) {
      counts[b].assign(s.alphabet.size(), 0);
      for (size_t i = begin; i < end; ++i) ++counts[b][indices[i]];
    }
  }
  choose_tables(s, counts, alphabet.counts());
  encode_blocks(s, indices, nthreads);
  return s;
}

SymbolStream plan_symbol_stream(std::vector<uint64_t> alphabet, std::vector<std::vector<uint64_t>> block_counts,
                                uint64_t block_symbols, bool block_tables, EntropyCoder coder, uint64_t row_length) {
  if (alphabet.empty() || !std::is_sorted(alphabet.begin(), alphabet.end()) ||
      std::adjacent_find(alphabet.begin(), alphabet.end()) != alphabet.end())
    throw Error(ErrorKind::argument, "plan: the alphabet must be nonempty, ascending and distinct");
  if (block_symbols == 0 || row_length == 0) throw Error(ErrorKind::argument, "plan: block size and row length must be > 0");
  SymbolStream s;
  s.alphabet = std::move(alphabet);
  s.block_symbols = block_symbols;
  s.coder = coder;
  if (coder == EntropyCoder::context) s.row_length = row_length;
  std::vector<uint64_t> totals(s.alphabet.size(), 0);
  for (size_t b = 0; b < block_counts.size(); ++b) {
    if (block_counts[b].size() != s.alphabet.size())
      throw Error(ErrorKind::argument, "plan: block " + std::to_string(b) + " has counts of " +
                                           std::to_string(block_counts[b].size()) + " symbols, the alphabet " +
                                           std::to_string(s.alphabet.size()));
    uint64_t n = 0;
    for (size_t i = 0; i < totals.size(); ++i) totals[i] += block_counts[b][i], n += block_counts[b][i];
    s.count += n;
    if (n != block_symbols && b + 1 < block_counts.size())
      throw Error(ErrorKind::argument, "plan: block " + std::to_string(b) + " holds " + std::to_string(n) +
                                           " symbols, not " + std::to_string(block_symbols));
  }
  if (s.count == 0 || block_counts.size() != (s.count + block_symbols - 1) / block_symbols)
    throw Error(ErrorKind::argument, "plan: the blocks' counts do not make whole blocks of " +
                                         std::to_string(block_symbols) + " symbols");
  if (!per_block_tables(block_tables, coder, block_counts.size(), s.alphabet.size())) block_counts.clear();
  choose_tables(s, block_counts, totals);
  return s;
}

std::vector<uint8_t> encode_block(const SymbolStream& s, uint64_t b, std::span<const uint64_t> symbols) {
  const Alphabet local(symbols);
  UninitializedVector<uint32_t> indices(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) indices[i] = local.index(symbols[i]);
  return encode_block(s, b, local.symbols(), indices);
}

std::vector<uint8_t> encode_block(const SymbolStream& s, uint64_t b, std::span<const uint64_t> distinct,
                                  std::span<const uint32_t> indices) {
  const uint64_t nblocks = (s.count + s.block_symbols - 1) / s.block_symbols;
  if (b >= nblocks || indices.size() != std::min(s.block_symbols, s.count - b * s.block_symbols))
    throw Error(ErrorKind::argument, "encode_block: block " + std::to_string(b) + " of " + std::to_string(nblocks) +
                                         " cannot hold " + std::to_string(indices.size()) + " symbols");
  // The block's (few) distinct symbols are found in the stream's alphabet once.
  std::vector<uint32_t> to_stream(distinct.size());
  for (size_t k = 0; k < to_stream.size(); ++k) {
    const uint64_t x = distinct[k];
    const auto it = std::lower_bound(s.alphabet.begin(), s.alphabet.end(), x);
    if (it == s.alphabet.end() || *it != x)
      throw Error(ErrorKind::argument, "encode_block: block " + std::to_string(b) + " holds symbol " +
                                           std::to_string(x) + ", which is not in the alphabet");
    to_stream[k] = uint32_t(it - s.alphabet.begin());
  }
  uint32_t most = 0;
  for (uint32_t i : indices) most = std::max(most, i);
  if (!indices.empty() && most >= to_stream.size()) {
    const size_t i = size_t(std::find_if(indices.begin(), indices.end(), [&](uint32_t x) { return x >= to_stream.size(); }) -
                            indices.begin());
    throw Error(ErrorKind::argument, "encode_block: block " + std::to_string(b) + ", element " + std::to_string(i) +
                                         ": index " + std::to_string(indices[i]) + " beyond its " +
                                         std::to_string(to_stream.size()) + " distinct symbols");
  }
  if (s.coder == EntropyCoder::rans) return rans_encode(indices, s.table_of(b), to_stream);  // mapped as coded
  UninitializedVector<uint32_t> mapped(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) mapped[i] = to_stream[indices[i]];
  return code_block(s, b, mapped);
}

SymbolStream recode_with_context(const SymbolStream& stream, uint64_t row_length, int threads) {
  if (row_length == 0) throw Error(ErrorKind::argument, "row length must be > 0");
  UninitializedVector<uint32_t> indices(stream.count);
  decode_symbol_indices(stream, indices, threads);
  SymbolStream s;
  s.alphabet = stream.alphabet;
  s.count = stream.count;
  s.block_symbols = stream.block_symbols;
  s.coder = EntropyCoder::context;
  s.row_length = row_length;
  encode_blocks(s, indices, resolve_threads(threads));
  return s;
}

const char* entropy_coder_name(EntropyCoder coder) { return coder == EntropyCoder::context ? "ctx" : "rans"; }

EntropyCoder parse_entropy_coder(const std::string& name) {
  if (name == "rans") return EntropyCoder::rans;
  if (name == "ctx") return EntropyCoder::context;
  throw Error(ErrorKind::argument, "unknown entropy coder '" + name + "' (expected rans or ctx)");
}

static void check_block_count(const SymbolStream& s) {
  if (s.block_symbols == 0 || s.blocks.size() != (s.count + s.block_symbols - 1) / s.block_symbols)
    throw Error(ErrorKind::corrupt, "block count does not match symbol count");
  if (s.coder == EntropyCoder::context) {
    if (s.alphabet.empty() || s.alphabet.size() > UINT32_MAX) throw Error(ErrorKind::corrupt, "alphabet size out of range");
    if (s.row_length == 0) throw Error(ErrorKind::corrupt, "row length is 0");
    return;
  }
  if (s.coder != EntropyCoder::rans) throw Error(ErrorKind::unsupported, "unknown entropy coder");
  if (s.block_table.size() != s.blocks.size()) throw Error(ErrorKind::corrupt, "block table count differs from blocks");
  for (uint32_t t : s.block_table)
    if (t >= s.tables.size()) throw Error(ErrorKind::corrupt, "block table index out of range");
}

// Decodes block b into out: all its symbols, or (rANS only, see
// rans_decode_prefix) its first out.size().
static void decode_block(const SymbolStream& s, uint64_t b, std::span<uint32_t> out) {
  try {
    if (s.coder == EntropyCoder::context)
      context_decode_block(s.blocks[b], uint32_t(s.alphabet.size()), s.row_length, out,
                           b * s.block_symbols % s.row_length);
    else if (out.size() < std::min(s.block_symbols, s.count - b * s.block_symbols))
      rans_decode_prefix(s.blocks[b], s.table_of(b), out);
    else
      rans_decode(s.blocks[b], s.table_of(b), out);
  } catch (const Error& e) {
    throw Error(ErrorKind::corrupt, "block " + std::to_string(b) + ": " + e.what());
  }
}

void decode_symbol_indices(const SymbolStream& s, std::span<uint32_t> out, int threads) {
  if (out.size() != s.count) throw Error(ErrorKind::argument, "decode: output size differs from symbol count");
  decode_symbol_blocks(s, 0, out, threads);
}

void decode_symbol_blocks(const SymbolStream& s, uint64_t first_block, std::span<uint32_t> out,
                          [[maybe_unused]] int threads) {
  check_block_count(s);
  const uint64_t first = first_block * s.block_symbols;
  if (first_block > s.blocks.size() || out.size() > s.count - std::min(first, s.count) ||
      (first + out.size() != s.count && out.size() % s.block_symbols != 0))
    throw Error(ErrorKind::argument, "decode: " + std::to_string(out.size()) + " symbols from block " +
                                         std::to_string(first_block) + " are not whole blocks");
  const int64_t nblocks = int64_t((out.size() + s.block_symbols - 1) / s.block_symbols);
  std::string first_error;
VBQ_OMP(parallel for schedule(dynamic, 1) num_threads(resolve_threads(threads)))
  for (int64_t k = 0; k < nblocks; ++k) {
    const uint64_t b = first_block + uint64_t(k);
    size_t begin = size_t(k) * s.block_symbols, end = std::min<size_t>(begin + s.block_symbols, out.size());
    try {
      decode_block(s, b, out.subspan(begin, end - begin));
    } catch (const Error& e) {
VBQ_OMP(critical)
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
    const uint64_t from = std::max(first, begin), to = std::min(last, end);
    // rANS decodes forward: a block is decoded up to `to` only (the context coder: whole).
    const uint64_t upto = s.coder == EntropyCoder::rans ? to : last;
    if (from == first && upto == to) {  // straight into out
      decode_block(s, b, out.subspan(from - begin, to - from));
      continue;
    }
    block.resize(upto - first);
    decode_block(s, b, block);
    std::copy(block.begin() + (from - first), block.begin() + (to - first), out.begin() + (from - begin));
  }
}

SymbolCounts symbol_counts(std::span<const uint64_t> symbols, std::span<uint32_t> indices) {
  const Alphabet alphabet(symbols);
  if (!indices.empty()) {
    if (indices.size() != symbols.size()) throw Error(ErrorKind::argument, "symbol_counts: one index per symbol");
    for (size_t i = 0; i < symbols.size(); ++i) indices[i] = alphabet.index(symbols[i]);
  }
  return {alphabet.symbols(), alphabet.counts()};
}

double empirical_entropy_bits(std::span<const uint64_t> symbols) {
  const Alphabet alphabet(symbols);
  double n = double(symbols.size()), bits = 0;
  for (uint64_t c : alphabet.counts()) bits -= double(c) * std::log2(double(c) / n);
  return bits;
}

}  // namespace vbq
