// libFuzzer target: the .vbq container reader and the tensor decoder.
//
// Every section is CRC-protected, so random mutations would almost never get past
// the CRC checks. The target therefore first rewrites the header CRC and the CRC
// of every section whose length field fits the input ("CRC fix-up"), letting the
// fuzzer reach the tables, jump table and rANS payload. The CRC checks themselves
// are covered by tests/test_container.cpp.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "formats/container.hpp"
#include "formats/crc32c.hpp"
#include "app/model_codec.hpp"
#include "vbq/error.hpp"

namespace {

// A decoded tensor costs 12 bytes per element (uint32 index + double value).
// The container legitimately allows 2^48 elements whose payload is tiny (a
// constant tensor codes to zero bits), so the target bounds what it decodes;
// see docs/LIMITS.md.
constexpr uint64_t kMaxFuzzDecodeElements = uint64_t(1) << 22;

// The checksum of the version in the header: 1.x CRC-32, later CRC-32C.
uint32_t crc(uint8_t major, const uint8_t* p, size_t n) {
  if (major == 1) return uint32_t(::crc32(::crc32(0L, Z_NULL, 0), p, uInt(n)));
  return vbq::crc32c(std::string_view(reinterpret_cast<const char*>(p), n));
}

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}

void fix_crcs(std::string& s) {
  auto* b = reinterpret_cast<uint8_t*>(s.data());
  if (s.size() < 16) return;
  put32(b + 12, crc(b[4], b, 12));
  size_t pos = 16;
  while (s.size() - pos >= 12) {
    uint64_t len = 0;
    for (int i = 0; i < 8; ++i) len |= uint64_t(b[pos + i]) << (8 * i);
    if (len > s.size() - pos - 12) return;
    put32(b + pos + 8 + len, crc(b[4], b + pos + 8, size_t(len)));
    pos += 12 + size_t(len);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  fix_crcs(bytes);
  try {
    vbq::ContainerLayout layout;
    vbq::Container c = vbq::parse_container(bytes, "fuzz.vbq", &layout);
    (void)vbq::describe_container(c, layout);
    for (const auto& t : c.tensors) {
      if (t.element_count() > kMaxFuzzDecodeElements) continue;
      std::vector<double> v = vbq::decode_tensor(t, 1);
      if (v.size() != t.element_count()) __builtin_trap();
    }
    // Whatever parses must survive a write/read cycle unchanged. (Not a byte
    // identity with the input: non-minimal varints and foreign zstd frames parse.)
    std::string again = vbq::serialize_container(c);
    if (vbq::serialize_container(vbq::parse_container(again, "again.vbq")) != again) __builtin_trap();
  } catch (const vbq::Error&) {
  }
  return 0;
}
