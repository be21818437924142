#include "formats/container.hpp"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>

#include "formats/atomic_file.hpp"
#include "formats/byte_io.hpp"
#include "formats/crc32c.hpp"
#include "vbq/error.hpp"

namespace vbq {

namespace {

constexpr unsigned char kMagic[4] = {0x89, 'V', 'B', 'Q'};
constexpr uint16_t kFlagVocab = 1;
constexpr size_t kHeaderBytes = 16;
constexpr uint64_t kMaxElements = uint64_t(1) << 48;
constexpr uint64_t kMaxBlockSymbols = uint64_t(1) << 24;
constexpr uint64_t kMaxRank = 32;
constexpr uint64_t kMaxPriorParameters = 64;

// The section checksum by major version: 1.x CRC-32 (zlib), 2.x CRC-32C.
// extend(crc, b) continues a checksum over more bytes (extend(0, b): of b alone).
struct Checksum {
  const char* name;
  uint32_t (*extend)(uint32_t, std::string_view);
  uint32_t of(std::string_view b) const { return extend(0, b); }
};
uint32_t zlib_crc32(uint32_t crc_so_far, std::string_view b) {
  uLong crc = crc_so_far;
  for (size_t done = 0; done < b.size();) {  // zlib takes uInt lengths
    uInt n = uInt(std::min<size_t>(b.size() - done, size_t(1) << 30));
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(b.data() + done), n);
    done += n;
  }
  return uint32_t(crc);
}
constexpr Checksum kCrc32{"CRC-32", zlib_crc32};
constexpr Checksum kCrc32c{"CRC-32C", crc32c_extend};
const Checksum& checksum_of_version(uint8_t major) { return major == 1 ? kCrc32 : kCrc32c; }

// The container's reader: a ByteReader that knows the file's checksum.
struct Reader : ByteReader {
  const Checksum* checksum = &kCrc32c;
};

// The container's coder byte of a tensor (SPEC "Tensor section body"): the
// coder, plus kGainsBit when row-group gains follow the escapes (4.2) and
// kColumnMeansBit when column means follow them (4.3).
constexpr uint8_t kCoderRans = 0, kCoderContext = 1, kGainsBit = 0x80, kColumnMeansBit = 0x40;
uint8_t coder_byte(const EncodedTensor& t) {
  const uint8_t gains = uint8_t((t.gains.empty() ? 0 : kGainsBit) | (t.column_means.empty() ? 0 : kColumnMeansBit));
  switch (t.symbols.coder) {
    case EntropyCoder::rans: return kCoderRans | gains;
    case EntropyCoder::context: return kCoderContext | gains;
  }
  throw Error(ErrorKind::unsupported, "tensor '" + t.name + "': unknown entropy coder " +
                                          std::to_string(int(t.symbols.coder)));
}

// The code-point table; a context-coded tensor has neither precision nor frequency tables.
void write_table(ByteWriter& w, const EncodedTensor& t) {
  const SymbolStream& s = t.symbols;
  const bool rans = s.coder == EntropyCoder::rans;
  w.varint(s.alphabet.size());
  if (rans) w.u8(uint8_t(s.tables.at(0).precision_bits));
  uint64_t prev = 0;
  for (size_t i = 0; i < s.alphabet.size(); ++i) w.varint(s.alphabet[i] - (i ? prev : 0)), prev = s.alphabet[i];
  if (t.quantizer == QuantizerKind::vbq) {
    const std::vector<double> values = alphabet_values(t);
    for (size_t i = has_escape(t); i < values.size(); ++i) w.value(values[i], t.float32);
  }
  if (!rans) return;
  w.varint(s.tables.size());
  for (const FrequencyTable& t : s.tables)
    for (uint32_t f : t.freq) w.varint(f);
}

// The tensor section body up to its payload; block_bytes: the length of each block.
void write_tensor_head(ByteWriter& w, const EncodedTensor& t, std::span<const uint64_t> block_bytes,
                       uint64_t* table_bytes) {
  w.str(t.name);
  w.str(t.mean_path);
  w.u8(t.float32 ? 1 : 2);
  w.varint(t.shape.size());
  for (uint64_t d : t.shape) w.varint(d);
  w.u8(uint8_t(t.quantizer));
  switch (t.quantizer) {
    case QuantizerKind::vbq:
      w.u8(uint8_t(t.prior_family));
      w.varint(t.prior_parameters.size());
      for (double p : t.prior_parameters) w.f64(p);
      w.f64(t.lambda);
      w.u8(t.max_rate_bits);
      break;
    case QuantizerKind::grid:
    case QuantizerKind::codebook:
      w.varint(t.values.size());
      for (double v : t.values) w.f64(v);
      break;
  }
  w.u8(coder_byte(t));
  size_t table_start = w.out.size();
  write_table(w, t);
  *table_bytes = w.out.size() - table_start;
  w.varint(t.symbols.count);
  w.varint(t.symbols.block_symbols);
  if (block_bytes.size() != (t.symbols.count + t.symbols.block_symbols - 1) / t.symbols.block_symbols)
    throw Error(ErrorKind::argument, "tensor '" + t.name + "': " + std::to_string(block_bytes.size()) +
                                         " blocks for " + std::to_string(t.symbols.count) + " symbols");
  for (uint64_t n : block_bytes) w.varint(n);
  if (t.symbols.coder == EntropyCoder::rans && t.symbols.tables.size() > 1)
    for (uint32_t k : t.symbols.block_table) w.varint(k);
  if (has_escape(t)) {
    uint64_t listed = 0;
    for (uint64_t n : t.block_escapes) listed += n;
    if (t.block_escapes.size() != block_bytes.size() || listed != t.escapes.size())
      throw Error(ErrorKind::argument, "tensor '" + t.name + "': escape counts do not match the blocks or the " +
                                           "escaped values");
    for (uint64_t n : t.block_escapes) w.varint(n);
    for (double v : t.escapes) w.value(v, t.float32);
  }
  if (!t.gains.empty()) {  // 4.2: rows per group, then one gain per group
    w.varint(t.gain_rows);
    for (double g : t.gains) w.value(g, t.float32);
  }
  for (double m : t.column_means) w.value(m, t.float32);  // 4.3: one per position within a row
}

void write_tensor_body(ByteWriter& w, const EncodedTensor& t, uint64_t* table_bytes) {
  std::vector<uint64_t> lengths;
  for (auto& b : t.symbols.blocks) lengths.push_back(b.size());
  write_tensor_head(w, t, lengths, table_bytes);
  for (auto& b : t.symbols.blocks) w.out.append(reinterpret_cast<const char*>(b.data()), b.size());
}

// The header: magic, version, flags, tensor count. The minor version is the
// lowest that decodes the file: 3 with column means, 2 with row-group gains, 1
// with a context-coded tensor, else 0.
uint8_t minor_version(bool context, bool gains, bool column_means) {
  return column_means ? 3 : gains ? 2 : context ? 1 : 0;
}
void write_header(ByteWriter& w, uint32_t tensors, uint8_t minor, bool vocab, ContainerLayout& lay) {
  w.out.append(reinterpret_cast<const char*>(kMagic), 4);
  lay.major = kContainerMajor, lay.minor = minor;
  w.u8(lay.major);
  w.u8(lay.minor);
  w.fixed(vocab ? kFlagVocab : 0, 2);
  w.fixed(tensors, 4);
  w.fixed(crc32c(w.out), 4);
  lay.header_bytes = w.out.size();
}

// A section: u64 body length, body, u32 checksum of the body.
void write_section(ByteWriter& w, const std::string& body) {
  w.fixed(body.size(), 8);
  w.out += body;
  w.fixed(crc32c(body), 4);
}

// What parsing does with the payload: copy each tensor's blocks (blocks null), or
// leave them in the input and list where they lie, one list per tensor
// (MappedContainer). release, if set, gets every piece of the input once its
// checksum has been taken, in file order.
struct PayloadHandling {
  std::vector<std::vector<std::string_view>>* blocks = nullptr;
  const MappedFile* release = nullptr;
};

Reader read_section(Reader& r, const std::string& where, const PayloadHandling& payload = {}) {
  r.where = where;
  uint64_t length = r.fixed(8);
  std::string_view body = r.bytes(length);
  uint32_t stored = uint32_t(r.fixed(4));
  uint32_t crc = 0;
  constexpr size_t kPiece = size_t(1) << 26;
  for (size_t done = 0; done < body.size(); done += kPiece) {
    const std::string_view piece = body.substr(done, kPiece);
    crc = r.checksum->extend(crc, piece);
    if (payload.release) payload.release->release(piece);
  }
  if (crc != stored) {
    r.pos -= 4 + length;
    r.fail(std::string(r.checksum->name) + " mismatch (the section is damaged)");
  }
  return Reader{{body, 0, r.source, where}, r.checksum};
}

// views: null to copy the payload's blocks into the tensor, else where their
// bytes lie in r's input (the tensor's blocks stay empty).
EncodedTensor read_tensor_body(Reader& r, uint8_t major, std::vector<std::string_view>* views = nullptr) {
  EncodedTensor t;
  t.name = r.str("name");
  r.where = "tensor '" + t.name + "'";
  t.mean_path = r.str("path");
  uint8_t dtype = r.u8();
  if (dtype != 1 && dtype != 2) r.fail("unknown dtype " + std::to_string(dtype));
  t.float32 = dtype == 1;
  uint64_t rank = r.varint();
  if (rank == 0 || rank > kMaxRank) r.fail("invalid rank " + std::to_string(rank));
  uint64_t elements = 1;
  for (uint64_t i = 0; i < rank; ++i) {
    uint64_t d = r.varint();
    if (d == 0 || d > kMaxElements || elements > kMaxElements / d) r.fail("invalid or too large shape");
    elements *= d;
    t.shape.push_back(d);
  }
  uint8_t q = r.u8();
  if (q < 1 || q > 3) throw Error(ErrorKind::unsupported, r.source + ": " + r.where + ": unknown quantizer " +
                                                              std::to_string(q));
  t.quantizer = QuantizerKind(q);
  auto read_doubles = [&](uint64_t max_count) {
    uint64_t n = r.count(8, "parameter");
    if (n > max_count) r.fail("too many parameters");
    std::vector<double> v(n);
    for (auto& x : v) x = r.f64();
    return v;
  };
  if (t.quantizer == QuantizerKind::vbq) {
    t.prior_family = PriorFamily(r.u8());
    t.prior_parameters = read_doubles(kMaxPriorParameters);
    t.lambda = r.f64();
    t.max_rate_bits = r.u8();
  } else {
    t.values = read_doubles(UINT64_MAX);
  }
  SymbolStream& s = t.symbols;
  uint8_t coder = major >= 4 ? r.u8() : kCoderRans;
  const bool gains = major >= 4 && (coder & kGainsBit), column_means = major >= 4 && (coder & kColumnMeansBit);
  if (gains && t.quantizer != QuantizerKind::vbq) r.fail("row-group gains on a tensor that is not vbq");
  if (column_means && t.quantizer != QuantizerKind::vbq) r.fail("column means on a tensor that is not vbq");
  if (major >= 4) coder &= uint8_t(~(kGainsBit | kColumnMeansBit));
  if (coder == kCoderContext) s.coder = EntropyCoder::context, s.row_length = row_length(t);
  else if (coder != kCoderRans)
    throw Error(ErrorKind::unsupported, r.source + ": " + r.where + ": unknown coder " + std::to_string(coder));
  const bool rans = coder == kCoderRans;
  const uint64_t value_bytes = t.float32 ? 4 : 8;
  // Code-point table: each entry >= 2 bytes with rANS (key and frequency), >= 1 without.
  uint64_t n = r.count(rans ? 2 : 1, "alphabet");
  if (n == 0) r.fail("empty code-point table");
  uint32_t precision = rans ? r.u8() : 0;
  s.alphabet.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t delta = r.varint();
    if (i > 0 && (delta == 0 || s.alphabet[i - 1] > UINT64_MAX - delta)) r.fail("code-point table not increasing");
    s.alphabet[i] = (i ? s.alphabet[i - 1] : 0) + delta;
  }
  // 4.0: the vbq reconstruction values, the escape symbol (if any) excepted.
  const bool escape = major >= 4 && has_escape(t);
  if (major >= 4 && t.quantizer == QuantizerKind::vbq) {
    r.need((n - escape) * value_bytes);
    t.levels.assign(n, 0.0);
    for (uint64_t i = escape; i < n; ++i) t.levels[i] = r.value(t.float32, "reconstruction value");
  }
  // Frequency tables: one before 3.0, then a count (each table >= 1 byte per symbol).
  const uint64_t tables = !rans ? 0 : major < 3 ? 1 : r.varint();
  if (rans && (tables == 0 || tables > r.remaining() / n))
    r.fail("invalid frequency table count " + std::to_string(tables));
  for (uint64_t k = 0; k < tables; ++k) {
    std::vector<uint32_t> freq(n);
    for (auto& f : freq) {
      uint64_t v = r.varint();
      if (v > (uint64_t(1) << 31)) r.fail("frequency out of range");
      f = uint32_t(v);
    }
    try {
      s.tables.push_back(FrequencyTable::from_frequencies(std::move(freq), precision));
    } catch (const Error& e) {
      r.fail("bad frequency table " + std::to_string(k) + ": " + e.what());
    }
  }
  s.count = r.varint();
  if (s.count != elements) r.fail("symbol count " + std::to_string(s.count) + " differs from the shape's " +
                                  std::to_string(elements));
  s.block_symbols = r.varint();
  if (s.block_symbols == 0 || s.block_symbols > kMaxBlockSymbols) r.fail("invalid block size");
  uint64_t blocks = (s.count + s.block_symbols - 1) / s.block_symbols;
  if (tables > blocks) r.fail(std::to_string(tables) + " frequency tables for " + std::to_string(blocks) + " blocks");
  // A block is at least its coder's final state: 1 jump-table byte + block_min each.
  // rANS: 4 u64 states, then u32 words; the context coder: 4 bytes, then single bytes.
  const uint64_t block_min = rans ? kRansStreams * sizeof(uint64_t) : 4, block_step = rans ? 4 : 1;
  if (blocks > r.remaining() / (block_min + 1)) r.fail("jump table larger than the section");
  std::vector<uint64_t> sizes(blocks);
  for (uint64_t b = 0; b < blocks; ++b) {
    sizes[b] = r.varint();
    if (sizes[b] < block_min || (sizes[b] - block_min) % block_step != 0)
      r.fail("block " + std::to_string(b) + " has an impossible length " + std::to_string(sizes[b]));
  }
  if (rans) s.block_table.assign(blocks, 0);
  for (uint64_t b = 0; tables > 1 && b < blocks; ++b) {
    const uint64_t k = r.varint();
    if (k >= tables) r.fail("block " + std::to_string(b) + " names frequency table " + std::to_string(k) + " of " +
                            std::to_string(tables));
    s.block_table[b] = uint32_t(k);
  }
  if (escape) {  // 4.0: escaped elements per block, then their values
    t.block_escapes.resize(blocks);
    uint64_t listed = 0;
    for (uint64_t b = 0; b < blocks; ++b) {
      t.block_escapes[b] = r.varint();
      if (t.block_escapes[b] > std::min(s.block_symbols, s.count - b * s.block_symbols))
        r.fail("block " + std::to_string(b) + " claims " + std::to_string(t.block_escapes[b]) +
               " escaped elements, more than it holds");
      listed += t.block_escapes[b];
    }
    if (listed > r.remaining() / value_bytes) r.fail("escape list larger than the section");
    t.escapes.resize(listed);
    for (double& v : t.escapes) v = r.value(t.float32, "escaped value");
  }
  if (gains) {  // 4.2: rows per group, one gain per group
    const uint64_t rows = t.shape[0];
    t.gain_rows = r.varint();
    if (t.gain_rows == 0 || t.gain_rows > rows) r.fail("invalid rows per gain group " + std::to_string(t.gain_rows));
    const uint64_t groups = (rows + t.gain_rows - 1) / t.gain_rows;
    r.need(groups * value_bytes);
    t.gains.resize(groups);
    for (uint64_t k = 0; k < groups; ++k) {
      t.gains[k] = r.value(t.float32, "row-group gain");
      if (!(t.gains[k] > 0) || !std::isfinite(t.gains[k])) r.fail("row-group gain " + std::to_string(k) + " is not a positive number");
    }
  }
  if (column_means) {  // 4.3: one per position within a row
    const uint64_t columns = row_length(t);
    r.need(columns * value_bytes);
    t.column_means.resize(columns);
    for (uint64_t j = 0; j < columns; ++j) {
      t.column_means[j] = r.value(t.float32, "column mean");
      if (!std::isfinite(t.column_means[j])) r.fail("column mean " + std::to_string(j) + " is not finite");
    }
  }
  if (!views) s.blocks.resize(blocks);
  for (uint64_t b = 0; b < blocks; ++b) {
    std::string_view bytes = r.bytes(sizes[b]);
    if (views) views->push_back(bytes);
    else s.blocks[b].assign(bytes.begin(), bytes.end());
  }
  if (r.remaining() != 0) r.fail(std::to_string(r.remaining()) + " unexpected bytes after the payload");
  return t;
}

// The LZMA2 dictionary for a word list: the smallest power of two that holds it
// (>= 4 KiB), so that a reader allocates no more than about twice the list.
uint32_t vocab_dictionary_bytes(uint64_t raw) {
  return uint32_t(std::bit_ceil(std::max<uint64_t>(raw, 4096)));
}

std::string write_vocab_body(const std::vector<std::string>& vocab) {
  ByteWriter words;
  for (auto& w : vocab) words.str(w);
  if (words.out.size() > (uint64_t(1) << 31)) throw Error(ErrorKind::argument, "vocabulary larger than 2 GiB");
  lzma_options_lzma options;
  if (lzma_lzma_preset(&options, 9 | LZMA_PRESET_EXTREME)) throw Error(ErrorKind::io, "xz: no preset 9e");
  options.dict_size = vocab_dictionary_bytes(words.out.size());
  lzma_filter filters[] = {{LZMA_FILTER_LZMA2, &options}, {LZMA_VLI_UNKNOWN, nullptr}};
  std::string packed(lzma_stream_buffer_bound(words.out.size()), '\0');
  size_t n = 0;
  lzma_ret ret = lzma_stream_buffer_encode(filters, LZMA_CHECK_NONE, nullptr,
                                           reinterpret_cast<const uint8_t*>(words.out.data()), words.out.size(),
                                           reinterpret_cast<uint8_t*>(packed.data()), &n, packed.size());
  if (ret != LZMA_OK) throw Error(ErrorKind::io, "xz: compressing the vocabulary failed (" + std::to_string(ret) + ")");
  packed.resize(n);
  ByteWriter w;
  w.varint(vocab.size());
  w.varint(words.out.size());
  w.out += packed;
  return std::move(w.out);
}

// The word list of a vocabulary section: an xz stream (4.0) or a zstd frame
// (before), which must decompress to exactly `raw` bytes.
std::string unpack_words(Reader& r, uint8_t major, uint64_t count, uint64_t raw) {
  std::string_view packed = r.bytes(r.remaining());
  // The raw size is bounded by the codecs' maximum ratio (and, for zstd, by the frame header).
  if (raw > packed.size() * 1024 || count > raw) r.fail("invalid vocabulary frame");
  std::string words(raw, '\0');
  if (major >= 4) {
    uint64_t memlimit = 2 * uint64_t(vocab_dictionary_bytes(raw)) + (uint64_t(1) << 20);
    size_t in = 0, out = 0;
    lzma_ret ret = lzma_stream_buffer_decode(&memlimit, 0, nullptr, reinterpret_cast<const uint8_t*>(packed.data()),
                                             &in, packed.size(), reinterpret_cast<uint8_t*>(words.data()), &out,
                                             words.size());
    if (ret != LZMA_OK || in != packed.size() || out != raw) r.fail("vocabulary does not decompress (xz)");
    return words;
  }
  unsigned long long frame = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (frame == ZSTD_CONTENTSIZE_ERROR || frame != raw) r.fail("invalid vocabulary frame");
  size_t n = ZSTD_decompress(words.data(), words.size(), packed.data(), packed.size());
  if (ZSTD_isError(n) || n != raw) r.fail("vocabulary does not decompress");
  return words;
}

std::vector<std::string> read_vocab_body(Reader& r, uint8_t major) {
  uint64_t count = r.varint();
  uint64_t raw = r.varint();
  std::string words = unpack_words(r, major, count, raw);
  Reader wr{words, 0, r.source, "vocabulary"};
  std::vector<std::string> vocab(count);
  for (auto& w : vocab) w = wr.str("word");
  if (wr.remaining()) wr.fail("trailing bytes");
  return vocab;
}

}  // namespace

bool looks_like_container(std::string_view b) { return b.size() >= 4 && std::memcmp(b.data(), kMagic, 4) == 0; }

std::string serialize_container(const Container& c, ContainerLayout* layout) {
  if (c.tensors.empty()) throw Error(ErrorKind::argument, "a container needs at least one tensor");
  ContainerLayout lay;
  ByteWriter w;
  const bool context = std::any_of(c.tensors.begin(), c.tensors.end(), [](const EncodedTensor& t) {
    return t.symbols.coder == EntropyCoder::context;
  });
  const bool gains = std::any_of(c.tensors.begin(), c.tensors.end(), [](const EncodedTensor& t) {
    return !t.gains.empty();
  });
  const bool column_means = std::any_of(c.tensors.begin(), c.tensors.end(), [](const EncodedTensor& t) {
    return !t.column_means.empty();
  });
  write_header(w, uint32_t(c.tensors.size()), minor_version(context, gains, column_means), !c.vocab.empty(), lay);
  for (auto& t : c.tensors) {
    ByteWriter body;
    uint64_t table_bytes = 0;
    write_tensor_body(body, t, &table_bytes);
    size_t before = w.out.size();
    write_section(w, body.out);
    lay.tensor_bytes.push_back(w.out.size() - before);
    lay.table_bytes.push_back(table_bytes);
  }
  if (!c.vocab.empty()) {
    size_t before = w.out.size();
    write_section(w, write_vocab_body(c.vocab));
    lay.vocab_bytes = w.out.size() - before;
  }
  lay.total_bytes = w.out.size();
  if (layout) *layout = lay;
  return std::move(w.out);
}

namespace {

Container parse(std::string_view bytes, const std::string& source, ContainerLayout* layout,
                const PayloadHandling& payload) {
  Reader r{{bytes, 0, source, "header"}};
  if (!looks_like_container(bytes))
    throw Error(ErrorKind::format, source + ": not a .vbq container (bad magic number)");
  r.need(kHeaderBytes);
  r.pos = 4;
  uint8_t major = r.u8(), minor = r.u8();
  if (major < 1 || major > kContainerMajor)
    throw Error(ErrorKind::unsupported, source + ": container version " + std::to_string(major) + "." +
                                            std::to_string(minor) + " is not supported (this vbq reads 1.x to " +
                                            std::to_string(kContainerMajor) + ".x)");
  r.checksum = &checksum_of_version(major);
  uint16_t flags = uint16_t(r.fixed(2));
  uint32_t tensors = uint32_t(r.fixed(4));
  uint32_t crc = uint32_t(r.fixed(4));
  if (crc != r.checksum->of(bytes.substr(0, 12))) r.fail(std::string("header ") + r.checksum->name + " mismatch");
  if (flags & ~kFlagVocab) r.fail("reserved flag bits set");
  if (tensors == 0 || tensors > r.remaining() / 12) r.fail("invalid tensor count " + std::to_string(tensors));
  ContainerLayout lay;
  lay.major = major, lay.minor = minor;
  lay.header_bytes = kHeaderBytes;
  Container c;
  for (uint32_t i = 0; i < tensors; ++i) {
    size_t before = r.pos;
    Reader body = read_section(r, "tensor section " + std::to_string(i), payload);
    std::vector<std::string_view>* views = nullptr;
    if (payload.blocks) views = &payload.blocks->emplace_back();
    c.tensors.push_back(read_tensor_body(body, major, views));
    lay.tensor_bytes.push_back(r.pos - before);
  }
  if (flags & kFlagVocab) {
    size_t before = r.pos;
    Reader body = read_section(r, "vocabulary section", payload);
    c.vocab = read_vocab_body(body, major);
    lay.vocab_bytes = r.pos - before;
  }
  r.where = "end of file";
  if (r.remaining() != 0) r.fail(std::to_string(r.remaining()) + " unexpected trailing bytes");
  lay.total_bytes = c.source_bytes = bytes.size();
  if (layout) *layout = lay;
  return c;
}

}  // namespace

Container parse_container(std::string_view bytes, const std::string& source, ContainerLayout* layout) {
  return parse(bytes, source, layout, {});
}

MappedContainer::MappedContainer(const std::string& path, ContainerLayout* layout) : file_(path) {
  container_ = parse(file_.bytes(), path, layout, {&blocks_, &file_});
}

std::vector<uint8_t> MappedContainer::block(size_t tensor, uint64_t b) const {
  const std::string_view bytes = blocks_.at(tensor).at(b);
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  file_.release(bytes);
  return copy;
}

void write_container(const std::string& path, const Container& c, bool force, ContainerLayout* layout) {
  AtomicOutput out(path, force);
  std::string bytes = serialize_container(c, layout);
  out.write_all(bytes.data(), bytes.size());
  out.commit();
}

struct ContainerFileWriter::Impl {
  AtomicOutput out;
  uint32_t tensors = 0, added = 0;
  bool vocab = false;
  ContainerLayout layout;
  Impl(const std::string& path, bool force) : out(path, force) {}
  void put(const std::string& bytes) { out.append(bytes.data(), bytes.size()), layout.total_bytes += bytes.size(); }
};

ContainerFileWriter::ContainerFileWriter(const std::string& path, bool force, uint32_t tensor_count, bool context,
                                         bool vocab)
    : impl_(std::make_unique<Impl>(path, force)) {
  if (tensor_count == 0) throw Error(ErrorKind::argument, "a container needs at least one tensor");
  impl_->tensors = tensor_count, impl_->vocab = vocab;
  ByteWriter w;
  write_header(w, tensor_count, minor_version(context, false, false), vocab, impl_->layout);
  impl_->put(w.out);
}

ContainerFileWriter::~ContainerFileWriter() = default;

void ContainerFileWriter::add_tensor(const EncodedTensor& t, std::span<const uint64_t> block_bytes,
                                     const PayloadReader& payload) {
  if (impl_->added == impl_->tensors)
    throw Error(ErrorKind::argument, "container: more than the " + std::to_string(impl_->tensors) + " tensors promised");
  if (!t.gains.empty() || !t.column_means.empty())
    throw Error(ErrorKind::argument, "tensor '" + t.name + "': row-group gains and column means are not written by streaming");
  ByteWriter head;
  uint64_t table_bytes = 0, payload_bytes = 0;
  write_tensor_head(head, t, block_bytes, &table_bytes);
  for (uint64_t n : block_bytes) payload_bytes += n;
  // write_section, with the payload copied through in pieces.
  ByteWriter length;
  length.fixed(head.out.size() + payload_bytes, 8);
  impl_->put(length.out);
  impl_->put(head.out);
  uint32_t crc = crc32c(head.out);
  std::string piece;
  for (uint64_t done = 0; done < payload_bytes;) {
    piece.resize(std::min<uint64_t>(payload_bytes - done, uint64_t(1) << 22));
    payload(done, piece.data(), piece.size());
    crc = crc32c_extend(crc, piece);
    impl_->put(piece);
    done += piece.size();
  }
  ByteWriter tail;
  tail.fixed(crc, 4);
  impl_->put(tail.out);
  impl_->layout.tensor_bytes.push_back(8 + head.out.size() + payload_bytes + 4);
  impl_->layout.table_bytes.push_back(table_bytes);
  ++impl_->added;
}

ContainerLayout ContainerFileWriter::commit(const std::vector<std::string>& vocab) {
  if (impl_->added != impl_->tensors || impl_->vocab == vocab.empty())
    throw Error(ErrorKind::argument, "container: " + std::to_string(impl_->added) + " of " +
                                         std::to_string(impl_->tensors) + " tensors written, vocabulary " +
                                         (vocab.empty() ? "missing" : "not announced"));
  if (!vocab.empty()) {
    ByteWriter w;
    write_section(w, write_vocab_body(vocab));
    impl_->layout.vocab_bytes = w.out.size();
    impl_->put(w.out);
  }
  impl_->out.commit();
  return impl_->layout;
}

Container read_container(const std::string& path, ContainerLayout* layout) {
  return parse_container(read_file_bytes(path), path, layout);
}

}  // namespace vbq
