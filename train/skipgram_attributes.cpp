#include "train/skipgram_attributes.hpp"

#include <cstdio>
#include <string>

#include "vbq/error.hpp"

namespace vbq {

std::string format_attribute(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
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
