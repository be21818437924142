#include "formats/memory_budget.hpp"

#include <unistd.h>

#include <algorithm>
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

uint64_t memory_budget(uint64_t input_bytes) {
  if (const char* limit = std::getenv("VBQ_MEMORY_LIMIT")) return parse_limit(limit);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  uint64_t budget = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : UINT64_MAX;
  if (input_bytes > 0 && input_bytes < (uint64_t(1) << 40))
    budget = std::min(budget, std::max(uint64_t(256) << 20, input_bytes << 16));
  return budget;
}

// 96 bytes, 3.5 KiB, 256.0 MiB, 512.0 GiB
static std::string human(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  const char* units[] = {"KiB", "MiB", "GiB"};
  double v = double(bytes) / 1024;
  int u = 0;
  while (u < 2 && v >= 1024) v /= 1024, ++u;
  char b[32];
  std::snprintf(b, sizeof b, "%.1f %s", v, units[u]);
  return b;
}

void check_memory_budget(uint64_t bytes, const std::string& what, uint64_t input_bytes) {
  const uint64_t budget = memory_budget(input_bytes);
  if (bytes <= budget) return;
  const char* why = std::getenv("VBQ_MEMORY_LIMIT") ? " (VBQ_MEMORY_LIMIT)"
                    : budget == memory_budget()     ? " (this machine's memory; VBQ_MEMORY_LIMIT overrides)"
                                                    : " (2^16 x the input's size; VBQ_MEMORY_LIMIT overrides)";
  throw Error(ErrorKind::unsupported,
              what + " needs " + human(bytes) + " of memory, more than the budget of " + human(budget) + why);
}

}  // namespace vbq
