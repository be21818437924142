#include "train/corpus.hpp"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include "vbq/error.hpp"

namespace vbq {

namespace {

void ascii_lower(char* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] >= 'A' && p[i] <= 'Z') p[i] = char(p[i] + ('a' - 'A'));
}

bool is_token_byte(char c) { return is_token_alnum(c) || c == '-' || c == '\''; }

// Open addressing string -> provisional id table; much faster than
// std::unordered_map<std::string, ...> on tens of millions of lookups.
class WordTable {
 public:
  WordTable() : slots_(1 << 20, 0) {}
  uint32_t find_or_insert(std::string_view w) {
    uint64_t h = hash(w);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      uint32_t s = slots_[i];
      if (s == 0) {
        words_.emplace_back(w);
        counts_.push_back(0);
        slots_[i] = uint32_t(words_.size());
        if (words_.size() * 2 > slots_.size()) grow();
        return uint32_t(words_.size() - 1);
      }
      if (words_[s - 1] == w) return s - 1;
    }
  }
  std::vector<std::string> words_;
  std::vector<uint64_t> counts_;

 private:
  static uint64_t hash(std::string_view w) {  // FNV-1a
    uint64_t h = 1469598103934665603ull;
    for (char c : w) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h ^ (h >> 29);
  }
  void grow() {
    std::vector<uint32_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (uint32_t s : old) {
      if (!s) continue;
      size_t i = hash(words_[s - 1]) & mask;
      while (slots_[i]) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<uint32_t> slots_;
};

}  // namespace

std::vector<std::string> tokenize(std::string_view text, bool lowercase) {
  std::string buf(text);
  if (lowercase) ascii_lower(buf.data(), buf.size());
  std::vector<std::string> out;
  scan_tokens(buf, [&](std::string_view t) { out.emplace_back(t); }, [] {});
  return out;
}

void read_text_chunks(const std::string& path, bool lowercase, const std::function<void(std::string_view)>& on_chunk,
                      const std::atomic<bool>* cancel) {
  const bool is_stdin = path == "-";
  const std::string name = is_stdin ? "<stdin>" : path;
  gzFile f = nullptr;
  if (is_stdin) {
    int fd = ::dup(STDIN_FILENO);
    if (fd >= 0) f = gzdopen(fd, "rb");
  } else {
    f = gzopen(path.c_str(), "rb");
  }
  if (!f) throw Error(ErrorKind::io, "cannot open corpus '" + name + "': " + std::strerror(errno ? errno : ENOMEM));
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{f};
  gzbuffer(f, 1 << 18);

  constexpr size_t chunk = 1 << 22;
  std::string buf;
  size_t carry = 0;  // bytes at the start of buf left over from the previous read
  for (;;) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Error(ErrorKind::interrupted, "interrupted while reading '" + name + "'");
    buf.resize(carry + chunk);
    int n = gzread(f, buf.data() + carry, unsigned(chunk));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      throw Error(ErrorKind::io, "cannot read corpus '" + name + "': " +
                                     (err == Z_ERRNO ? std::string(std::strerror(errno)) : std::string(msg)));
    }
    size_t len = carry + size_t(n);
    bool eof = n == 0;
    // Cut after the last separator byte: everything before it is tokenized the
    // same way whatever follows (the scanner looks ahead only one byte).
    size_t cut = len;
    if (!eof) {
      // buf[0, carry) holds only token bytes, so search the new bytes.
      size_t j = len;
      while (j > carry && is_token_byte(buf[j - 1])) --j;
      if (j == carry) {  // no separator yet (a giant token run): keep reading
        carry = len;
        continue;
      }
      cut = j;
    }
    if (lowercase) ascii_lower(buf.data(), cut);
    if (cut > 0) on_chunk(std::string_view(buf.data(), cut));
    if (eof) break;
    std::memmove(buf.data(), buf.data() + cut, len - cut);
    carry = len - cut;
  }
}

Vocabulary make_vocabulary(std::vector<std::string> words, std::vector<uint64_t> counts, const CorpusOptions& options) {
  std::vector<uint32_t> order(words.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (counts[a] != counts[b]) return counts[a] > counts[b];
    return words[a] < words[b];
  });
  Vocabulary v;
  for (uint32_t i : order) {
    if (counts[i] < options.min_count) break;
    if (options.vocab_size && v.words.size() >= options.vocab_size) break;
    v.words.push_back(std::move(words[i]));
    v.counts.push_back(counts[i]);
  }
  return v;
}

Corpus load_corpus(const std::vector<std::string>& paths, const CorpusOptions& options, const std::atomic<bool>* cancel,
                   const std::function<void(uint64_t, uint64_t)>& on_progress) {
  if (paths.empty()) throw Error(ErrorKind::argument, "no corpus file given");
  Corpus c;
  WordTable table;
  std::vector<uint32_t> provisional;  // reused as the final stream (compacted in place)
  std::vector<uint64_t> line_ends;
  provisional.reserve(1 << 20);
  for (const auto& path : paths) {
    read_text_chunks(
        path, options.lowercase,
        [&](std::string_view text) {
          c.bytes_read += text.size();
          scan_tokens(
              text,
              [&](std::string_view t) {
                uint32_t id = table.find_or_insert(t);
                ++table.counts_[id];
                provisional.push_back(id);
              },
              [&] {
                if (line_ends.empty() ? !provisional.empty() : line_ends.back() != provisional.size())
                  line_ends.push_back(provisional.size());
              });
          if (on_progress) on_progress(c.bytes_read, provisional.size());
        },
        cancel);
    // A file's last line ends with the file even without a trailing newline.
    if (line_ends.empty() ? !provisional.empty() : line_ends.back() != provisional.size())
      line_ends.push_back(provisional.size());
  }
  c.raw_tokens = provisional.size();
  c.distinct_words = table.words_.size();

  // Vocabulary, then provisional id -> final id (UINT32_MAX = out of vocabulary).
  std::vector<std::string> words = table.words_;
  std::vector<uint64_t> counts = table.counts_;
  c.vocab = options.vocabulary ? *options.vocabulary : make_vocabulary(std::move(words), std::move(counts), options);
  if (c.vocab.words.empty())
    throw Error(ErrorKind::argument, "empty vocabulary: the corpus has no word with count >= " +
                                         std::to_string(options.min_count));
  // Look each kept word up again instead of keeping the sort permutation around
  // (a given vocabulary may hold words the text lacks: they grow the table).
  std::vector<uint32_t> slot(c.vocab.words.size());
  for (uint32_t id = 0; id < slot.size(); ++id) slot[id] = table.find_or_insert(c.vocab.words[id]);
  std::vector<uint32_t> remap(table.words_.size(), UINT32_MAX);
  for (uint32_t id = 0; id < slot.size(); ++id) remap[slot[id]] = id;
  size_t out = 0, line = 0;
  for (size_t i = 0; i < provisional.size(); ++i) {
    while (line < line_ends.size() && line_ends[line] == i) {
      if (c.sentence_ends.empty() ? out > 0 : c.sentence_ends.back() != out) c.sentence_ends.push_back(out);
      ++line;
    }
    uint32_t id = remap[provisional[i]];
    if (id != UINT32_MAX) provisional[out++] = id;
  }
  if (out > 0 && (c.sentence_ends.empty() || c.sentence_ends.back() != out)) c.sentence_ends.push_back(out);
  provisional.resize(out);
  provisional.shrink_to_fit();
  c.tokens = std::move(provisional);
  return c;
}

void write_corpus_text(const Corpus& corpus, std::FILE* out, const std::string& out_name) {
  std::string line;
  size_t begin = 0;
  for (uint64_t end : corpus.sentence_ends) {
    line.clear();
    for (size_t i = begin; i < end; ++i) {
      if (i > begin) line.push_back(' ');
      line += corpus.vocab.words[corpus.tokens[i]];
    }
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size())
      throw Error(ErrorKind::io, "cannot write '" + out_name + "': " + std::strerror(errno));
    begin = end;
  }
}

}  // namespace vbq
