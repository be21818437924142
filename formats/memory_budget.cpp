#include "formats/memory_budget.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "vbq/error.hpp"

namespace vbq {

static uint64_t parse_limit(const char* text) {
  char* end = nullptr;
  double value = std::strtod(text, &end);
  int shift = 0;
  switch (*end) {
    case 'K': case 'k': shift = 10; ++end; break;
    case 'M': case 'm': shift = 20; ++end; break;
    case 'G': case 'g': shift = 30; ++end; break;
    case 'T': case 't': shift = 40; ++end; break;
    default: break;
  }
  if (end == text || *end != '\0' || !(value > 0) || value * double(uint64_t(1) << shift) > 1.8e19)
    throw Error(ErrorKind::argument, std::string("VBQ_MEMORY_LIMIT='") + text + "' is not a size like 8G");
  return uint64_t(value * double(uint64_t(1) << shift));
}

uint64_t memory_budget() {
  if (const char* limit = std::getenv("VBQ_MEMORY_LIMIT")) return parse_limit(limit);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : UINT64_MAX;
}

static std::string gib(uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GiB", double(bytes) / double(uint64_t(1) << 30));
  return b;
}

void check_memory_budget(uint64_t bytes, const std::string& what) {
  const uint64_t budget = memory_budget();
  if (bytes > budget)
    throw Error(ErrorKind::unsupported, what + " needs " + gib(bytes) + " of memory, more than the budget of " +
                                            gib(budget) + (std::getenv("VBQ_MEMORY_LIMIT")
                                                               ? " (VBQ_MEMORY_LIMIT)"
                                                               : " (this machine's memory; VBQ_MEMORY_LIMIT overrides)"));
}

}  // namespace vbq
