// Tests for lib/vbq/buffer.hpp: UninitializedVector behaves as a std::vector for
// everything it is given, leaves the pages of a default-constructed buffer
// untouched (the point of it), and advise_huge_pages marks only whole huge
// pages inside the buffer. The page checks read Linux's /proc/self.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "vbq/buffer.hpp"

using namespace vbq;

namespace {

// Resident memory of this process in bytes (/proc/self/statm, second field).
uint64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * uint64_t(::sysconf(_SC_PAGESIZE));
}

// The mapping of /proc/self/smaps that contains `address`: its range and VmFlags.
struct Mapping {
  uintptr_t begin = 0, end = 0;
  std::string flags;
  bool huge() const { return (" " + flags + " ").find(" hg ") != std::string::npos; }
};
Mapping mapping_of(const void* address) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  Mapping m;
  bool inside = false;
  const uintptr_t a = reinterpret_cast<uintptr_t>(address);
  while (std::getline(in, line)) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> begin >> dash >> end && dash == '-' && line.find(':') > line.find(' ')) {
      inside = begin <= a && a < end;
      if (inside) m.begin = begin, m.end = end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      m.flags = line.substr(8);
      return m;
    }
  }
  FAIL("no mapping holds the address");
  return m;
}

bool transparent_huge_pages() { return std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good(); }

}  // namespace

TEST_CASE("buffer: UninitializedVector keeps every value it is given") {
  UninitializedVector<uint64_t> v(1000, 7);
  CHECK(v.size() == 1000);
  CHECK(std::all_of(v.begin(), v.end(), [](uint64_t x) { return x == 7; }));
  v.resize(1500, 9);  // grows by copy: old values kept, new ones given
  CHECK(v[999] == 7);
  CHECK(v[1000] == 9);
  CHECK(v[1499] == 9);
  v.push_back(42);
  CHECK(v.back() == 42);
  std::vector<uint64_t> expect(1000, 7);
  expect.resize(1500, 9);
  expect.push_back(42);
  CHECK(std::equal(v.begin(), v.end(), expect.begin(), expect.end()));
  const UninitializedVector<double> w = {1.5, -2.0, 3.25};
  CHECK(w == UninitializedVector<double>{1.5, -2.0, 3.25});
  // written element by element after an uninitialized start, as quantize() does
  UninitializedVector<uint32_t> iota(100000);
  for (size_t i = 0; i < iota.size(); ++i) iota[i] = uint32_t(3 * i);
  CHECK(std::accumulate(iota.begin(), iota.end(), uint64_t(0)) == 3 * uint64_t(99999) * 100000 / 2);
  // the allocator rebinds and all instances are interchangeable
  CHECK(UninitializedAllocator<int>(UninitializedAllocator<double>()) == UninitializedAllocator<int>());
}

TEST_CASE("buffer: a default-constructed UninitializedVector leaves its pages untouched") {
  constexpr size_t kBytes = size_t(64) << 20, n = kBytes / sizeof(uint64_t);
  // Control: std::vector zeroes, so its pages become resident (the measure works).
  uint64_t before = resident_bytes();
  {
    std::vector<uint64_t> zeroed(n);
    CHECK(resident_bytes() - before > kBytes * 3 / 4);
  }
  before = resident_bytes();
  UninitializedVector<uint64_t> v(n);
  CHECK(resident_bytes() < before + kBytes / 8);
  // Filling it faults the pages in, once.
  for (size_t i = 0; i < n; ++i) v[i] = i;
  CHECK(resident_bytes() > before + kBytes * 3 / 4);
  CHECK(v[n - 1] == n - 1);
}

TEST_CASE("buffer: advise_huge_pages marks only the whole huge pages inside the buffer") {
  if (!transparent_huge_pages()) {
    MESSAGE("no transparent huge pages on this kernel: nothing to check");
    return;
  }
  constexpr uintptr_t kHuge = uintptr_t(1) << 21;
  const size_t region = 16 * kHuge;
  void* base = ::mmap(nullptr, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(base != MAP_FAILED);
  const uintptr_t aligned = (reinterpret_cast<uintptr_t>(base) + kHuge - 1) & ~(kHuge - 1);
  // A buffer from 4 KiB past a huge-page boundary, 5 MiB long: the whole huge pages
  // inside are [aligned + 2 MiB, aligned + 4 MiB).
  char* p = reinterpret_cast<char*>(aligned + 4096);
  const size_t bytes = 5 << 20;
  CHECK_FALSE(mapping_of(p).huge());
  advise_huge_pages(p, bytes);
  const Mapping inside = mapping_of(reinterpret_cast<void*>(aligned + kHuge));
  CHECK(inside.huge());
  CHECK(inside.begin == aligned + kHuge);
  CHECK(inside.end == aligned + 2 * kHuge);
  CHECK_FALSE(mapping_of(p).huge());                // the partial huge page at the start
  CHECK_FALSE(mapping_of(p + bytes - 1).huge());    // and at the end
  // A buffer smaller than a huge page gets no advice at all.
  char* small = reinterpret_cast<char*>(aligned + 8 * kHuge + 4096);
  advise_huge_pages(small, kHuge - 8192);
  CHECK_FALSE(mapping_of(small).huge());
  ::munmap(base, region);
  // The allocator advises what it allocates.
  UninitializedAllocator<uint64_t> alloc;
  const size_t n = 8 * kHuge / sizeof(uint64_t);
  uint64_t* q = alloc.allocate(n);
  CHECK(mapping_of(reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(q) + 2 * kHuge) & ~(kHuge - 1))).huge());
  alloc.deallocate(q, n);
}
