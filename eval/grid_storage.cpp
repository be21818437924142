#include "eval/grid_storage.hpp"

#include <string>

#include "vbq/error.hpp"

namespace vbq {

std::string grid_bytes(std::span<const int32_t> q, int q_max) {
  if (q_max < 1 || q_max > 32767)
    throw Error(ErrorKind::argument, "grid_bytes: q_max " + std::to_string(q_max) + " outside [1, 32767]");
  const bool narrow = q_max <= 127;
  std::string out(q.size() * (narrow ? 1 : 2), '\0');
  for (size_t i = 0; i < q.size(); ++i) {
    const int32_t v = q[i];
    if (v < -q_max || v > q_max)
      throw Error(ErrorKind::argument, "grid_bytes: value " + std::to_string(v) + " at flat index " +
                                           std::to_string(i) + " exceeds q_max " + std::to_string(q_max));
    const uint16_t u = uint16_t(int16_t(v));  // two's complement
    if (narrow) {
      out[i] = char(uint8_t(u));
    } else {
      out[2 * i] = char(uint8_t(u));
      out[2 * i + 1] = char(uint8_t(u >> 8));
    }
  }
  return out;
}

}  // namespace vbq
