// Tests for formats/memory_budget.hpp: VBQ_MEMORY_LIMIT parsing, the default
// budget (physical memory, capped at max(256 MiB, 2^16 x input) for declared
// data), and the error check_memory_budget raises.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "formats/memory_budget.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::kind_of;

namespace {

// Sets (or, with nullopt, clears) VBQ_MEMORY_LIMIT for its lifetime, then restores it.
class LimitEnv {
 public:
  explicit LimitEnv(std::optional<std::string> value) {
    if (const char* old = std::getenv("VBQ_MEMORY_LIMIT")) old_ = old;
    if (value) ::setenv("VBQ_MEMORY_LIMIT", value->c_str(), 1);
    else ::unsetenv("VBQ_MEMORY_LIMIT");
  }
  ~LimitEnv() {
    if (old_) ::setenv("VBQ_MEMORY_LIMIT", old_->c_str(), 1);
    else ::unsetenv("VBQ_MEMORY_LIMIT");
  }
  LimitEnv(const LimitEnv&) = delete;
  LimitEnv& operator=(const LimitEnv&) = delete;

 private:
  std::optional<std::string> old_;
};

// MemTotal of /proc/meminfo in bytes: the machine's memory from another source.
uint64_t mem_total_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  uint64_t kib = 0;
  while (in >> key >> kib >> unit)
    if (key == "MemTotal:") return kib * 1024;
  return 0;
}

constexpr uint64_t kMiB = uint64_t(1) << 20;

}  // namespace

TEST_CASE("memory budget: VBQ_MEMORY_LIMIT in bytes with a K, M, G or T suffix") {
  const std::pair<const char*, uint64_t> known[] = {
      {"100", 100},           {"1.5K", 1536},           {"512M", 512 * kMiB},     {"8G", uint64_t(8) << 30},
      {"2g", uint64_t(2) << 30}, {"3T", uint64_t(3) << 40}, {"0.5k", 512},
  };
  for (const auto& [text, bytes] : known) {
    CAPTURE(std::string(text));
    LimitEnv env{std::string(text)};
    CHECK(memory_budget() == bytes);
    CHECK(memory_budget(10) == bytes);  // the limit overrides the input-size cap too
  }
  for (const char* bad : {"", "abc", "0", "-1", "5X", "8GB", "1e30", "G"}) {
    CAPTURE(std::string(bad));
    LimitEnv env{std::string(bad)};
    expect_error([] { memory_budget(); }, ErrorKind::argument, {"VBQ_MEMORY_LIMIT='" + std::string(bad) + "'"});
  }
}

TEST_CASE("memory budget: physical memory, and max(256 MiB, 2^16 x input) for declared data") {
  LimitEnv env{std::nullopt};
  const uint64_t machine = memory_budget();
  const uint64_t mem_total = mem_total_bytes();
  REQUIRE(mem_total > 0);
  CHECK(double(machine) == doctest::Approx(double(mem_total)).epsilon(0.02));
  CHECK(memory_budget(0) == machine);
  CHECK(memory_budget(1) == std::min(machine, 256 * kMiB));
  CHECK(memory_budget(4096) == std::min(machine, 256 * kMiB));  // 2^16 x 4 KiB = 256 MiB exactly
  CHECK(memory_budget(10000) == std::min(machine, uint64_t(10000) << 16));
  CHECK(memory_budget(uint64_t(1) << 30) == machine);  // 64 TiB: no machine has that
  CHECK(memory_budget(uint64_t(1) << 50) == machine);  // beyond the cap's range: no cap
}

TEST_CASE("memory budget: check_memory_budget names the data and both sizes") {
  {
    LimitEnv env{std::string("1K")};
    check_memory_budget(1024, "tensor 'w'");  // at the budget: fine
    expect_error([] { check_memory_budget(2048, "file 'a.vbq', tensor 'w'"); }, ErrorKind::unsupported,
                 {"file 'a.vbq', tensor 'w' needs 2.0 KiB", "budget of 1.0 KiB", "(VBQ_MEMORY_LIMIT)"});
  }
  {
    LimitEnv env{std::string("100")};
    expect_error([] { check_memory_budget(101, "x"); }, ErrorKind::unsupported, {"101 bytes", "100 bytes"});
    CHECK(kind_of([] { check_memory_budget(uint64_t(3) << 30, "x", 1); }) == ErrorKind::unsupported);
  }
  LimitEnv env{std::nullopt};
  // 300 MiB declared by a 1000-byte input: over the 256 MiB cap for small inputs.
  expect_error([] { check_memory_budget(300 * kMiB, "tensor 'big'", 1000); }, ErrorKind::unsupported,
               {"tensor 'big' needs 300.0 MiB", "256.0 MiB", "2^16 x the input's size"});
  check_memory_budget(300 * kMiB, "tensor 'big'", 1 << 20);  // the same from a 1 MiB input: fine
  expect_error([] { check_memory_budget(memory_budget() + 1, "tensor 'huge'"); }, ErrorKind::unsupported,
               {"tensor 'huge'", "this machine's memory"});
}
