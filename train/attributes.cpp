#include "train/attributes.hpp"

#include <charconv>
#include <string>

#include "vbq/error.hpp"

namespace vbq {

std::string format_attribute(double x) {
  char buf[64];  // to_chars with a precision: the C library's %.10g
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general, 10).ptr);
}

namespace {
template <class T>
std::optional<T> number(const Model& m, const char* key) {
  auto it = m.attributes.find(key);
  if (it == m.attributes.end()) return std::nullopt;
  try {
    return T(std::stod(it->second));
  } catch (const std::exception&) {
    throw Error(ErrorKind::format, std::string("attribute '") + key + "' is not a number: '" + it->second + "'");
  }
}
}  // namespace

void write_skipgram_options(const SkipGramOptions& o, uint64_t train_tokens, std::map<std::string, std::string>& a) {
  using namespace skipgram_keys;
  a[kDim] = std::to_string(o.dim);
  a[kWindow] = std::to_string(o.window);
  a[kNegatives] = std::to_string(o.negatives);
  a[kEpochs] = std::to_string(o.epochs);
  a[kThreads] = std::to_string(o.threads);
  a[kSeed] = std::to_string(o.seed);
  a[kPriorStd] = format_attribute(o.prior_std);
  a[kInitStd] = format_attribute(o.init_std);
  a[kLr] = format_attribute(o.lr);
  a[kStdRate] = format_attribute(o.std_rate);
  a[kSample] = format_attribute(o.sample);
  a[kTrainTokens] = std::to_string(train_tokens);
}

namespace {
std::string join_sizes(const std::vector<size_t>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + std::to_string(v[i]);
  return s;
}
}  // namespace

void write_bnn_options(const BnnConfig& config, const std::vector<size_t>& widths, std::map<std::string, std::string>& a) {
  using namespace bnn_keys;
  a[kTrainer] = config.deterministic
                    ? "vbq train-bnn --reference-mlp: deterministic MLP (maximum likelihood), Adam"
                    : "vbq train-bnn: Bayes by Backprop, mean-field Gaussian posterior, local reparameterization, Adam";
  a[kArchitecture] = join_sizes(widths, "-");
  a[kHidden] = join_sizes(config.hidden, ",");
  a[kActivation] = "relu, softmax output";
  a[kEpochs] = std::to_string(config.epochs);
  a[kBatch] = std::to_string(config.batch);
  a[kLr] = format_attribute(config.lr);
  a[kLrSchedule] = config.cosine_lr ? "cosine" : "constant";
  a[kPrior] = bnn_prior_name(config.prior.kind);
  if (config.prior.kind == BnnPrior::gauss) a[kPriorStd] = format_attribute(config.prior.std);
  else
    a[kKlApproximation] = "Molchanov et al. 2017 Eq. 14, k1 " + format_attribute(kSvdK1) + " k2 " +
                          format_attribute(kSvdK2) + " k3 " + format_attribute(kSvdK3) +
                          ", log alpha clipped to +-" + format_attribute(kSvdLogAlphaMax);
  a[kInitLogStd] = format_attribute(config.init_log_std);
  a[kSeed] = std::to_string(config.seed);
  a[kKlWeight] = format_attribute(config.kl_weight);
  a[kKlWarmupEpochs] = format_attribute(config.kl_warmup_epochs);
  a[kWeightLayout] = "layerK/weight is [in, out]: activations = inputs . weight + bias";
}

RecordedSkipGram read_skipgram_options(const Model& m) {
  using namespace skipgram_keys;
  RecordedSkipGram r;
  r.window = number<int>(m, kWindow);
  r.negatives = number<int>(m, kNegatives);
  if (const auto lower = number<int>(m, kLowercase)) r.lowercase = *lower != 0;
  r.prior_std = number<double>(m, kPriorStd);
  r.train_tokens = number<uint64_t>(m, kTrainTokens);
  return r;
}

}  // namespace vbq
