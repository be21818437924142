// Helpers shared by the test files: a temporary directory that removes itself,
// checks on the vbq::Error a call throws, and the marker of a skipped test.
#pragma once
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <string>
#include <system_error>

#include "vbq/error.hpp"

namespace vbq::testing {

// A fresh directory <temp>/vbq-test-<tag>-<pid>-<n>, n counting per process, removed
// with all it holds on destruction (errors ignored). Files go in with file(name).
struct TempDir {
  std::filesystem::path dir;

  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};  // inline: one counter for all test files
    dir = std::filesystem::temp_directory_path() /
          ("vbq-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // left by an earlier process with the same pid
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (dir / name).string(); }
  // How many files and directories the directory holds (not recursive).
  size_t entries() const {
    return size_t(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
  }
};

// The kind of the vbq::Error that f() throws; a test failure if it throws none.
inline ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("expected a vbq::Error");
  return ErrorKind::argument;  // not reached: FAIL throws
}

// Runs f, which must throw vbq::Error of `kind` whose message contains every fragment.
template <class F>
void expect_error(F&& f, ErrorKind kind, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL("no error thrown; expected " << std::string(kind_name(kind))
                                      << (fragments.size() ? " containing '" + *fragments.begin() + "'" : ""));
  } catch (const Error& e) {
    INFO("message: " << std::string(e.what()));
    CHECK(e.kind() == kind);
    for (const std::string& frag : fragments)
      CHECK_MESSAGE(std::string(e.what()).find(frag) != std::string::npos, frag);
  }
}

// A test whose data is missing calls this and returns: ctest reports it as
// skipped (SKIP_REGULAR_EXPRESSION in CMakeLists.txt matches the marker).
inline void skip_for_missing_data(const std::string& why) { MESSAGE("VBQ_SKIPPED: " << why); }

}  // namespace vbq::testing
