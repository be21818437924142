// libFuzzer target: the idx reader (formats/idx), plain and gzip. The rank the
// caller expects comes from the input's own magic byte when it is 1..4, so most
// inputs get past the magic check. Checks data.size() == prod(dims).
#include <cstdint>
#include <string>

#include "formats/idx.hpp"
#include "fuzz/fuzz_util.hpp"
#include "vbq/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = vbq::fuzz::write_input(data, size, "idx");
  // Plain files carry the rank in byte 3; for gzip input try the two MNIST ranks.
  int rank = size >= 4 && data[3] >= 1 && data[3] <= 4 ? data[3] : (size > 0 && (data[size - 1] & 1) ? 3 : 1);
  try {
    vbq::IdxArray a = vbq::read_idx(path, rank);
    uint64_t n = 1;
    for (uint32_t d : a.dims) n *= d;
    if (a.dims.size() != size_t(rank) || a.data.size() != n) __builtin_trap();
  } catch (const vbq::Error& e) {
    if (e.kind() != vbq::ErrorKind::format) __builtin_trap();
  }
  return 0;
}
