// How much memory a reader may allocate for data an input file declares: a
// small file can legitimately declare a huge tensor (an HDF5 dataset never
// written, a constant tensor that codes to zero bits), so readers check the
// declared size against this budget before allocating.
#pragma once
#include <cstdint>
#include <string>

namespace vbq {

// VBQ_MEMORY_LIMIT (bytes, optional suffix K, M, G or T, powers of 1024) if set,
// else the machine's physical memory.
uint64_t memory_budget();

// Throws ErrorKind::unsupported if `bytes` exceeds memory_budget(); the message
// starts with `what` (naming file and tensor) and gives both sizes.
void check_memory_budget(uint64_t bytes, const std::string& what);

}  // namespace vbq
