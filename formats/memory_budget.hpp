// How much memory a reader may allocate for data an input file declares: a
// small file can legitimately declare a huge tensor (an HDF5 dataset never
// written, a constant tensor that codes to zero bits), so readers check the
// declared size against this budget before allocating.
#pragma once
#include <cstdint>
#include <string>

namespace vbq {

// VBQ_MEMORY_LIMIT (bytes, optional suffix K, M, G or T, powers of 1024) if set.
// Otherwise the machine's physical memory and, for data declared by an input
// of input_bytes > 0, at most max(256 MiB, 2^16 x input_bytes): real models
// decode to at most ~2000x their file (12 bytes per element at >= 0.05 bits),
// so only a near-empty or hostile file reaches that cap.
uint64_t memory_budget(uint64_t input_bytes = 0);

// Throws ErrorKind::unsupported if `bytes` exceeds memory_budget(input_bytes);
// the message starts with `what` (naming file and tensor) and gives both sizes.
void check_memory_budget(uint64_t bytes, const std::string& what, uint64_t input_bytes = 0);

}  // namespace vbq
