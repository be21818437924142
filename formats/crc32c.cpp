#include "formats/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>
#define VBQ_HAVE_SSE42_PATH 1
#endif

namespace vbq {

namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (kPolynomial & (0u - (c & 1)));
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = make_table();

uint32_t update_table(uint32_t crc, const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) crc = (crc >> 8) ^ kTable[(crc ^ p[i]) & 0xff];
  return crc;
}

#ifdef VBQ_HAVE_SSE42_PATH
__attribute__((target("sse4.2"))) uint32_t update_sse42(uint32_t crc, const unsigned char* p, size_t n) {
  uint64_t c = crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);  // x86 is little-endian, as the CRC's bit order expects
    c = _mm_crc32_u64(c, word);
  }
  uint32_t c32 = uint32_t(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}
#endif

}  // namespace

uint32_t crc32c(std::string_view bytes) { return crc32c_extend(0, bytes); }

uint32_t crc32c_extend(uint32_t crc, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
#ifdef VBQ_HAVE_SSE42_PATH
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return ~update_sse42(~crc, p, bytes.size());
#endif
  return ~update_table(~crc, p, bytes.size());
}

uint32_t crc32c_portable(std::string_view bytes) {
  return ~update_table(~0u, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

}  // namespace vbq
