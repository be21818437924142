// vbq elbo: the ELBO of a trained Bayesian skip-gram model on text (per target),
// with its parts: -log-likelihood at the means, expected under q, and KL.
#include <cstdio>
#include <string>

#include "formats/hdf5_model.hpp"
#include "tools/command.hpp"
#include "train/corpus.hpp"
#include "train/skipgram.hpp"
#include "train/attributes.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {
namespace {

int run_elbo(const std::vector<std::string>& args) {
  std::string model_path;
  std::vector<std::string> inputs;
  bool lowercase = false;
  int threads = 0;
  SkipGramElboOptions eo;
  po::options_description opts("options");
  opts.add_options()                                                                             //
      ("model", po::value(&model_path)->required(), "model.h5 from vbq train-embeddings (or a snapshot)")  //
      ("input", po::value(&inputs)->multitoken()->required(), "corpus files (.gz ok, - = stdin)")  //
      ("lowercase", po::bool_switch(&lowercase), "lowercase ASCII letters (as in training)")      //
      ("tokens", po::value(&eo.max_tokens)->default_value(eo.max_tokens), "evaluate the sentences within the first N tokens")  //
      ("samples", po::value(&eo.samples)->default_value(eo.samples), "draws from q per pair")  //
      ("window", po::value<int>(), "max context distance (default: the model's, else 5)")      //
      ("negatives", po::value<int>(), "negatives per pair (default: the model's, else 5)")     //
      ("prior-std", po::value<double>(), "prior std (default: the model's, else 1)")           //
      ("data-tokens", po::value<uint64_t>(),
       "tokens of the training data, to scale KL per target (default: the model's, else the corpus')")  //
      ("seed", po::value(&eo.seed)->default_value(eo.seed), "random seed of pairs and draws")  //
      ("threads,T", po::value(&threads)->default_value(0), "threads (0 = all cores; same result for any)");
  po::positional_options_description pos;
  pos.add("model", 1).add("input", -1);
  po::variables_map vm;
  if (!parse_args(args, "elbo", "MODEL CORPUS... [options]", opts, pos, vm)) return 0;
  eo.threads = thread_count(threads);

  const Model model = read_model(model_path);
  // Command line, else the model's recorded training settings, else the defaults.
  const RecordedSkipGram trained = read_skipgram_options(model);
  eo.window = vm.count("window") ? vm["window"].as<int>() : trained.window.value_or(5);
  eo.negatives = vm.count("negatives") ? vm["negatives"].as<int>() : trained.negatives.value_or(5);
  eo.prior_std = vm.count("prior-std") ? vm["prior-std"].as<double>() : trained.prior_std.value_or(1.0);
  eo.data_tokens = vm.count("data-tokens") ? vm["data-tokens"].as<uint64_t>() : trained.train_tokens.value_or(0);
  if (model.vocab.empty()) throw Error(ErrorKind::format, model_path + ": no vocab dataset: cannot map the text to rows");
  if (model.counts.size() != model.vocab.size())
    throw Error(ErrorKind::format, model_path + ": no counts dataset for its " + std::to_string(model.vocab.size()) +
                                       " words (needed for the negative-sampling distribution)");
  const Vocabulary vocab{model.vocab, model.counts};
  CorpusOptions co;
  co.lowercase = lowercase;
  co.vocabulary = &vocab;
  const Corpus corpus = load_corpus(inputs, co);
  const SkipGramElbo e = skipgram_elbo(corpus, model, eo);
  std::printf("%s: %llu centers, %llu targets (window %d, %d negatives, %d draws, seed %llu)\n", model_path.c_str(),
              (unsigned long long)e.centers, (unsigned long long)e.targets, eo.window, eo.negatives, eo.samples,
              (unsigned long long)eo.seed);
  std::printf("nll/target at the means        %.5f\n", e.nll_at_means);
  std::printf("E_q nll/target                 %.5f\n", e.expected_nll);
  std::printf("KL/coordinate                  %.5f\n", e.kl_per_coordinate);
  std::printf("KL/target (%.4g targets/epoch) %.5f\n", e.targets_per_epoch, e.kl_per_target);
  std::printf("-ELBO/target                   %.5f\n", e.neg_elbo_per_target);
  return 0;
}

const CommandRegistrar reg("elbo", "ELBO of a Bayesian skip-gram model on text: nll at the means, E_q nll, KL", run_elbo);

}  // namespace
}  // namespace vbq::cli
