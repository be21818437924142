#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>

#include "tests/support.hpp"
#include "train/corpus.hpp"
#include "vbq/error.hpp"

namespace {

using vbq::tokenize;
using V = std::vector<std::string>;
using vbq::testing::kind_of;
using vbq::testing::TempDir;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("corpus: tokenizer on tricky strings") {
  CHECK(tokenize("Hello, world!", false) == V{"Hello", "world"});
  CHECK(tokenize("don't 'tis rock'n'roll o''clock", false) == V{"don't", "tis", "rock'n'roll", "o", "clock"});
  CHECK(tokenize("well-known -edge- x--y a-b-c -", false) == V{"well-known", "edge", "x", "y", "a-b-c"});
  CHECK(tokenize("it's-a state-of-the-art'", false) == V{"it's-a", "state-of-the-art"});
  CHECK(tokenize("1984 3.14 10-20 R2D2", false) == V{"1984", "3", "14", "10-20", "R2D2"});
  // Non-ASCII bytes are separators: "café" -> "caf", "naïve" -> "na", "ve".
  CHECK(tokenize("caf\xC3\xA9 na\xC3\xAFve \xE2\x80\x94x", false) == V{"caf", "na", "ve", "x"});
  CHECK(tokenize("Hello WORLD Don't", true) == V{"hello", "world", "don't"});
  CHECK(tokenize("", false).empty());
  CHECK(tokenize(" \n\t-'", false).empty());
  CHECK(tokenize("a", false) == V{"a"});
  CHECK(tokenize("end-", false) == V{"end"});
}

TEST_CASE("corpus: vocabulary order, ties, min_count and size cut") {
  vbq::CorpusOptions o;
  o.vocab_size = 0;
  auto v = vbq::make_vocabulary({"b", "a", "c", "d", "e"}, {3, 3, 5, 1, 3}, o);
  CHECK(v.words == V{"c", "a", "b", "e", "d"});
  CHECK(v.counts == std::vector<uint64_t>{5, 3, 3, 3, 1});
  o.min_count = 3;
  CHECK(vbq::make_vocabulary({"b", "a", "c", "d", "e"}, {3, 3, 5, 1, 3}, o).words == V{"c", "a", "b", "e"});
  o.vocab_size = 2;
  CHECK(vbq::make_vocabulary({"b", "a", "c", "d", "e"}, {3, 3, 5, 1, 3}, o).words == V{"c", "a"});
}

TEST_CASE("corpus: load_corpus builds vocabulary, id stream and sentences") {
  TempDir tmp("corpus");
  std::string p = tmp.file("plain.txt");
  write_text(p, "The cat sat.\n\nthe dog, the CAT\nzebra");
  vbq::CorpusOptions o;
  o.lowercase = true;
  o.min_count = 2;
  auto c = vbq::load_corpus({p}, o);
  CHECK(c.raw_tokens == 8);
  CHECK(c.distinct_words == 5);
  CHECK(c.vocab.words == V{"the", "cat"});
  CHECK(c.vocab.counts == std::vector<uint64_t>{3, 2});
  // Line 1: the cat; line 2: the the cat; line 3 (zebra) is empty after the cut.
  CHECK(c.tokens == std::vector<uint32_t>{0, 1, 0, 0, 1});
  CHECK(c.sentence_ends == std::vector<uint64_t>{2, 5});

  // Without lowercase "The" and "the" differ; ties ("The", "cat", ...) by bytes.
  o.lowercase = false;
  o.min_count = 1;
  o.vocab_size = 3;
  auto c2 = vbq::load_corpus({p}, o);
  CHECK(c2.vocab.words == V{"the", "CAT", "The"});

  // A file's last line ends at end of file, also across several inputs.
  auto c3 = vbq::load_corpus({p, p}, o);
  CHECK(c3.raw_tokens == 16);
  CHECK(c3.vocab.counts[0] == 4);

  // A model's vocabulary, used as given: its ids and counts, words the text
  // lacks ("zebu") are fine, text words it lacks ("sat", "dog") are dropped.
  const vbq::Vocabulary given{{"cat", "zebu", "the"}, {9, 8, 7}};
  vbq::CorpusOptions og;
  og.lowercase = true;
  og.vocab_size = 1;  // ignored with a given vocabulary
  og.vocabulary = &given;
  auto cg = vbq::load_corpus({p}, og);
  CHECK(cg.vocab.words == given.words);
  CHECK(cg.vocab.counts == given.counts);
  CHECK(cg.tokens == std::vector<uint32_t>{2, 0, 2, 2, 0});
  CHECK(cg.sentence_ends == std::vector<uint64_t>{2, 5});

  FILE* f = std::fopen(tmp.file("out.txt").c_str(), "w+");
  REQUIRE(f);
  vbq::write_corpus_text(c, f, "out");
  std::rewind(f);
  char buf[128] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  CHECK(std::string(buf, n) == "the cat\nthe the cat\n");

  CHECK_THROWS_AS(vbq::load_corpus({}, o), vbq::Error);
  o.min_count = 100;
  write_text(p, "a b c");
  CHECK(kind_of([&] { vbq::load_corpus({p}, o); }) == vbq::ErrorKind::argument);
}

TEST_CASE("corpus: gzip input and chunk boundaries give the same tokens") {
  // > 4 MiB so read_text_chunks must cut inside the text; hyphenated and
  // apostrophe tokens make wrong cuts visible.
  std::string text;
  for (int i = 0; text.size() < (5u << 20); ++i)
    text += "w" + std::to_string(i % 1000) + "-x" + std::to_string(i % 7) + "'s " + (i % 13 == 0 ? "\n" : "");
  auto expected = tokenize(text, false);
  TempDir tmp("corpus");
  std::string gz = tmp.file("c.txt.gz");
  gzFile g = gzopen(gz.c_str(), "wb");
  REQUIRE(g);
  REQUIRE(gzwrite(g, text.data(), unsigned(text.size())) == int(text.size()));
  gzclose(g);
  for (const std::string& path : {gz}) {
    std::vector<std::string> got;
    std::string all;
    vbq::read_text_chunks(path, false, [&](std::string_view chunk) {
      all += chunk;
      vbq::scan_tokens(chunk, [&](std::string_view t) { got.emplace_back(t); }, [] {});
    });
    CHECK(all == text);
    CHECK(got == expected);
  }
  vbq::CorpusOptions o;
  o.vocab_size = 0;
  auto c = vbq::load_corpus({gz}, o);
  CHECK(c.raw_tokens == expected.size());
  CHECK(c.vocab.words.size() == 7000);
  CHECK_THROWS_AS(vbq::load_corpus({tmp.file("does-not-exist.gz")}, o), vbq::Error);
}

TEST_CASE("corpus: cancellation stops reading") {
  TempDir tmp("corpus");
  std::string p = tmp.file("cancel.txt");
  write_text(p, "a b c");
  std::atomic<bool> cancel{true};
  CHECK(kind_of([&] { vbq::load_corpus({p}, {}, &cancel); }) == vbq::ErrorKind::interrupted);
}
