#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "formats/atomic_file.hpp"
#include "formats/word2vec.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;

namespace {

WordVectors sample_vectors() {
  WordVectors wv;
  wv.dim = 5;
  wv.vocab = {"the", "Paris", "caf\xc3\xa9", "x", "zero"};
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (size_t i = 0; i < wv.vocab.size() * wv.dim; ++i) wv.vectors.push_back(g(rng));
  wv.vectors[3] = 1e-30f;  // extreme magnitudes must survive the text form
  wv.vectors[4] = -3.4e38f;
  for (size_t k = 0; k < wv.dim; ++k) wv.vectors[4 * wv.dim + k] = 0.0f;
  return wv;
}

// The format error message for `bytes` parsed with auto-detection (or a forced format).
std::string format_error(const std::string& bytes, const Word2VecFormat* format = nullptr) {
  try {
    if (format)
      parse_word2vec(bytes, "bad.w2v", *format);
    else
      parse_word2vec(bytes, "bad.w2v");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::format);
    std::string msg = e.what();
    CHECK(msg.find("bad.w2v") != std::string::npos);
    CHECK(msg.find("byte offset") != std::string::npos);
    return msg;
  }
  FAIL("no error for input: " << bytes.substr(0, 40));
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string float_bytes(float v) {
  char b[4];
  std::memcpy(b, &v, 4);  // the test host is little-endian (x86-64)
  return std::string(b, 4);
}

}  // namespace

TEST_CASE("word2vec: text and binary round trips are exact, format auto-detected") {
  const WordVectors wv = sample_vectors();
  vbq::testing::TempDir tmp("w2v");
  for (Word2VecFormat f : {Word2VecFormat::text, Word2VecFormat::binary}) {
    const std::string path = tmp.file(f == Word2VecFormat::text ? "rt.txt" : "rt.bin");
    write_word2vec(path, wv, f, false);
    const std::string bytes = read_file_bytes(path);
    CHECK(bytes.rfind("5 5\n", 0) == 0);
    CHECK(detect_word2vec_format(bytes, path) == f);
    WordVectors back = read_word2vec(path);
    CHECK(back.dim == wv.dim);
    CHECK(back.vocab == wv.vocab);
    REQUIRE(back.vectors.size() == wv.vectors.size());
    for (size_t i = 0; i < wv.vectors.size(); ++i) CHECK(back.vectors[i] == wv.vectors[i]);
    // Refuses to overwrite without force; overwrites with force.
    CHECK_THROWS_AS(write_word2vec(path, wv, f, false), Error);
    write_word2vec(path, wv, f, true);
  }
  // Binary size: header + per word "word " + 4d + '\n'.
  const std::string bin = format_word2vec(wv, Word2VecFormat::binary);
  size_t expect = 4;
  for (auto& w : wv.vocab) expect += w.size() + 1 + 4 * wv.dim + 1;
  CHECK(bin.size() == expect);
}

TEST_CASE("word2vec: readers accept common variants") {
  // Text with CRLF, tabs, a trailing space (fastText) and no final newline.
  WordVectors t = parse_word2vec("2 2\r\na\t1 -2.5 \r\nb 3e-2 +4", "v.txt");
  CHECK(t.vocab == std::vector<std::string>{"a", "b"});
  CHECK(t.vectors == std::vector<float>{1.0f, -2.5f, 0.03f, 4.0f});
  // Binary without the newline after each vector (also valid).
  std::string bin = "2 1\na " + float_bytes(0.5f) + "b " + float_bytes(-1.0f);
  CHECK(detect_word2vec_format(bin, "v.bin") == Word2VecFormat::binary);
  WordVectors b = parse_word2vec(bin, "v.bin");
  CHECK(b.vocab == std::vector<std::string>{"a", "b"});
  CHECK(b.vectors == std::vector<float>{0.5f, -1.0f});
  WordVectors empty = parse_word2vec("0 7\n", "e.txt");
  CHECK(empty.vocab.empty());
  CHECK(empty.dim == 7);
}

TEST_CASE("word2vec: malformed headers are format errors") {
  CHECK(contains(format_error("abc\n"), "line 1"));
  CHECK(contains(format_error("3\n"), "expected two non-negative integers"));
  CHECK(contains(format_error("3 x\n"), "line 1"));
  CHECK(contains(format_error("-3 2\n"), "line 1"));
  CHECK(contains(format_error("1 2 3\na 1 2\n"), "line 1"));
  CHECK(contains(format_error("1 2"), "no newline"));
  CHECK(contains(format_error("1 0\na\n"), "at least 1"));
  CHECK(contains(format_error(""), "no newline"));
}

TEST_CASE("word2vec: absurd V or d is rejected before allocating") {
  // 10^9 words (or 10^9 dims) declared by a tiny file: must fail at once.
  std::string m = format_error("1000000000 100\na 1 2\n");
  CHECK(contains(m, "absurd"));
  CHECK(contains(m, "1000000000"));
  CHECK(contains(format_error("2 1000000000\na 1 2\n"), "absurd"));
  CHECK(contains(format_error("18446744073709551615 18446744073709551615\nab\n"), "absurd"));
  Word2VecFormat bin = Word2VecFormat::binary;
  CHECK(contains(format_error("1000000 100\na " + float_bytes(1.0f), &bin), "absurd"));
}

TEST_CASE("word2vec: text errors name line, word and byte offset") {
  // Wrong number of values.
  std::string few = format_error("2 3\na 1 2 3\nb 1 2\n");
  CHECK(contains(few, "line 3 (word 1)"));
  CHECK(contains(few, "expected 3 values, found 2"));
  CHECK(contains(few, "byte offset 12"));
  CHECK(contains(format_error("2 3\na 1 2 3\nb 1 2 3 4\n"), "found 4"));
  // Non-numeric and non-finite values, with the value's own offset.
  std::string nn = format_error("2 2\na 1 2\nb 0.5 abc\n");
  CHECK(contains(nn, "line 3 (word 1), value 1"));
  CHECK(contains(nn, "'abc'"));
  CHECK(contains(nn, "byte offset 16"));
  CHECK(contains(format_error("1 2\na 1 1.5x\n"), "'1.5x'"));
  CHECK(contains(format_error("1 2\na 1 nan\n"), "not a finite"));
  CHECK(contains(format_error("1 2\na 1 1e60\n"), "not a finite"));
  // Truncated: fewer lines than declared.
  std::string tr = format_error("3 2\nalpha 1 2\nbeta 3 4\n");
  CHECK(contains(tr, "truncated"));
  CHECK(contains(tr, "line 4 (word 2)"));
  // Blank line where a record should be, and trailing garbage.
  CHECK(contains(format_error("2 2\na 1 2\n\nb 1 2\n"), "empty line"));
  CHECK(contains(format_error("1 2\na 1 2\nextra 1 2\n"), "trailing data"));
}

TEST_CASE("word2vec: binary errors name word index and byte offset") {
  const std::string rec_a = "a " + float_bytes(0.5f) + float_bytes(-2.0f) + "\n";
  // Truncated in the middle of word 1's vector.
  const std::string word1(16, 'b');
  std::string cut = "2 2\n" + rec_a + word1 + " " + float_bytes(0.25f) + "\x01";
  std::string m = format_error(cut);
  CHECK(contains(m, "word 1 '" + word1 + "'"));
  CHECK(contains(m, "truncated"));
  CHECK(contains(m, "expected 8 bytes"));
  CHECK(contains(m, "byte offset " + std::to_string(4 + rec_a.size() + word1.size() + 1)));
  // A word with no space after it (file ends inside the word).
  Word2VecFormat bin = Word2VecFormat::binary;
  std::string noword = "2 2\n" + rec_a + "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  CHECK(contains(format_error(noword, &bin), "not followed by a space"));
  // Missing word 1 entirely.
  CHECK(contains(format_error("2 1\n" + std::string("a ") + float_bytes(0.5f) + "\n     ", &bin), "truncated"));
  // A NaN value.
  float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(contains(format_error("1 2\na " + float_bytes(0.5f) + float_bytes(nan), &bin), "value 1"));
  // Trailing bytes after the declared words.
  CHECK(contains(format_error("1 2\n" + rec_a + "zz" + float_bytes(0.5f), &bin), "trailing data"));
}

TEST_CASE("word2vec: writer rejects words it could not read back") {
  WordVectors wv;
  wv.dim = 1;
  wv.vocab = {"two words"};
  wv.vectors = {1.0f};
  CHECK_THROWS_AS(format_word2vec(wv, Word2VecFormat::text), Error);
  wv.vocab = {""};
  CHECK_THROWS_AS(format_word2vec(wv, Word2VecFormat::binary), Error);
  wv.vocab = {"ok"};
  wv.vectors = {1.0f, 2.0f};
  CHECK_THROWS_AS(format_word2vec(wv, Word2VecFormat::binary), Error);
}
