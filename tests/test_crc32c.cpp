// formats/crc32c: CRC-32C against published check values, both code paths.
#include <doctest/doctest.h>

#include <string>

#include "formats/crc32c.hpp"

TEST_CASE("crc32c: published check values, hardware and table paths agree") {
  // RFC 3720 (iSCSI) B.4 test vectors and the catalogue check value of "123456789".
  const std::string zeros(32, '\0'), ones(32, '\xff');
  std::string ascending(32, '\0'), descending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[size_t(i)] = char(i), descending[size_t(i)] = char(31 - i);
  const std::pair<std::string, uint32_t> known[] = {
      {"", 0u}, {"123456789", 0xE3069283u}, {zeros, 0x8A9136AAu}, {ones, 0x62A8AB43u},
      {ascending, 0x46DD794Eu}, {descending, 0x113FDB5Cu}};
  for (const auto& [bytes, crc] : known) {
    CAPTURE(bytes.size());
    CHECK(vbq::crc32c(bytes) == crc);
    CHECK(vbq::crc32c_portable(bytes) == crc);
  }
  // Every length and alignment of the 8-byte hardware loop and its tail.
  std::string text;
  for (int i = 0; i < 200; ++i) text += char(i * 37 + 11);
  for (size_t start = 0; start < 9; ++start)
    for (size_t len = 0; len + start <= text.size(); len += 7)
      CHECK(vbq::crc32c(std::string_view(text).substr(start, len)) ==
            vbq::crc32c_portable(std::string_view(text).substr(start, len)));
}

TEST_CASE("crc32c: extending a CRC piece by piece gives the CRC of the whole") {
  const std::string whole = "123456789";
  for (size_t cut = 0; cut <= whole.size(); ++cut) {
    CAPTURE(cut);
    CHECK(vbq::crc32c_extend(vbq::crc32c(whole.substr(0, cut)), whole.substr(cut)) == 0xE3069283u);
  }
  CHECK(vbq::crc32c_extend(0, whole) == 0xE3069283u);
}
