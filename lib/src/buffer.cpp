#include "vbq/buffer.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace vbq {

void advise_huge_pages(void* p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  constexpr uintptr_t kHuge = uintptr_t(1) << 21;  // only whole huge pages inside the buffer
  const uintptr_t first = (uintptr_t(p) + kHuge - 1) & ~(kHuge - 1), end = (uintptr_t(p) + bytes) & ~(kHuge - 1);
  if (end > first) (void)madvise(reinterpret_cast<void*>(first), end - first, MADV_HUGEPAGE);
#else
  (void)p, (void)bytes;
#endif
}

}  // namespace vbq
