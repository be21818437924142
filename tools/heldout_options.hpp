// The options of the held-out nll task (vbq rd --task heldout-nll), apart from the
// other tasks' so that each task's options stay in their own file.
#pragma once
#include <boost/program_options.hpp>

#include "formats/hdf5_model.hpp"
#include "tools/model_options.hpp"

namespace vbq::cli {

// --corpus, --tokens, --nll-tensors, --window, --negatives (--lowercase is shared
// with the analogy task).
void add_heldout_options(boost::program_options::options_description& options);

// The task, and `model` trimmed to the tensors --nll-tensors compresses (the task
// keeps exact copies of both).
TaskSetup setup_heldout_task(const boost::program_options::variables_map& vm, Model& model);

}  // namespace vbq::cli
