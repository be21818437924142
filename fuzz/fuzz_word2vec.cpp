// libFuzzer target: the word2vec text and binary readers (formats/word2vec).
// Besides "no crash", checks that whatever parses writes back and re-reads to the
// same words and the same float32 bits, in both formats.
#include <cstdint>
#include <cstring>
#include <string>

#include "formats/word2vec.hpp"
#include "vbq/error.hpp"

namespace {

bool same(const vbq::WordVectors& a, const vbq::WordVectors& b) {
  // Bitwise (keeps -0.0 distinct from 0.0); no memcmp on the null data() of empty vectors.
  if (a.dim != b.dim || a.vocab != b.vocab || a.vectors.size() != b.vectors.size()) return false;
  return a.vectors.empty() || std::memcmp(a.vectors.data(), b.vectors.data(), a.vectors.size() * sizeof(float)) == 0;
}

void round_trip(const vbq::WordVectors& wv) {
  for (auto format : {vbq::Word2VecFormat::text, vbq::Word2VecFormat::binary}) {
    std::string out;
    try {
      out = vbq::format_word2vec(wv, format);
    } catch (const vbq::Error& e) {
      if (e.kind() != vbq::ErrorKind::argument) __builtin_trap();
      return;  // e.g. a binary word holding '\t' cannot be written
    }
    vbq::WordVectors back = vbq::parse_word2vec(out, "round-trip", format);  // must not throw
    if (!same(wv, back)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    round_trip(vbq::parse_word2vec(bytes, "fuzz.vec"));
  } catch (const vbq::Error& e) {
    if (e.kind() != vbq::ErrorKind::format) __builtin_trap();
  }
  for (auto format : {vbq::Word2VecFormat::text, vbq::Word2VecFormat::binary}) {
    try {
      (void)vbq::parse_word2vec(bytes, "fuzz.vec", format);
    } catch (const vbq::Error& e) {
      if (e.kind() != vbq::ErrorKind::format) __builtin_trap();
    }
  }
  return 0;
}
