// The paper's storage of a uniform grid (lib grid_values), the input of the
// general-purpose compressors: row-major int8 when q_max <= 127, int16
// little-endian otherwise.
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace vbq {

// The paper's storage of grid values q (from grid_values(mu, q_max)): one int8
// per value when q_max <= 127, else one int16, little-endian, in the order given.
// Requires 1 <= q_max <= 32767 and |q[i]| <= q_max (ErrorKind::argument naming
// the flat index otherwise).
std::string grid_bytes(std::span<const int32_t> q, int q_max);

}  // namespace vbq
