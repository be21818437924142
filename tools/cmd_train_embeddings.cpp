// vbq train-embeddings: train Bayesian skip-gram word embeddings (HDF5 output).
// vbq tokenize: helper writing our token stream as text, so peer trainers
// (word2vec.c, scripts/word2vec_peer.sh) see exactly the same tokens.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "formats/atomic_file.hpp"
#include "formats/hdf5_model.hpp"
#include "tools/command.hpp"
#include "train/corpus.hpp"
#include "train/skipgram.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {
namespace {

void add_corpus_options(po::options_description& opts, std::vector<std::string>& inputs, std::string& output,
                        CorpusOptions& co) {
  opts.add_options()                                                                    //
      ("input", po::value(&inputs)->multitoken()->required(), "corpus files (.gz ok, - = stdin)")  //
      ("output,o", po::value(&output)->required(), "output file")                         //
      ("vocab-size", po::value(&co.vocab_size)->default_value(30000), "keep the N most frequent words (0 = all)")  //
      ("min-count", po::value(&co.min_count)->default_value(1), "drop words seen fewer than N times")  //
      ("lowercase", po::bool_switch(&co.lowercase), "lowercase ASCII letters before counting");
}

// Shortest decimal form of a default for --help ("0.1", not 0.10000000000000001).
std::string show(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

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
      ("init-std", po::value(&so.init_std)->default_value(so.init_std, show(so.init_std)), "initial posterior std")  //
      ("std-rate", po::value(&so.std_rate)->default_value(so.std_rate, show(so.std_rate)),
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
  so.progress = true;  // the bar stays silent when stderr is not a terminal
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
  Model m = train_embeddings(inputs, co, so, !no_timing);
  write_model(output, m, force);
  if (verbose) {
    auto get = [&](const char* k) { auto it = m.attributes.find(k); return it == m.attributes.end() ? std::string("-") : it->second; };
    std::fprintf(stderr, "%s: V=%zu d=%zu, %s corpus tokens, %s trained, %s s, %s words/s/thread, nll/target %s\n",
                 output.c_str(), m.vocab.size(), so.dim, get("corpus_tokens").c_str(), get("tokens_seen").c_str(),
                 get("training_seconds").c_str(), get("words_per_sec_per_thread").c_str(),
                 get("final_epoch_nll_per_target").c_str());
  }
  return 0;
}

int run_tokenize(const std::vector<std::string>& args) {
  std::vector<std::string> inputs;
  std::string output;
  CorpusOptions co;
  bool force = false;
  po::options_description opts("options");
  add_corpus_options(opts, inputs, output, co);
  opts.add_options()("force,f", po::bool_switch(&force), "overwrite the output file");
  po::positional_options_description pos;
  pos.add("input", -1);
  po::variables_map vm;
  if (!parse_args(args, "tokenize", "CORPUS... -o tokens.txt [options]", opts, pos, vm)) return 0;
  AtomicOutput out(output, force);
  Corpus corpus = load_corpus(inputs, co);
  std::FILE* f = std::fopen(out.temp_path().c_str(), "wb");
  if (!f) throw Error(ErrorKind::io, "cannot open '" + out.temp_path() + "' for writing");
  try {
    write_corpus_text(corpus, f, output);
  } catch (...) {
    std::fclose(f);
    throw;
  }
  if (std::fclose(f) != 0) throw Error(ErrorKind::io, "cannot write '" + output + "'");
  out.commit();
  std::fprintf(stderr, "%s: %zu words, %zu in-vocabulary tokens of %llu, %zu lines\n", output.c_str(),
               corpus.vocab.words.size(), corpus.tokens.size(), (unsigned long long)corpus.raw_tokens,
               corpus.sentence_ends.size());
  return 0;
}

const CommandRegistrar train_reg("train-embeddings", "train Bayesian skip-gram word embeddings (HDF5)", run_train);
const CommandRegistrar tok_reg("tokenize", "(helper) write the in-vocabulary token stream as text, one line per sentence",
                               run_tokenize);

}  // namespace
}  // namespace vbq::cli
