// Deterministic forward pass of a ReLU MLP classifier (posterior means only).
//
// Tensor convention of a model file (the one train/bnn writes):
//   "layer1/weight" shape [in, out] (row-major, so activations are X · W),
//   "layer1/bias"   shape [out], then "layer2/...", ... with no gaps.
// Hidden layers use ReLU, the last layer is a softmax over num_classes outputs.
// Only means are used, so models read with require_spread = false work, as do
// models whose means came out of a decompressed container.
#pragma once
#include <cstddef>
#include <vector>

#include "core/model.hpp"
#include "formats/idx.hpp"

namespace vbq {

struct MlpLayer {
  size_t in = 0, out = 0;
  std::vector<float> weight;  // in * out, row-major [in, out]
  std::vector<float> bias;    // out
};

struct MlpWeights {
  std::vector<MlpLayer> layers;  // layers[k].out == layers[k + 1].in
};

// Collects layer1..layerL from a model. Throws ErrorKind::format naming the
// tensor if a weight or bias is missing, has the wrong rank or shape, or if
// consecutive layers do not chain; tensors named other than layerK/... are ignored.
MlpWeights mlp_from_model(const Model& model);

struct MlpScore {
  size_t examples = 0;
  double accuracy = 0;        // fraction of argmax predictions equal to the label
  double log_likelihood = 0;  // mean over examples of log p(label | x), nats (<= 0)
};

// Classifies `data` in batches with cblas_sgemm (threads: OpenBLAS's setting).
// Requires layers nonempty, first in == data.cols, last out == data.num_classes
// (else ErrorKind::format). Log-softmax is evaluated stably in double.
MlpScore evaluate_mlp(const MlpWeights& weights, const Dataset& data, size_t batch = 1000);
MlpScore evaluate_mlp(const Model& model, const Dataset& data);

// Number of OpenBLAS threads used by the gemm calls here and in the trainers (>= 1).
void set_blas_threads(int threads);

}  // namespace vbq
