// The application layer over the codec and formats/: a Model (formats/hdf5_model)
// becomes a Container of encoded tensors and back, model files are told apart and
// read by content, spreads are assigned to point estimates, single rows are
// decoded, containers are described. Rate control (choosing lambda for a target)
// is app/compress.hpp.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "formats/container.hpp"
#include "formats/hdf5_model.hpp"
#include "vbq/codec.hpp"

namespace vbq {

struct CompressSettings {
  VbqSettings vbq;              // lambda, prior mean fitting, threads (each tensor gets its own prior)
  bool include_vocab = true;    // store the model's vocabulary in the container
  // One lambda per tensor, in model order, replacing vbq.lambda (empty: vbq.lambda
  // for every tensor). See app/lambda_allocation.hpp.
  std::vector<double> tensor_lambdas;
};

// An encoding of tensor t (encoded with t.shape) carrying t's name, mean path
// and dtype, ready for a Container.
EncodedTensor labelled(EncodedTensor encoded, const Tensor& t);

// Encodes every tensor of `model` with VBQ. Each tensor needs sigma.
// Throws ErrorKind::argument if a tensor has no posterior spread.
Container compress_model(const Model& model, const CompressSettings& settings);

// Decodes every tensor to its reconstructed means (sigma left empty), with the
// container's vocabulary. Result tensors keep name, shape, dtype and mean_path.
// Throws ErrorKind::unsupported (naming `file`) before allocating if decoding
// needs more than memory_budget(container.source_bytes): a valid, tiny file can
// declare 2^48 elements (a constant tensor codes to zero bits).
Model restore_model(const Container& container, int threads = 0, const std::string& file = "");
// restore_model's check alone: throws ErrorKind::unsupported (naming `file`)
// if the container's decoded means would exceed the memory budget. Streaming
// decoders apply it too, so that a tiny hostile file cannot make them write
// terabytes.
void check_decode_budget(const Container& container, const std::string& file);

// What a model file holds, by its first bytes: a .vbq container, HDF5, or
// anything else (read as word2vec). Throws ErrorKind::io if it cannot be read.
enum class ModelFileKind { container, hdf5, other };
ModelFileKind sniff_model_file(const std::string& path);

// Posterior means from any model file, by content: a .vbq container (decoded), an
// HDF5 model (means; spreads kept when present), or a word2vec text/binary file
// (one tensor "word" with its vocabulary). Throws ErrorKind::format naming the file
// when it is none of these.
Model load_means(const std::string& path, const ReadOptions& options = {}, int threads = 0);

// Posterior spreads for a point-estimate model (a word2vec file, means-only
// HDF5), which VBQ needs: its rate penalty per bit is 2 lambda sigma^2.
//  - constant: sigma = scale everywhere. For models without word frequencies.
//  - counts:   row w of every tensor with one row per vocabulary word gets
//              scale * sqrt(counts[0] / counts[w]): a posterior's std shrinks as
//              1/sqrt(data), so rare words get wide spreads and cost few bits.
//              Needs model.counts (our trainer stores them; or read_vocab_counts).
//  - zipf:     the same with counts[w] ∝ 1 / (w + 1) (vocabularies are stored most
//              frequent first) when no counts exist.
// Other tensors get `scale`. Replaces any sigma. Throws ErrorKind::argument for
// scale <= 0, or counts without counts (or with a zero count, naming the word).
enum class SpreadRule { constant, counts, zipf };
void assign_spread(Model& model, double scale, SpreadRule rule);

// Reads word frequencies from a word2vec vocabulary file ("word count" per line,
// as word2vec -save-vocab writes) into model.counts, in the model's vocabulary
// order. Throws ErrorKind::format naming the file and line for a malformed line,
// ErrorKind::argument naming a vocabulary word the file lacks.
void read_vocab_counts(const std::string& path, Model& model);

// Where the spreads of a model to compress come from.
struct SpreadSource {
  std::optional<double> scale;  // none: the file's own (an HDF5 posterior); else assign_spread's scale
  std::string counts;           // with scale: "" constant, "model", "zipf", or a word2vec vocab file
};
// The posterior `vbq compress` encodes: read_model(path, read) when the spreads
// come from the file (a file that is not HDF5 is then ErrorKind::format, pointing
// to --sigma), else load_means with spreads from assign_spread. Throws
// ErrorKind::argument for counts without a scale.
Model load_posterior(const std::string& path, const ReadOptions& read, const SpreadSource& spread, int threads = 0);
// The check of load_posterior for spreads from the file: ErrorKind::format,
// pointing to --sigma, when `path` is neither HDF5 nor a container.
void check_posterior_file(const std::string& path);

// One row (slice along the first axis) of one tensor, decoded alone: vbq get.
struct DecodedRow {
  std::string tensor;           // tensor name
  uint64_t row = 0;
  std::string word;             // the row's vocabulary word, if the container has one for it
  bool float32 = true;          // the tensor's stored dtype
  std::vector<double> values;   // row_length(tensor) reconstructed means
};

// key is a vocabulary word or, if as_row is set or key is not in the vocabulary,
// a row number. tensor empty: "word" if present, else the only tensor (several: an
// argument error listing them). Throws ErrorKind::argument (naming `file`) for an
// unknown tensor, word or row.
DecodedRow get_row(const Container& container, const std::string& key, const std::string& tensor = "",
                   bool as_row = false, const std::string& file = "");
// The same from a mapped file, reading only the blocks that hold the row.
DecodedRow get_row(const MappedContainer& mapped, const std::string& key, const std::string& tensor = "",
                   bool as_row = false, const std::string& file = "");

// A human-readable report of a container: per tensor shape, quantizer, prior,
// lambda, bytes, bits per dimension, code-point table size.
std::string describe_container(const Container& container, const ContainerLayout& layout);

}  // namespace vbq
