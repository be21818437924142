// vbq train-embeddings: train Bayesian skip-gram word embeddings (HDF5 output).
#include <cstdio>
#include <filesystem>

#include "formats/atomic_file.hpp"
#include "formats/hdf5_model.hpp"
#include "tools/command.hpp"
#include "tools/training.hpp"
#include "train/attributes.hpp"
#include "train/skipgram.hpp"

namespace vbq::cli {
namespace {

int run_train(const std::vector<std::string>& args) {
  std::vector<std::string> inputs;
  std::string output;
  CorpusOptions co;
  SkipGramOptions so;
  bool force = false, verbose = false, no_timing = false, snapshots = false;
  int threads = 0;
  po::options_description opts("options");
  add_corpus_options(opts, inputs, output, co);
  opts.add_options()                                                                           //
      ("dim", po::value(&so.dim)->default_value(100), "embedding dimension d")                   //
      ("window", po::value(&so.window)->default_value(5), "max context distance")                //
      ("negatives", po::value(&so.negatives)->default_value(5), "negative samples per pair")     //
      ("epochs", po::value(&so.epochs)->default_value(5), "passes over the corpus")              //
      ("threads", po::value(&threads)->default_value(0), "worker threads (0 = all cores)")       //
      ("seed", po::value(&so.seed)->default_value(1), "random seed")                            //
      ("prior-std", po::value(&so.prior_std)->default_value(1.0), "std of the N(0, s^2) prior")  //
      ("init-std", po::value(&so.init_std)->default_value(so.init_std, default_text(so.init_std)),
       "initial posterior std")  //
      ("std-rate", po::value(&so.std_rate)->default_value(so.std_rate, default_text(so.std_rate)),
       "step of the natural-gradient posterior precision update (per epoch)")  //
      ("lr", po::value(&so.lr)->default_value(0.025), "initial learning rate (linear decay)")   //
      ("sample", po::value(&so.sample)->default_value(0.0), "word2vec subsampling threshold (0 = off, e.g. 1e-4)")  //
      ("snapshots", po::bool_switch(&snapshots), "also write the model after each earlier epoch: OUT.epochN.h5")  //
      ("no-timing", po::bool_switch(&no_timing), "omit timing attributes (reproducible output bytes)")  //
      ("force,f", po::bool_switch(&force), "overwrite the output file")                        //
      ("verbose,v", po::bool_switch(&verbose), "print a summary");
  po::positional_options_description pos;
  pos.add("input", -1);
  po::variables_map vm;
  if (!parse_args(args, "train-embeddings", "CORPUS... -o model.h5 [options]", opts, pos, vm)) return 0;
  so.threads = thread_count(threads);
  check_can_overwrite(output, force);  // fail before hours of training

  if (verbose || snapshots)
    so.after_epoch = [&](int epoch, double nll, const Model& model) {
      std::string file;
      if (snapshots && epoch < so.epochs) {
        file = std::filesystem::path(output).replace_extension(".epoch" + std::to_string(epoch) + ".h5").string();
        write_model(file, model, force);
      }
      if (verbose)
        std::fprintf(stderr, "epoch %d: nll/target %.5f, KL/coordinate %.5f%s%s\n", epoch, nll,
                     mean_kl_to_prior(model, so.prior_std), file.empty() ? "" : ", wrote ", file.c_str());
    };
  const CtrlC ctrl_c;
  Model m = train_embeddings_reporting(inputs, co, so, !no_timing, ctrl_c.token());
  write_model(output, m, force);
  if (verbose) {
    auto get = [&](const char* k) { auto it = m.attributes.find(k); return it == m.attributes.end() ? std::string("-") : it->second; };
    std::fprintf(stderr, "%s: V=%zu d=%zu, %s corpus tokens, %s trained, %s s, %s words/s/thread, nll/target %s\n",
                 output.c_str(), m.vocab.size(), so.dim, get(skipgram_keys::kCorpusTokens).c_str(), get(skipgram_keys::kTokensSeen).c_str(),
                 get(skipgram_keys::kTrainingSeconds).c_str(), get(skipgram_keys::kWordsPerSecPerThread).c_str(),
                 get(skipgram_keys::kFinalNll).c_str());
  }
  return 0;
}

const CommandRegistrar train_reg("train-embeddings", "train Bayesian skip-gram word embeddings (HDF5)", run_train);

}  // namespace
}  // namespace vbq::cli
