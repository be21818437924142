// libFuzzer target: the analogy question reader (eval/analogy). It reads a path,
// so the input goes to a file in /dev/shm. Checks the reader's contract: every
// question has four nonempty words, a valid section and an increasing line number.
#include <cstdint>
#include <string>

#include "eval/analogy.hpp"
#include "fuzz/fuzz_util.hpp"
#include "vbq/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = vbq::fuzz::write_input(data, size, "questions");
  for (bool lowercase : {false, true}) {
    try {
      vbq::AnalogySet set = vbq::read_analogy_questions(path, lowercase);
      size_t last_line = 0;
      for (const auto& q : set.questions) {
        if (q.section >= set.sections.size() || q.line <= last_line) __builtin_trap();
        for (const auto& w : q.words)
          if (w.empty()) __builtin_trap();
        last_line = q.line;
      }
    } catch (const vbq::Error& e) {
      if (e.kind() != vbq::ErrorKind::format) __builtin_trap();
    }
  }
  return 0;
}
