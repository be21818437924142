// The model every layer shares: named tensors of posterior means and spreads,
// with an optional vocabulary. It knows nothing of file formats; readers and
// writers (formats/hdf5_model, formats/word2vec, the .vbq container) convert
// to and from it.
//
// Invariants: a tensor's mu has prod(shape) entries, row-major (rank >= 1);
// sigma is empty (means only: point estimates, decoded models) or has as many
// entries as mu, each finite and > 0. vocab, when present, names the rows of
// the embedding tensors; counts, when present, has one count per vocab word.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vbq {

struct Tensor {
  std::string name;              // e.g. "word", "layer1/weight"
  std::string mean_path;         // where the mean came from in its file (restored there)
  std::vector<uint64_t> shape;   // row-major; rank >= 1
  bool float32 = true;           // dtype of the stored mean
  std::vector<double> mu;        // posterior mean, prod(shape) entries
  std::vector<double> sigma;     // posterior std (> 0, finite); empty for means only
  size_t size() const { return mu.size(); }
};

struct Model {
  std::vector<Tensor> tensors;
  std::vector<std::string> vocab;   // empty if the model has none
  std::vector<uint64_t> counts;     // empty if the model has none
  std::map<std::string, std::string> attributes;  // training settings, as text
  // The tensor called `name`, or nullptr.
  const Tensor* find(const std::string& name) const {
    for (const Tensor& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
};

}  // namespace vbq
