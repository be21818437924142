#include "eval/mlp.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "vbq/error.hpp"

namespace vbq {

namespace {
std::string shape_text(const std::vector<uint64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}
}  // namespace

MlpWeights mlp_from_model(const Model& model) {
  MlpWeights w;
  for (int k = 1;; ++k) {
    std::string wname = "layer" + std::to_string(k) + "/weight", bname = "layer" + std::to_string(k) + "/bias";
    const Tensor* tw = model.find(wname);
    const Tensor* tb = model.find(bname);
    if (!tw && !tb) break;
    if (!tw) throw Error(ErrorKind::format, "MLP model has tensor '" + bname + "' but no '" + wname + "'");
    if (!tb) throw Error(ErrorKind::format, "MLP model has tensor '" + wname + "' but no '" + bname + "'");
    if (tw->shape.size() != 2)
      throw Error(ErrorKind::format, "tensor '" + wname + "' has shape " + shape_text(tw->shape) +
                                         ", expected [in, out]");
    MlpLayer L;
    L.in = tw->shape[0];
    L.out = tw->shape[1];
    if (tb->shape.size() != 1 || tb->shape[0] != L.out)
      throw Error(ErrorKind::format, "tensor '" + bname + "' has shape " + shape_text(tb->shape) + ", expected [" +
                                         std::to_string(L.out) + "] to match '" + wname + "'");
    if (!w.layers.empty() && w.layers.back().out != L.in)
      throw Error(ErrorKind::format, "tensor '" + wname + "' has " + std::to_string(L.in) +
                                         " inputs but the previous layer has " +
                                         std::to_string(w.layers.back().out) + " outputs");
    L.weight.assign(tw->mu.begin(), tw->mu.end());
    L.bias.assign(tb->mu.begin(), tb->mu.end());
    w.layers.push_back(std::move(L));
  }
  if (w.layers.empty()) throw Error(ErrorKind::format, "model has no MLP tensors (expected 'layer1/weight', ...)");
  return w;
}

MlpScore evaluate_mlp(const MlpWeights& weights, const Dataset& data, size_t batch) {
  if (weights.layers.empty()) throw Error(ErrorKind::format, "MLP has no layers");
  if (weights.layers.front().in != data.cols)
    throw Error(ErrorKind::format, "MLP expects " + std::to_string(weights.layers.front().in) +
                                       " inputs but the data has " + std::to_string(data.cols) + " features");
  if (weights.layers.back().out != size_t(data.num_classes))
    throw Error(ErrorKind::format, "MLP has " + std::to_string(weights.layers.back().out) +
                                       " outputs but the data has " + std::to_string(data.num_classes) + " classes");
  batch = std::max<size_t>(batch, 1);
  MlpScore s;
  s.examples = data.rows;
  size_t correct = 0;
  double ll = 0;
  std::vector<float> a, z;
  for (size_t start = 0; start < data.rows; start += batch) {
    size_t b = std::min(batch, data.rows - start);
    const float* in = data.x.data() + start * data.cols;
    for (size_t k = 0; k < weights.layers.size(); ++k) {
      const MlpLayer& L = weights.layers[k];
      z.resize(b * L.out);
      for (size_t r = 0; r < b; ++r) std::copy(L.bias.begin(), L.bias.end(), z.begin() + r * L.out);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(b), int(L.out), int(L.in), 1.0f, in, int(L.in),
                  L.weight.data(), int(L.out), 1.0f, z.data(), int(L.out));
      if (k + 1 < weights.layers.size()) {
        for (float& v : z) v = std::max(v, 0.0f);
        std::swap(a, z);
        in = a.data();
      }
    }
    const size_t c = weights.layers.back().out;
    for (size_t r = 0; r < b; ++r) {
      const float* row = z.data() + r * c;
      size_t arg = size_t(std::max_element(row, row + c) - row);
      double mx = row[arg], sum = 0;
      for (size_t j = 0; j < c; ++j) sum += std::exp(double(row[j]) - mx);
      uint8_t label = data.y[start + r];
      ll += double(row[label]) - mx - std::log(sum);
      correct += arg == label;
    }
  }
  if (data.rows) {
    s.accuracy = double(correct) / double(data.rows);
    s.log_likelihood = ll / double(data.rows);
  }
  return s;
}

MlpScore evaluate_mlp(const Model& model, const Dataset& data) { return evaluate_mlp(mlp_from_model(model), data); }

void set_blas_threads(int threads) { openblas_set_num_threads(std::max(1, threads)); }

}  // namespace vbq
