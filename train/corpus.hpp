// Text corpora for the embedding trainer: tokenizer, vocabulary, id stream.
//
// Tokens. A token is a maximal match of  [A-Za-z0-9]+([-'][A-Za-z0-9]+)*  in the
// raw bytes; every other byte (spaces, punctuation, all bytes >= 0x80 of UTF-8
// sequences, a '-' or '\'' not followed by a letter or digit) is a separator:
//   "don't"  -> don't        "'tis"      -> tis        "x--y"  -> x, y
//   "well-known-" -> well-known             "café" -> caf  (0xC3 0xA9 separate)
// --lowercase maps ASCII A-Z to a-z only (other bytes never belong to a token).
// Sentences are input lines: training windows never cross a line break (the same
// boundaries word2vec.c sees when fed the output of write_corpus_text).
//
// Vocabulary. Words sorted by count, descending, ties by the word's bytes,
// ascending (deterministic). Then words with count < min_count are dropped and the
// list is cut to vocab_size (0 = no cut). Tokens outside the vocabulary are
// dropped from the id stream, as word2vec.c does, before windows are formed.
//
// Inputs: plain text, gzip (.gz or any gzip stream: zlib detects it), or "-" for
// stdin. The whole id stream is held in memory (4 bytes per kept token).
#pragma once
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vbq {

namespace detail {
struct TokenCharTable {
  bool alnum[256] = {};
  constexpr TokenCharTable() {
    for (int c = '0'; c <= '9'; ++c) alnum[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) alnum[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) alnum[c] = true;
  }
};
inline constexpr TokenCharTable token_chars{};
}  // namespace detail

inline bool is_token_alnum(char c) { return detail::token_chars.alnum[static_cast<unsigned char>(c)]; }

// Calls on_token(std::string_view) for each token of `text` in order and
// on_newline() for each '\n'. The text must end at a token boundary (see
// read_text_chunks); views point into `text`.
template <class OnToken, class OnNewline>
void scan_tokens(std::string_view text, OnToken&& on_token, OnNewline&& on_newline) {
  const char* p = text.data();
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (!is_token_alnum(p[i])) {
      if (p[i] == '\n') on_newline();
      ++i;
      continue;
    }
    size_t start = i;
    for (;;) {
      while (i < n && is_token_alnum(p[i])) ++i;
      if (i + 1 < n && (p[i] == '-' || p[i] == '\'') && is_token_alnum(p[i + 1])) {
        ++i;
        continue;
      }
      break;
    }
    on_token(std::string_view(p + start, i - start));
  }
}

// All tokens of a string (convenience for tests and small inputs).
std::vector<std::string> tokenize(std::string_view text, bool lowercase);

// Reads `path` ("-" = stdin; gzip or plain, via zlib) in chunks and calls
// on_chunk for each. Every chunk ends at a token boundary (a separator byte or
// end of input), chunks concatenate to the whole input, and are ASCII-lowercased
// when `lowercase`. Throws ErrorKind::io naming the file (cannot open, read or
// gzip error); ErrorKind::interrupted if *cancel becomes true.
void read_text_chunks(const std::string& path, bool lowercase, const std::function<void(std::string_view)>& on_chunk,
                      const std::atomic<bool>* cancel = nullptr);

struct Vocabulary {
  std::vector<std::string> words;  // id -> word, most frequent first
  std::vector<uint64_t> counts;    // id -> occurrences in the corpus (non-increasing)
};

struct CorpusOptions {
  bool lowercase = false;
  uint64_t vocab_size = 30000;  // keep at most this many words (0 = all)
  uint64_t min_count = 1;       // drop words seen fewer times
  // A trained model's vocabulary: used as given (ids, counts) instead of one
  // counted from these files; vocab_size and min_count are then ignored.
  const Vocabulary* vocabulary = nullptr;
};

struct Corpus {
  Vocabulary vocab;
  std::vector<uint32_t> tokens;          // ids of in-vocabulary tokens, in order
  std::vector<uint64_t> sentence_ends;   // ascending end offsets into tokens; last == tokens.size()
  uint64_t raw_tokens = 0;               // all tokens read, in- and out-of-vocabulary
  uint64_t distinct_words = 0;           // distinct tokens before the vocabulary cut
  uint64_t bytes_read = 0;               // uncompressed bytes
};

// Sorts (word, count) pairs into vocabulary order and applies min_count/vocab_size.
Vocabulary make_vocabulary(std::vector<std::string> words, std::vector<uint64_t> counts, const CorpusOptions& options);

// Tokenizes all inputs in one pass (stdin can be one of them) and builds the
// vocabulary and id stream. Empty sentences are dropped. on_progress(bytes,
// tokens) is called after each chunk when given. Throws ErrorKind::argument if no
// path is given or the vocabulary ends up empty, ErrorKind::io from reading,
// ErrorKind::interrupted if *cancel becomes true.
Corpus load_corpus(const std::vector<std::string>& paths, const CorpusOptions& options,
                   const std::atomic<bool>* cancel = nullptr,
                   const std::function<void(uint64_t bytes, uint64_t tokens)>& on_progress = {});

// Writes the id stream as text for peer trainers: one line per sentence, words
// separated by single spaces. Throws ErrorKind::io if writing fails.
void write_corpus_text(const Corpus& corpus, std::FILE* out, const std::string& out_name);

}  // namespace vbq
