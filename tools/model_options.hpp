// Option helpers shared by the commands that score or sweep a model.
#pragma once
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <functional>
#include <memory>

#include "eval/rd.hpp"
#include "eval/rd_options.hpp"
#include "formats/hdf5_model.hpp"

namespace vbq::cli {

// The embedding tensor to score: `requested` if set, else "word", else the paper's "u".
std::string embedding_tensor(const Model& model, const std::string& requested);

// Keeps the first `rows` rows of every tensor whose first dimension is the
// vocabulary size, and the first `rows` vocabulary words (frequency order).
void keep_top_words(Model& model, size_t rows);

// Options that say how to score a model: --questions (word analogies, with
// --tensor, --top-words, --lowercase, --exclude-question-words) or
// --task fashion-mnist --data DIR. Commands with their own repeatable --tensor
// (compress) pass with_tensor = false; setup_task then takes its single value.
void add_task_options(boost::program_options::options_description& options, bool with_tensor = true);

struct TaskSetup {
  std::unique_ptr<QualityTask> task;  // null if no task was asked for
  std::string description;            // e.g. "word analogies, 30000 words"
};

// For parse_target: the quality function of a named metric of setup.task (empty
// when no task was asked for; throws ErrorKind::argument for a lower-is-better task).
std::function<QualityFn(const std::string& metric)> task_metrics(const TaskSetup& setup);

// --mean with --std, --var, --log-std or --rho: datasets named explicitly.
void add_explicit_tensor_options(boost::program_options::options_description& options);

// The --mean paths paired with their --std, --var, --log-std or --rho paths, in
// the order given (vbq compress's explicit mapping). Throws ErrorKind::argument
// unless each mean has exactly one spread, all of one kind.
std::vector<TensorSpec> explicit_specs(const boost::program_options::variables_map& vm);

// The options of the R-D sweep (vbq rd), read into `text` for rd_options_from_text.
void add_rd_options(boost::program_options::options_description& options, RdOptionText& text);

// The kind of task the options ask for (its default sweep): --questions analogy,
// --task heldout-nll heldout_nll, else classifier.
RdTaskKind task_kind(const boost::program_options::variables_map& vm);

// Builds the task the options ask for. For analogies it also trims `model` to the
// top words and to the word-vector tensor alone (what the paper compressed).
TaskSetup setup_task(const boost::program_options::variables_map& vm, Model& model);

}  // namespace vbq::cli
