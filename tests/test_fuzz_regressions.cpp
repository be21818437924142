// Inputs the fuzzers (fuzz/) found, kept as files under tests/fuzz_regressions/<target>/.
// Each must either parse or throw vbq::Error: no crash, no other exception.
// Container inputs are stored with their CRCs already fixed up, so they reach
// the same code as in the fuzzer. A file whose name starts with "open-" is a
// known bug not fixed yet: an input that must be rejected with vbq::Error but is
// not (or crashes). It runs only in the skipped test case below (run it with
// -tc='*open*' --no-skip); drop the prefix once the fix lands.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "eval/analogy.hpp"
#include "formats/atomic_file.hpp"
#include "formats/container.hpp"
#include "formats/idx.hpp"
#include "formats/word2vec.hpp"
#include "vbq/codec.hpp"
#include "vbq/error.hpp"

namespace fs = std::filesystem;

namespace {

// The fuzzers' own bound on decoded elements (fuzz/fuzz_container.cpp).
constexpr uint64_t kMaxDecodeElements = uint64_t(1) << 22;

void run_one(const std::string& target, const std::string& path) {
  const std::string bytes = vbq::read_file_bytes(path);
  auto accept = [&](auto&& parse) {
    try {
      parse();
    } catch (const vbq::Error&) {
    }
  };
  if (target == "container") {
    accept([&] {
      vbq::Container c = vbq::parse_container(bytes, path);
      for (const auto& t : c.tensors)
        if (t.element_count() <= kMaxDecodeElements) (void)vbq::decode_tensor(t, 1);
    });
  } else if (target == "word2vec") {
    accept([&] { (void)vbq::parse_word2vec(bytes, path); });
    accept([&] { (void)vbq::parse_word2vec(bytes, path, vbq::Word2VecFormat::text); });
    accept([&] { (void)vbq::parse_word2vec(bytes, path, vbq::Word2VecFormat::binary); });
  } else if (target == "questions") {
    accept([&] { (void)vbq::read_analogy_questions(path, false); });
    accept([&] { (void)vbq::read_analogy_questions(path, true); });
  } else if (target == "idx") {
    int rank = bytes.size() >= 4 && bytes[3] >= 1 && bytes[3] <= 4 ? bytes[3] : 1;
    accept([&] { (void)vbq::read_idx(path, rank); });
    accept([&] { (void)vbq::read_idx(path, rank == 1 ? 3 : 1); });
  } else {
    FAIL("unknown fuzz target directory '" << target << "'");
  }
}

// The primary parse of a target, letting vbq::Error through (for "open-" inputs,
// which must be rejected once their bug is fixed).
void parse_strict(const std::string& target, const std::string& path) {
  const std::string bytes = vbq::read_file_bytes(path);
  if (target == "container") {
    vbq::Container c = vbq::parse_container(bytes, path);
    for (const auto& t : c.tensors)
      if (t.element_count() <= kMaxDecodeElements) (void)vbq::decode_tensor(t, 1);
  } else if (target == "word2vec") {
    (void)vbq::parse_word2vec(bytes, path);
  } else if (target == "questions") {
    (void)vbq::read_analogy_questions(path, false);
  } else if (target == "idx") {
    (void)vbq::read_idx(path, bytes.size() >= 4 && bytes[3] >= 1 && bytes[3] <= 4 ? bytes[3] : 1);
  }
}

// Runs every regression file whose "open-" status matches `open`; returns the count.
size_t run_all(bool open) {
  size_t n = 0;
  fs::path root = fs::path(VBQ_SOURCE_DIR) / "tests/fuzz_regressions";
  if (!fs::is_directory(root)) return 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(dir.path())) {
      std::string name = f.path().filename().string();
      if (!f.is_regular_file() || name == "README.md" || (name.rfind("open-", 0) == 0) != open) continue;
      CAPTURE(f.path().string());
      if (open)
        CHECK_THROWS_AS(parse_strict(dir.path().filename().string(), f.path().string()), vbq::Error);
      else
        CHECK_NOTHROW(run_one(dir.path().filename().string(), f.path().string()));
      ++n;
    }
  }
  return n;
}

}  // namespace

TEST_CASE("fuzz regressions: every stored input parses or throws vbq::Error") {
  size_t n = run_all(false);
  MESSAGE(n << " fuzz regression inputs");
}

TEST_CASE("fuzz regressions: known open bugs" * doctest::skip()) { run_all(true); }
