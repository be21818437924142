// vbq elbo: the ELBO of a trained Bayesian skip-gram model on text (per target),
// with its parts: -log-likelihood at the means, expected under q, and KL.
// vbq laplace-std: a copy of the model whose stds are the diagonal Laplace ones.
// Both read the text with the model's vocabulary and the trainer's pairs.
#include <cmath>
#include <cstdio>
#include <string>

#include "formats/hdf5_model.hpp"
#include "tools/command.hpp"
#include "train/attributes.hpp"
#include "train/corpus.hpp"
#include "train/skipgram.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {
namespace {

// What both commands read: the model, the text and the pairs' settings.
struct ModelOnText {
  std::string model_path, output;
  std::vector<std::string> inputs;
  bool lowercase = false, force = false;
  int threads = 0;
  SkipGramElboOptions eo;
  po::options_description opts{"options"};
  po::positional_options_description pos;
  po::variables_map vm;

  ModelOnText(const char* model_help, uint64_t max_tokens, const char* tokens_help) {
    eo.max_tokens = max_tokens;
    opts.add_options()                                                                              //
        ("model", po::value(&model_path)->required(), model_help)                                   //
        ("input", po::value(&inputs)->multitoken()->required(), "corpus files (.gz ok, - = stdin)")  //
        ("lowercase", po::bool_switch(&lowercase), "lowercase ASCII letters (as in training)")      //
        ("tokens", po::value(&eo.max_tokens)->default_value(eo.max_tokens), tokens_help)            //
        ("window", po::value<int>(), "max context distance (default: the model's, else 5)")         //
        ("negatives", po::value<int>(), "negatives per pair (default: the model's, else 5)")        //
        ("prior-std", po::value<double>(), "prior std (default: the model's, else 1)")              //
        ("seed", po::value(&eo.seed)->default_value(eo.seed), "random seed of pairs and draws")     //
        ("threads,T", po::value(&threads)->default_value(0), "threads (0 = all cores; same result for any)");
    pos.add("model", 1).add("input", -1);
  }

  // Command line, else the model's recorded training settings, else the defaults.
  std::pair<Model, Corpus> load() {
    eo.threads = thread_count(threads);
    Model model = read_model(model_path);
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
    Corpus corpus = load_corpus(inputs, co);
    return {std::move(model), std::move(corpus)};
  }
};

int run_elbo(const std::vector<std::string>& args) {
  ModelOnText m("model.h5 from vbq train-embeddings (or a snapshot)", SkipGramElboOptions{}.max_tokens,
                "evaluate the sentences within the first N tokens");
  m.opts.add_options()                                                                              //
      ("samples", po::value(&m.eo.samples)->default_value(m.eo.samples), "draws from q per pair")  //
      ("data-tokens", po::value<uint64_t>(),
       "tokens of the training data, to scale KL per target (default: the model's, else the corpus')");
  if (!parse_args(args, "elbo", "MODEL CORPUS... [options]", m.opts, m.pos, m.vm)) return 0;
  const auto [model, corpus] = m.load();
  const SkipGramElboOptions& eo = m.eo;
  const SkipGramElbo e = skipgram_elbo(corpus, model, eo);
  std::printf("%s: %llu centers, %llu targets (window %d, %d negatives, %d draws, seed %llu)\n", m.model_path.c_str(),
              (unsigned long long)e.centers, (unsigned long long)e.targets, eo.window, eo.negatives, eo.samples,
              (unsigned long long)eo.seed);
  std::printf("nll/target at the means        %.5f\n", e.nll_at_means);
  std::printf("E_q nll/target                 %.5f\n", e.expected_nll);
  std::printf("KL/coordinate                  %.5f\n", e.kl_per_coordinate);
  std::printf("KL/target (%.4g targets/epoch) %.5f\n", e.targets_per_epoch, e.kl_per_target);
  std::printf("-ELBO/target                   %.5f\n", e.neg_elbo_per_target);
  return 0;
}

int run_laplace(const std::vector<std::string>& args) {
  ModelOnText m("model.h5 with word and context tensors, vocab and counts (vbq train-embeddings)", uint64_t(1) << 62,
                "use the sentences within the first N tokens (the data term is scaled to --data-tokens)");
  m.opts.add_options()                                                                           //
      ("output,o", po::value(&m.output)->required(), "output model.h5")                          //
      ("force,f", po::bool_switch(&m.force), "overwrite the output")                             //
      ("data-tokens", po::value<uint64_t>(),
       "tokens the posterior is over: the data term is scaled by this / the tokens read (default: the model's "
       "training tokens, else no scaling)");
  if (!parse_args(args, "laplace-std", "MODEL CORPUS... -o OUT.h5 [options]", m.opts, m.pos, m.vm)) return 0;
  auto [model, corpus] = m.load();
  const LaplacePrecision p = skipgram_laplace_precision(corpus, model, m.eo);
  for (Tensor& t : model.tensors) {
    const std::vector<double>* tau = t.name == "word" ? &p.word : t.name == "context" ? &p.context : nullptr;
    if (!tau) continue;
    t.sigma.resize(tau->size());
    for (size_t i = 0; i < tau->size(); ++i) t.sigma[i] = 1 / std::sqrt((*tau)[i]);
  }
  model.attributes["posterior_std"] = "diagonal Laplace at the means (vbq laplace-std)";
  write_model(m.output, model, m.force);
  std::printf("%s: Laplace stds from %llu centers, data term x %.4g (window %d, %d negatives, seed %llu)\n",
              m.output.c_str(), (unsigned long long)p.centers, p.data_scale, m.eo.window, m.eo.negatives,
              (unsigned long long)m.eo.seed);
  return 0;
}

const CommandRegistrar reg("elbo", "ELBO of a Bayesian skip-gram model on text: nll at the means, E_q nll, KL", run_elbo);
const CommandRegistrar reg_laplace("laplace-std", "replace a skip-gram model's stds by the diagonal Laplace ones over text",
                                   run_laplace);

}  // namespace
}  // namespace vbq::cli
