// The trainers' settings and results as model attributes (HDF5 attributes of the
// file): the one place that knows their keys and text form. The skip-gram's are
// written by train_skipgram and read back by `vbq elbo`; the BNN's are written by
// train_bnn; the tools read the results they print.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "train/bnn.hpp"
#include "train/skipgram.hpp"

namespace vbq::trainer_keys {  // the keys both trainers write
inline constexpr const char* kTrainer = "trainer";
inline constexpr const char* kEpochs = "epochs";
inline constexpr const char* kLr = "lr";
inline constexpr const char* kSeed = "seed";
inline constexpr const char* kPriorStd = "prior_std";
}  // namespace vbq::trainer_keys

namespace vbq::skipgram_keys {
using namespace trainer_keys;
inline constexpr const char* kDim = "dim";
inline constexpr const char* kWindow = "window";
inline constexpr const char* kNegatives = "negatives";
inline constexpr const char* kThreads = "threads";
inline constexpr const char* kInitStd = "init_std";
inline constexpr const char* kStdRate = "std_rate";
inline constexpr const char* kSample = "sample";
inline constexpr const char* kTrainTokens = "train_tokens";  // corpus tokens in the vocabulary
// What training and the corpus recorded.
inline constexpr const char* kTokensSeen = "tokens_seen";
inline constexpr const char* kPositivePairs = "positive_pairs";
inline constexpr const char* kFinalNll = "final_epoch_nll_per_target";
inline constexpr const char* kCorpusFiles = "corpus_files";
inline constexpr const char* kLowercase = "lowercase";
inline constexpr const char* kVocabSizeLimit = "vocab_size_limit";
inline constexpr const char* kMinCount = "min_count";
inline constexpr const char* kTokenizer = "tokenizer";
inline constexpr const char* kCorpusTokens = "corpus_tokens";
inline constexpr const char* kCorpusDistinctWords = "corpus_distinct_words";
inline constexpr const char* kTrainingSeconds = "training_seconds";
inline constexpr const char* kWordsPerSecPerThread = "words_per_sec_per_thread";
}  // namespace vbq::skipgram_keys

namespace vbq::bnn_keys {
using namespace trainer_keys;
inline constexpr const char* kArchitecture = "architecture";  // widths, e.g. "784-400-10"
inline constexpr const char* kHidden = "hidden";
inline constexpr const char* kActivation = "activation";
inline constexpr const char* kBatch = "batch";
inline constexpr const char* kLrSchedule = "lr_schedule";
inline constexpr const char* kPrior = "prior";
inline constexpr const char* kKlApproximation = "kl_approximation";
inline constexpr const char* kInitLogStd = "init_log_std";
inline constexpr const char* kKlWeight = "kl_weight";
inline constexpr const char* kKlWarmupEpochs = "kl_warmup_epochs";
inline constexpr const char* kWeightLayout = "weight_layout";
// What training recorded.
inline constexpr const char* kTrainExamples = "train_examples";
inline constexpr const char* kTrainSeconds = "train_seconds";
inline constexpr const char* kFinalTrainObjective = "final_train_objective";
inline constexpr const char* kFinalTrainAccuracy = "final_train_accuracy";
inline constexpr const char* kFinalNegElbo = "final_neg_elbo_per_example";
inline constexpr const char* kFinalKl = "final_kl_per_example";
inline constexpr const char* kTestAccuracy = "test_accuracy";
inline constexpr const char* kTestLogLikelihood = "test_log_likelihood";
}  // namespace vbq::bnn_keys

namespace vbq {

// A number as an attribute's text: %.10g.
std::string format_attribute(double x);

// Writes every SkipGramOptions field but the callbacks, and train_tokens.
void write_skipgram_options(const SkipGramOptions& options, uint64_t train_tokens, std::map<std::string, std::string>& attributes);

// Writes every BnnConfig field but the callbacks and threads, and the layer widths
// (inputs, hidden..., classes).
void write_bnn_options(const BnnConfig& config, const std::vector<size_t>& widths,
                       std::map<std::string, std::string>& attributes);

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
