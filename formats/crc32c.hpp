// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78, init and final xor
// 0xFFFFFFFF), the checksum of .vbq containers from version 2.0 on. Uses the
// SSE4.2 crc32 instruction where the CPU has it, a table otherwise; both give
// the same value. crc32c("123456789") == 0xE3069283.
#pragma once
#include <cstdint>
#include <string_view>

namespace vbq {

uint32_t crc32c(std::string_view bytes);
uint32_t crc32c_portable(std::string_view bytes);  // the table path alone (tests)
// The CRC of a message given in pieces: crc32c(a + b) == crc32c_extend(crc32c(a), b),
// and crc32c(a) == crc32c_extend(0, a).
uint32_t crc32c_extend(uint32_t crc, std::string_view bytes);

}  // namespace vbq
