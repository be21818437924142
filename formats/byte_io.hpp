// Little-endian bytes and LEB128 varints, the vocabulary of the file layouts in
// formats/ (SPEC.md, VBQI.md): a writer that appends to a string, and a
// bounds-checked reader whose every error is ErrorKind::corrupt naming the
// source, the part being read and the byte offset.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "vbq/error.hpp"

namespace vbq {

struct ByteWriter {
  std::string out;
  void u8(uint8_t v) { out.push_back(char(v)); }
  void fixed(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
  }
  void f64(double v) { fixed(std::bit_cast<uint64_t>(v), 8); }
  // A value in a tensor's dtype: f32 or f64. Readers refuse non-finite values.
  void value(double v, bool float32) {
    if (!std::isfinite(float32 ? double(float(v)) : v))
      throw Error(ErrorKind::argument, "value " + std::to_string(v) + " does not fit the tensor's dtype");
    if (float32) fixed(std::bit_cast<uint32_t>(float(v)), 4);
    else f64(v);
  }
  void varint(uint64_t v) {
    while (v >= 0x80) out.push_back(char((v & 0x7f) | 0x80)), v >>= 7;
    out.push_back(char(v));
  }
  void str(std::string_view s) { varint(s.size()), out.append(s); }
};

struct ByteReader {
  std::string_view data;
  size_t pos = 0;
  std::string source, where;  // the file, and the part of it being read

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorKind::corrupt, source + ": " + where + (where.empty() ? "" : ": ") + what + " at byte offset " +
                                        std::to_string(pos));
  }
  size_t remaining() const { return data.size() - pos; }
  void need(uint64_t n) const {
    if (n > remaining()) fail("truncated (needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) +
                              " left)");
  }
  uint64_t fixed(int bytes) {
    need(bytes);
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t(uint8_t(data[pos + i])) << (8 * i);
    pos += bytes;
    return v;
  }
  uint8_t u8() { return uint8_t(fixed(1)); }
  double f64() { return std::bit_cast<double>(fixed(8)); }
  // A value in the tensor's dtype, finite (a writer never stores anything else).
  double value(bool float32, const char* what) {
    const double v = float32 ? double(std::bit_cast<float>(uint32_t(fixed(4)))) : f64();
    if (!std::isfinite(v)) {
      pos -= float32 ? 4 : 8;
      fail(std::string("non-finite ") + what);
    }
    return v;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      uint8_t b = uint8_t(data[pos++]);
      if (shift == 63 && b > 1) fail("varint overflows 64 bits");
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }
  // A count of items that each take at least `min_bytes` bytes: bounded by what is left.
  uint64_t count(uint64_t min_bytes, const char* what) {
    uint64_t n = varint();
    if (min_bytes > 0 && n > remaining() / min_bytes)
      fail(std::string(what) + " count " + std::to_string(n) + " exceeds the remaining bytes");
    return n;
  }
  std::string_view bytes(uint64_t n) {
    need(n);
    std::string_view v = data.substr(pos, n);
    pos += n;
    return v;
  }
  std::string str(const char* what) { return std::string(bytes(count(1, what))); }
};

}  // namespace vbq
