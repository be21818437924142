// The held-out nll of a Bayesian skip-gram model as a quality task (vbq rd --task
// heldout-nll): the model's own objective, -log p(label | u, v) per target at the
// means, on text it was not trained on. Every evaluation uses the same pairs,
// negatives and seed (skipgram_nll_at_means), so points of a sweep differ only by
// their means. It lives in train/ beside the evaluator it calls (train/ links eval/,
// not the other way round).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/tasks.hpp"
#include "train/skipgram.hpp"

namespace vbq {

struct HeldoutNllOptions {
  std::vector<std::string> corpus_files;  // held-out text (.gz ok)
  // Unset: what the model records (skipgram_keys), else lowercase off, window 5, 5 negatives.
  std::optional<bool> lowercase;
  std::optional<int> window, negatives;
  uint64_t max_tokens = 1000000;  // the sentences starting within the first N in-vocabulary tokens
  uint64_t seed = 1;              // pairs and negatives: `vbq elbo --seed`
  int threads = 1;                // same result for any
};

struct HeldoutNllSetup {
  std::unique_ptr<QualityTask> task;  // metric heldout_nll (nats per target, lower is better)
  std::string description;            // e.g. "held-out nll: 1000000 tokens, window 5, 5 negatives, lowercase"
};

// Reads the text with the model's vocabulary and keeps copies of its "word" and
// "context" tensors: evaluate(means) uses the means' word/context where present
// and these exact ones otherwise, so a sweep may compress either or both.
// Throws ErrorKind::format (no vocab or counts), ErrorKind::argument (tensors
// missing or misshaped, no pair in the text) or ErrorKind::io (unreadable text).
HeldoutNllSetup make_heldout_nll_task(const Model& model, const HeldoutNllOptions& options);

}  // namespace vbq
