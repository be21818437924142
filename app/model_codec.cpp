#include "app/model_codec.hpp"

#include <algorithm>
#include <unordered_map>
#include <sstream>
#include <cmath>
#include <charconv>
#include <cstdio>

#include <fstream>

#include "formats/atomic_file.hpp"
#include "formats/memory_budget.hpp"
#include "formats/word2vec.hpp"
#include "vbq/error.hpp"

namespace vbq {

EncodedTensor labelled(EncodedTensor e, const Tensor& t) {
  e.name = t.name;
  e.mean_path = t.mean_path;
  e.float32 = t.float32;
  return e;
}

Container compress_model(const Model& model, const CompressSettings& settings) {
  if (!settings.tensor_lambdas.empty() && settings.tensor_lambdas.size() != model.tensors.size())
    throw Error(ErrorKind::argument, std::to_string(settings.tensor_lambdas.size()) + " tensor lambdas for " +
                                         std::to_string(model.tensors.size()) + " tensors");
  Container c;
  VbqSettings vbq = settings.vbq;
  for (size_t i = 0; i < model.tensors.size(); ++i) {
    const Tensor& t = model.tensors[i];
    if (t.sigma.size() != t.mu.size())
      throw Error(ErrorKind::argument, "tensor '" + t.name + "' has no posterior std: VBQ needs mean and spread");
    if (!settings.tensor_lambdas.empty()) vbq.lambda = settings.tensor_lambdas[i];
    c.tensors.push_back(labelled(encode_vbq(t.mu, t.sigma, vbq, t.shape), t));
  }
  if (settings.include_vocab) c.vocab = model.vocab;
  return c;
}

void check_decode_budget(const Container& c, const std::string& file) {
  // The means (8 bytes each) plus one tensor's symbol indices (4 bytes each).
  uint64_t elements = 0, largest = 0;
  for (const EncodedTensor& e : c.tensors) elements += e.element_count(), largest = std::max(largest, e.element_count());
  check_memory_budget(elements * sizeof(double) + largest * sizeof(uint32_t),
                      (file.empty() ? std::string("the container") : file) + ": decoding " +
                          std::to_string(elements) + " elements",
                      c.source_bytes);
}

Model restore_model(const Container& c, int threads, const std::string& file) {
  check_decode_budget(c, file);
  Model m;
  for (const EncodedTensor& e : c.tensors) {
    Tensor t;
    t.name = e.name;
    t.mean_path = e.mean_path;
    t.shape = e.shape;
    t.float32 = e.float32;
    t.mu = decode_tensor(e, threads);
    m.tensors.push_back(std::move(t));
  }
  m.vocab = c.vocab;
  return m;
}

void assign_spread(Model& m, double scale, SpreadRule rule) {
  if (!(scale > 0) || !std::isfinite(scale)) throw Error(ErrorKind::argument, "--sigma must be a finite number > 0");
  const size_t words = m.vocab.size();
  if (rule == SpreadRule::counts && m.counts.size() != words)
    throw Error(ErrorKind::argument, "spreads from counts need one count per vocabulary word (have " +
                                         std::to_string(m.counts.size()) + " for " + std::to_string(words) +
                                         " words): give a vocab file, or use zipf");
  std::vector<double> row_spread(words, scale);
  for (size_t w = 0; w < words; ++w) {
    if (rule == SpreadRule::counts) {
      if (m.counts[w] == 0) throw Error(ErrorKind::argument, "word '" + m.vocab[w] + "' has count 0");
      row_spread[w] = scale * std::sqrt(double(m.counts[0]) / double(m.counts[w]));
    } else if (rule == SpreadRule::zipf) {
      row_spread[w] = scale * std::sqrt(double(w + 1));
    }
  }
  for (Tensor& t : m.tensors) {
    t.sigma.assign(t.mu.size(), scale);
    if (rule == SpreadRule::constant || words == 0 || t.shape.empty() || t.shape[0] != words) continue;
    const size_t len = t.mu.size() / words;
    for (size_t i = 0; i < t.mu.size(); ++i) t.sigma[i] = row_spread[i / len];
  }
}

void read_vocab_counts(const std::string& path, Model& m) {
  std::istringstream in(read_file_bytes(path));
  std::unordered_map<std::string, uint64_t> count;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string word, c, extra;
    uint64_t value = 0;
    fields >> word >> c;
    auto [end, ec] = std::from_chars(c.data(), c.data() + c.size(), value);
    if (word.empty() || ec != std::errc() || end != c.data() + c.size() || (fields >> extra))
      throw Error(ErrorKind::format, path + ": line " + std::to_string(n) + " is not 'word count'");
    count.emplace(word, value);
  }
  m.counts.resize(m.vocab.size());
  for (size_t w = 0; w < m.vocab.size(); ++w) {
    auto it = count.find(m.vocab[w]);
    if (it == count.end()) throw Error(ErrorKind::argument, path + " has no count for the word '" + m.vocab[w] + "'");
    m.counts[w] = it->second;
  }
}

namespace {
// get_row; mapped, if given, holds c's blocks (c's own are empty).
DecodedRow find_row(const Container& c, const MappedContainer* mapped, const std::string& key,
                    const std::string& tensor, bool as_row, const std::string& file) {
  const std::string where = file.empty() ? "the container" : file;
  const EncodedTensor* t = nullptr;
  for (const EncodedTensor& e : c.tensors)
    if (e.name == tensor || (tensor.empty() && e.name == "word")) t = &e;
  if (!t && tensor.empty() && c.tensors.size() == 1) t = &c.tensors.front();
  if (!t) {
    std::string names;
    for (const EncodedTensor& e : c.tensors) names += (names.empty() ? "" : ", ") + e.name;
    throw Error(ErrorKind::argument, where + (tensor.empty() ? " has several tensors and none named 'word'; "
                                                               "choose one with --tensor: "
                                                             : " has no tensor '" + tensor + "'; its tensors: ") +
                                         names);
  }

  DecodedRow r;
  r.tensor = t->name;
  r.float32 = t->float32;
  auto word = std::find(c.vocab.begin(), c.vocab.end(), key);
  if (!as_row && word != c.vocab.end()) {
    r.row = uint64_t(word - c.vocab.begin());
  } else {
    size_t used = 0;
    try {
      r.row = std::stoull(key, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != key.size() || key[0] == '-')
      throw Error(ErrorKind::argument, "'" + key + "' is " + (as_row || c.vocab.empty() ? "not a row number" :
                                       "neither a word of the vocabulary of " + where + " nor a row number"));
  }
  if (r.row >= row_count(*t))
    throw Error(ErrorKind::argument, where + ": tensor '" + t->name + "' has " + std::to_string(row_count(*t)) +
                                         " rows; row " + std::to_string(r.row) + " does not exist");
  if (r.row < c.vocab.size() && row_count(*t) == c.vocab.size()) r.word = c.vocab[r.row];
  if (!mapped) {
    r.values = decode_rows(*t, r.row);
    return r;
  }
  EncodedTensor e = *t;
  const uint64_t per = e.symbols.block_symbols;
  e.symbols.blocks.resize((e.symbols.count + per - 1) / per);
  const BlockRange blocks = row_blocks(e, r.row);
  for (uint64_t b = blocks.first; b < blocks.end; ++b)
    e.symbols.blocks[b] = mapped->block(size_t(t - c.tensors.data()), b);
  r.values = decode_rows(e, r.row);
  return r;
}
}  // namespace

DecodedRow get_row(const Container& c, const std::string& key, const std::string& tensor, bool as_row,
                   const std::string& file) {
  return find_row(c, nullptr, key, tensor, as_row, file);
}

DecodedRow get_row(const MappedContainer& mapped, const std::string& key, const std::string& tensor, bool as_row,
                   const std::string& file) {
  return find_row(mapped.container(), &mapped, key, tensor, as_row, file);
}

ModelFileKind sniff_model_file(const std::string& path) {
  char magic[8] = {};
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) read_file_bytes(path);  // throws the io error with errno
    in.read(magic, sizeof magic);
  }
  std::string_view head(magic, sizeof magic);
  if (looks_like_container(head)) return ModelFileKind::container;
  if (head == std::string_view("\x89HDF\r\n\x1a\n", 8)) return ModelFileKind::hdf5;
  return ModelFileKind::other;
}

Model load_means(const std::string& path, const ReadOptions& options, int threads) {
  const ModelFileKind kind = sniff_model_file(path);
  if (kind == ModelFileKind::container) {
    Model m = restore_model(read_container(path), threads, path);
    if (!options.select.empty()) {
      std::vector<Tensor> kept;
      for (auto& name : options.select) {
        const Tensor* t = m.find(name);
        if (!t) throw Error(ErrorKind::argument, path + ": no tensor '" + name + "' in the container");
        kept.push_back(*t);
      }
      m.tensors = std::move(kept);
    }
    return m;
  }
  if (kind == ModelFileKind::hdf5) {
    ReadOptions o = options;
    o.require_spread = false;
    return read_model(path, o);
  }
  WordVectors wv;
  try {
    wv = read_word2vec(path);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::format) throw;
    throw Error(ErrorKind::format, path + ": not a .vbq container, not an HDF5 file, and not a word2vec text or "
                                          "binary file (as word2vec: " + e.what() + ")");
  }
  Model m;
  Tensor t;
  t.name = "word";
  t.shape = {wv.vocab.size(), wv.dim};
  t.mu.assign(wv.vectors.begin(), wv.vectors.end());
  m.tensors.push_back(std::move(t));
  m.vocab = std::move(wv.vocab);
  return m;
}

void check_posterior_file(const std::string& path) {
  if (sniff_model_file(path) == ModelFileKind::other)
    throw Error(ErrorKind::format, path + ": not an HDF5 file (for a word2vec file of point estimates, "
                                          "give a posterior std: --sigma S [--sigma-from-counts zipf|FILE])");
}

Model load_posterior(const std::string& path, const ReadOptions& read, const SpreadSource& spread, int threads) {
  if (!spread.scale) {
    if (!spread.counts.empty()) throw Error(ErrorKind::argument, "--sigma-from-counts needs --sigma");
    check_posterior_file(path);
    return read_model(path, read);
  }
  Model model = load_means(path, read, threads);
  const std::string& from = spread.counts;
  if (!from.empty() && from != "model" && from != "zipf") read_vocab_counts(from, model);
  assign_spread(model, *spread.scale,
                from.empty() ? SpreadRule::constant : from == "zipf" ? SpreadRule::zipf : SpreadRule::counts);
  return model;
}

static const char* quantizer_name(QuantizerKind q) {
  switch (q) {
    case QuantizerKind::vbq: return "vbq";
    case QuantizerKind::grid: return "grid";
    case QuantizerKind::codebook: return "codebook";
  }
  return "?";
}

std::string describe_container(const Container& c, const ContainerLayout& lay) {
  std::string out;
  char line[512];
  uint64_t elements = 0;
  std::snprintf(line, sizeof line, "%-24s %-16s %-9s %-34s %10s %12s %9s %9s %7s\n", "tensor", "shape", "quantizer",
                "prior / parameters", "lambda", "bytes", "bits/dim", "points", "tables");
  out += line;
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const EncodedTensor& t = c.tensors[i];
    std::string shape;
    for (uint64_t d : t.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    std::string prior;
    if (t.quantizer == QuantizerKind::vbq) prior = make_prior(t.prior_family, t.prior_parameters)->describe();
    else if (t.quantizer == QuantizerKind::grid) prior = "scale=" + std::to_string(t.values.at(0));
    else prior = std::to_string(t.values.size()) + " centroids";
    uint64_t n = t.element_count();
    elements += n;
    // The context coder has no frequency tables: its column names the coder.
    const std::string tables = t.symbols.coder == EntropyCoder::context ? entropy_coder_name(t.symbols.coder)
                                                                        : std::to_string(t.symbols.tables.size());
    std::snprintf(line, sizeof line, "%-24s %-16s %-9s %-34s %10.4g %12llu %9.4f %9zu %7s\n", t.name.c_str(),
                  shape.c_str(), quantizer_name(t.quantizer), prior.c_str(), t.lambda,
                  (unsigned long long)lay.tensor_bytes[i], 8.0 * double(lay.tensor_bytes[i]) / double(n),
                  t.symbols.alphabet.size(), tables.c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "vocabulary: %zu words, %llu bytes; header %llu bytes\n", c.vocab.size(),
                (unsigned long long)lay.vocab_bytes, (unsigned long long)lay.header_bytes);
  out += line;
  std::snprintf(line, sizeof line, "total: %llu bytes, %.4f bits per coordinate over %llu coordinates\n",
                (unsigned long long)lay.total_bytes, 8.0 * double(lay.total_bytes) / double(elements),
                (unsigned long long)elements);
  out += line;
  return out;
}

}  // namespace vbq
