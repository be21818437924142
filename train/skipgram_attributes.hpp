// The skip-gram trainer's settings as model attributes (HDF5 attributes of the
// file): written by train_skipgram, read back by `vbq elbo`. The one place that
// knows their keys and text form.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/model.hpp"
#include "train/skipgram.hpp"

namespace vbq::skipgram_keys {
inline constexpr const char* kDim = "dim";
inline constexpr const char* kWindow = "window";
inline constexpr const char* kNegatives = "negatives";
inline constexpr const char* kEpochs = "epochs";
inline constexpr const char* kThreads = "threads";
inline constexpr const char* kSeed = "seed";
inline constexpr const char* kPriorStd = "prior_std";
inline constexpr const char* kInitStd = "init_std";
inline constexpr const char* kLr = "lr";
inline constexpr const char* kStdRate = "std_rate";
inline constexpr const char* kSample = "sample";
inline constexpr const char* kTrainTokens = "train_tokens";  // corpus tokens in the vocabulary
inline constexpr const char* kLowercase = "lowercase";        // 1: the corpus was ASCII-lowercased
}  // namespace vbq::skipgram_keys

namespace vbq {

// A number as an attribute's text: %.10g.
std::string format_attribute(double x);

// Writes every SkipGramOptions field but the callbacks, and train_tokens.
void write_skipgram_options(const SkipGramOptions& options, uint64_t train_tokens, std::map<std::string, std::string>& attributes);

// What a model file records of its training (epoch snapshots record nothing).
struct RecordedSkipGram {
  std::optional<int> window, negatives;
  std::optional<bool> lowercase;
  std::optional<double> prior_std;
  std::optional<uint64_t> train_tokens;
};
// Throws ErrorKind::format naming the attribute if a recorded value is not a number.
RecordedSkipGram read_skipgram_options(const Model& model);

}  // namespace vbq
