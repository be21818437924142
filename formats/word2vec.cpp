#include "formats/word2vec.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "formats/atomic_file.hpp"
#include "vbq/error.hpp"

namespace vbq {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

struct Header {
  size_t words = 0, dim = 0;
  size_t end = 0;  // offset of the first byte after the header's '\n'
};

[[noreturn]] void fail(const std::string& name, const std::string& where, size_t offset, const std::string& what) {
  throw Error(ErrorKind::format,
              "word2vec file '" + name + "': " + where + " (byte offset " + std::to_string(offset) + "): " + what);
}

// Splits [begin, end) of `s` into tokens separated by blanks (' ', '\t', '\r').
// Returns (offset, token) pairs.
std::vector<std::pair<size_t, std::string_view>> split_line(std::string_view s, size_t begin, size_t end) {
  std::vector<std::pair<size_t, std::string_view>> out;
  size_t i = begin;
  while (i < end) {
    while (i < end && is_space(s[i])) ++i;
    size_t j = i;
    while (j < end && !is_space(s[j])) ++j;
    if (j > i) out.emplace_back(i, s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool parse_size(std::string_view tok, size_t& out) {
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), out);
  return ec == std::errc() && p == tok.data() + tok.size();
}

// A finite float32 occupying the whole token (a leading '+' is accepted).
bool parse_float(std::string_view tok, float& out) {
  if (tok.size() > 1 && tok[0] == '+' && tok[1] != '-') tok.remove_prefix(1);
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), out);
  return ec == std::errc() && p == tok.data() + tok.size() && std::isfinite(out);
}

Header parse_header(std::string_view bytes, const std::string& name) {
  size_t nl = bytes.find('\n');
  if (nl == std::string_view::npos) fail(name, "header (line 1)", 0, "no newline: expected \"V d\"");
  auto tok = split_line(bytes, 0, nl);
  Header h;
  if (tok.size() != 2 || !parse_size(tok[0].second, h.words) || !parse_size(tok[1].second, h.dim))
    fail(name, "header (line 1)", 0,
         "expected two non-negative integers \"V d\", got \"" + std::string(bytes.substr(0, std::min<size_t>(nl, 60))) +
             "\"");
  if (h.dim == 0) fail(name, "header (line 1)", tok[1].first, "dimension d must be at least 1");
  h.end = nl + 1;
  return h;
}

// Rejects V, d that the remaining bytes cannot hold, before any allocation.
void check_sizes(const Header& h, size_t size, Word2VecFormat format, const std::string& name) {
  const size_t remaining = size - h.end;
  // Minimum bytes per record: text "w" + d x " x"; binary "w " + 4d.
  const bool text = format == Word2VecFormat::text;
  const size_t per_value = text ? 2 : 4, fixed = text ? 1 : 2;
  if (h.words > 0 && (h.dim > remaining / per_value || h.words > remaining / (fixed + per_value * h.dim)))
    fail(name, "header (line 1)", 0,
         "absurd sizes: V = " + std::to_string(h.words) + " words of d = " + std::to_string(h.dim) +
             " values cannot fit in the " + std::to_string(remaining) + " bytes after the header");
}

// True when the line [begin, end) is a word followed by exactly `dim` numbers.
bool is_text_record(std::string_view bytes, size_t begin, size_t end, size_t dim) {
  auto tok = split_line(bytes, begin, end);
  if (tok.size() != dim + 1) return false;
  float v;
  for (size_t k = 1; k < tok.size(); ++k)
    if (!parse_float(tok[k].second, v)) return false;
  return true;
}

// Room for the header's words x dim values; the vocabulary is filled as parsed.
WordVectors sized_for(const Header& h) {
  WordVectors wv;
  wv.dim = h.dim;
  wv.vocab.reserve(h.words);
  wv.vectors.resize(h.words * h.dim);
  return wv;
}

WordVectors parse_text(std::string_view bytes, const Header& h, const std::string& name) {
  WordVectors wv = sized_for(h);
  size_t pos = h.end;
  for (size_t i = 0; i < h.words; ++i) {
    const size_t line = i + 2;
    const std::string where = "line " + std::to_string(line) + " (word " + std::to_string(i) + ")";
    if (pos >= bytes.size())
      fail(name, where, pos, "truncated: file ends after " + std::to_string(i) + " of " + std::to_string(h.words) +
                                 " words");
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) nl = bytes.size();
    auto tok = split_line(bytes, pos, nl);
    if (tok.empty()) fail(name, where, pos, "empty line");
    if (tok.size() != h.dim + 1)
      fail(name, where, pos,
           "expected " + std::to_string(h.dim) + " values, found " + std::to_string(tok.size() - 1));
    float* row = wv.vectors.data() + i * h.dim;
    for (size_t k = 0; k < h.dim; ++k)
      if (!parse_float(tok[k + 1].second, row[k]))
        fail(name, where + ", value " + std::to_string(k), tok[k + 1].first,
             "not a finite float32 number: '" + std::string(tok[k + 1].second.substr(0, 40)) + "'");
    wv.vocab.emplace_back(tok[0].second);
    pos = nl + 1;
  }
  for (; pos < bytes.size(); ++pos)
    if (!is_space(bytes[pos]))
      fail(name, "line " + std::to_string(h.words + 2), pos,
           "trailing data after the " + std::to_string(h.words) + " declared words");
  return wv;
}

WordVectors parse_binary(std::string_view bytes, const Header& h, const std::string& name) {
  WordVectors wv = sized_for(h);
  const size_t record_bytes = 4 * h.dim;
  size_t pos = h.end;
  for (size_t i = 0; i < h.words; ++i) {
    const std::string where = "word " + std::to_string(i);
    while (pos < bytes.size() && is_space(bytes[pos])) ++pos;
    const size_t start = pos;
    if (pos >= bytes.size())
      fail(name, where, pos, "truncated: file ends after " + std::to_string(i) + " of " + std::to_string(h.words) +
                                 " words");
    while (pos < bytes.size() && bytes[pos] != ' ' && bytes[pos] != '\n') ++pos;
    if (pos >= bytes.size() || bytes[pos] != ' ')
      fail(name, where, start, "word is not followed by a space (truncated or not a binary word2vec file)");
    std::string_view word = bytes.substr(start, pos - start);
    ++pos;
    if (bytes.size() - pos < record_bytes)
      fail(name, where + " '" + std::string(word.substr(0, 40)) + "'", pos,
           "truncated: expected " + std::to_string(record_bytes) + " bytes of float32 values, " +
               std::to_string(bytes.size() - pos) + " remain");
    float* row = wv.vectors.data() + i * h.dim;
    for (size_t k = 0; k < h.dim; ++k) {
      uint32_t u;
      std::memcpy(&u, bytes.data() + pos + 4 * k, 4);
      if constexpr (std::endian::native == std::endian::big) u = __builtin_bswap32(u);
      row[k] = std::bit_cast<float>(u);
      if (!std::isfinite(row[k]))
        fail(name, where + " '" + std::string(word.substr(0, 40)) + "', value " + std::to_string(k), pos + 4 * k,
             "non-finite float32 value");
    }
    wv.vocab.emplace_back(word);
    pos += record_bytes;
  }
  for (; pos < bytes.size(); ++pos)
    if (!is_space(bytes[pos]))
      fail(name, "after word " + std::to_string(h.words - 1), pos,
           "trailing data after the " + std::to_string(h.words) + " declared words");
  return wv;
}

}  // namespace

Word2VecFormat detect_word2vec_format(std::string_view bytes, const std::string& name) {
  Header h = parse_header(bytes, name);
  if (h.words == 0 || h.end >= bytes.size()) return Word2VecFormat::text;
  size_t nl = bytes.find('\n', h.end);
  if (nl == std::string_view::npos) nl = bytes.size();
  if (is_text_record(bytes, h.end, nl, h.dim)) return Word2VecFormat::text;
  // A malformed text file is still text: binary float32 data contains control
  // bytes (zero, small mantissa bytes) within its first record almost surely.
  const size_t window_end = std::min(bytes.size(), h.end + 4 * h.dim + 256);
  for (size_t i = h.end; i < window_end; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') return Word2VecFormat::binary;
  }
  return Word2VecFormat::text;
}

WordVectors parse_word2vec(std::string_view bytes, const std::string& name, Word2VecFormat format) {
  Header h = parse_header(bytes, name);
  check_sizes(h, bytes.size(), format, name);
  return format == Word2VecFormat::text ? parse_text(bytes, h, name) : parse_binary(bytes, h, name);
}

WordVectors parse_word2vec(std::string_view bytes, const std::string& name) {
  return parse_word2vec(bytes, name, detect_word2vec_format(bytes, name));
}

WordVectors read_word2vec(const std::string& path) {
  std::string bytes = read_file_bytes(path);
  return parse_word2vec(bytes, path);
}

std::string format_word2vec(const WordVectors& wv, Word2VecFormat format) {
  if (wv.dim == 0) throw Error(ErrorKind::argument, "word2vec output: dimension must be at least 1");
  if (wv.vectors.size() != wv.vocab.size() * wv.dim)
    throw Error(ErrorKind::argument, "word2vec output: " + std::to_string(wv.vectors.size()) +
                                         " values for " + std::to_string(wv.vocab.size()) + " words of dimension " +
                                         std::to_string(wv.dim));
  for (size_t i = 0; i < wv.vocab.size(); ++i) {
    const std::string& w = wv.vocab[i];
    bool bad = w.empty();
    for (char c : w) bad |= is_space(c);
    if (bad)
      throw Error(ErrorKind::argument,
                  "word2vec output: word " + std::to_string(i) + " ('" + w + "') is empty or contains whitespace");
  }
  std::string out = std::to_string(wv.vocab.size()) + " " + std::to_string(wv.dim) + "\n";
  const bool text = format == Word2VecFormat::text;
  out.reserve(out.size() + wv.vocab.size() * (16 + wv.dim * (text ? 14 : 4)));
  char buf[64];
  for (size_t i = 0; i < wv.vocab.size(); ++i) {
    out += wv.vocab[i];
    const float* row = wv.vectors.data() + i * wv.dim;
    if (text) {
      for (size_t k = 0; k < wv.dim; ++k) {
        out += ' ';
        // Shortest representation that parses back to the same float32.
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, row[k]);
        out.append(buf, p);
      }
    } else {
      out += ' ';
      for (size_t k = 0; k < wv.dim; ++k) {
        uint32_t u = std::bit_cast<uint32_t>(row[k]);
        if constexpr (std::endian::native == std::endian::big) u = __builtin_bswap32(u);
        std::memcpy(buf, &u, 4);
        out.append(buf, 4);
      }
    }
    out += '\n';
  }
  return out;
}

void write_word2vec(const std::string& path, const WordVectors& wv, Word2VecFormat format, bool force) {
  AtomicOutput out(path, force);
  std::string bytes = format_word2vec(wv, format);
  out.write_all(bytes.data(), bytes.size());
  out.commit();
}

}  // namespace vbq
