#include "tools/heldout_options.hpp"

#include "tools/command.hpp"
#include "train/heldout_nll.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {

namespace po = boost::program_options;

void add_heldout_options(po::options_description& o) {
  o.add_options()
      ("corpus", po::value<std::vector<std::string>>()->multitoken(),
       "heldout-nll: held-out text the model was not trained on (.gz ok)")
      ("tokens", po::value<uint64_t>()->default_value(1000000), "heldout-nll: the sentences within the first N tokens")
      ("nll-tensors", po::value<std::string>()->default_value("both"),
       "heldout-nll: tensors to compress: both, word or context (the others stay exact)")
      ("window", po::value<int>(), "heldout-nll: max context distance (default: the model's, else 5)")
      ("negatives", po::value<int>(), "heldout-nll: negatives per pair (default: the model's, else 5)");
}

TaskSetup setup_heldout_task(const po::variables_map& vm, Model& model) {
  HeldoutNllOptions o;
  if (vm.count("corpus")) o.corpus_files = vm["corpus"].as<std::vector<std::string>>();
  if (vm.count("lowercase")) o.lowercase = true;
  if (vm.count("window")) o.window = vm["window"].as<int>();
  if (vm.count("negatives")) o.negatives = vm["negatives"].as<int>();
  o.max_tokens = vm["tokens"].as<uint64_t>();
  o.threads = thread_count(vm.count("threads") ? vm["threads"].as<int>() : 0);
  const std::string which = vm["nll-tensors"].as<std::string>();
  if (which != "both" && which != "word" && which != "context")
    throw Error(ErrorKind::argument, "--nll-tensors: '" + which + "' is not both, word or context");
  HeldoutNllSetup h = make_heldout_nll_task(model, o);
  std::erase_if(model.tensors, [&](const Tensor& t) {
    return which == "both" ? t.name != "word" && t.name != "context" : t.name != which;
  });
  return {std::move(h.task), h.description + ", compressing " + which};
}

}  // namespace vbq::cli
