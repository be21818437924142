// HDF5 model files: posterior means and spreads of any number of tensors.
//
// Auto-detected conventions (in this order):
//  1. "default": a group per tensor holding `mean` plus exactly one of `std`,
//     `var`, `log_std` or `rho` (same shape). `rho` is the softplus
//     parameterisation of Bayes-by-Backprop libraries: sigma = log(1 + e^rho). The tensor's name is the group path
//     without the leading '/', e.g. "word", "layer1/weight".
//  2. "paper": the VBQ paper's training code, `q/mean_u` with `q/log_std_u`
//     (tensor "u") and `q/mean_v` with `q/log_std_v` (tensor "v").
// An explicit mapping (TensorSpec) overrides detection.
// Optional datasets at the root: `vocab` (variable-length UTF-8 strings, one per
// row of the embedding tensors) and `counts` (uint64, word frequencies).
// float32 and float64 datasets are read; everything is held as double in a
// core/model.hpp Model.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/model.hpp"

namespace vbq {

enum class Spread { std_dev, variance, log_std, softplus_rho };

// sigma = log(1 + e^rho), without overflow or cancellation: rho for large rho,
// e^rho for very negative rho (0 once e^rho underflows).
double sigma_from_rho(double rho);

struct TensorSpec {  // explicit mapping given on the command line
  std::string name;         // tensor name used in the container
  std::string mean_path;    // HDF5 dataset path of the mean
  std::string spread_path;  // HDF5 dataset path of std / var / log_std / rho
  Spread spread = Spread::log_std;
};

struct ReadOptions {
  std::vector<TensorSpec> explicit_tensors;  // if nonempty, only these are read
  std::vector<std::string> select;           // tensor names to keep (empty = all detected)
  bool require_spread = true;                // false: means-only files are accepted (eval)
  int threads = 0;                           // for widening float32 and checking values (0 = all cores)
};

// Reads and validates a model. Throws vbq::Error naming the file, dataset and flat
// index: ErrorKind::io (unreadable), ErrorKind::format (not HDF5, missing dataset,
// shape mismatch, non-float dtype, empty tensor, NaN/inf mean, std <= 0 or not
// finite, no tensor detected); ErrorKind::argument for a selected name that is not there.
Model read_model(const std::string& path, const ReadOptions& options = {});

// A model read in slices, for bounded memory: the constructor opens the file,
// finds the tensors as read_model does and checks their datasets (dtype, shape,
// declared size against the memory budget, as read_model); layout() is the
// model without values (tensors with name, mean_path, shape and dtype, mu and
// sigma empty; vocabulary, counts, attributes). read() fills elements
// [begin, begin + mu.size()) in row-major order of tensor i (an index into
// layout().tensors), with read_model's checks and messages; sigma may be empty
// (means only).
class ModelSlices {
 public:
  explicit ModelSlices(const std::string& path, const ReadOptions& options = {});
  ~ModelSlices();
  const Model& layout() const;
  void read(size_t tensor, uint64_t begin, std::span<double> mu, std::span<double> sigma) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes a model atomically (temp file + rename; refuses an existing file unless
// force). Each tensor goes to `<name>/mean` and, when sigma is nonempty,
// `<name>/log_std`, unless mean_path is set, in which case the mean goes there
// (and the spread beside it as log_std). Writes vocab, counts and attributes.
void write_model(const std::string& path, const Model& model, bool force);

// A model written in slices, for bounded memory, atomically as write_model:
// each tensor's mean goes where write_model puts it, as a chunked dataset
// (pieces of about 2^20 elements) of the tensor's dtype, written by write() in
// slices of row-major elements; commit() adds vocab, counts and attributes of
// `extras` (its tensors are ignored) and renames the file into place. No spreads.
class ModelSliceWriter {
 public:
  ModelSliceWriter(const std::string& path, bool force);
  ~ModelSliceWriter();
  void begin_tensor(const Tensor& t);  // t.mu unused
  void write(uint64_t begin, std::span<const double> mu);
  void commit(const Model& extras);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vbq
