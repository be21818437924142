// word2vec vector files (Mikolov's word2vec tool, gensim, fastText .vec).
//
// Text:   "V d\n", then V lines "word v1 ... vd\n" (whitespace separated; '\r'
//         before '\n' is accepted; the last newline may be missing).
// Binary: "V d\n", then V records "word " + d float32 little-endian (+ an optional
//         '\n', which the original tool writes). Whitespace before a word is skipped.
// Detection: a file is text when its first record (the line after the header)
// parses as a word followed by exactly d numbers; otherwise binary.
//
// Safety: V and d are checked against the bytes actually present before anything
// is allocated (a record needs at least 1 + 2d bytes in text, 2 + 4d in binary),
// so a tiny file declaring 10^9 words fails at once with "absurd".
// Every error is ErrorKind::format (ErrorKind::io for open/read failures) and names
// the file plus the line (text) or word index (binary) and the byte offset.
// Words are stored as given (no lowercasing); vocab order is file order.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vbq {

struct WordVectors {
  std::vector<std::string> vocab;  // vocab[i] names row i
  size_t dim = 0;                  // d
  std::vector<float> vectors;      // vocab.size() x dim, row-major
};

enum class Word2VecFormat { text, binary };

// Decides text vs binary from the whole content (see detection rule above).
// Throws ErrorKind::format (naming `name`) if the header line is malformed.
Word2VecFormat detect_word2vec_format(std::string_view bytes, const std::string& name);

// Parses a whole file's content; `name` is used in error messages.
WordVectors parse_word2vec(std::string_view bytes, const std::string& name);
WordVectors parse_word2vec(std::string_view bytes, const std::string& name, Word2VecFormat format);

// Reads `path` with automatic format detection.
WordVectors read_word2vec(const std::string& path);

// Serialises to bytes. Text values use the shortest decimal form that reads back
// as the same float32, so text round trips are exact. Throws ErrorKind::argument
// if vectors.size() != vocab.size() * dim, dim == 0, or a word is empty or holds
// whitespace (it could not be read back).
std::string format_word2vec(const WordVectors& wv, Word2VecFormat format);

// Writes via AtomicOutput (complete file or nothing; existing file needs force).
void write_word2vec(const std::string& path, const WordVectors& wv, Word2VecFormat format, bool force);

}  // namespace vbq
