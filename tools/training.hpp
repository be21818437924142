// What the training commands share: Ctrl-C as the trainers' cancellation token,
// and the progress bars and per-epoch lines fed by the trainers' callbacks (the
// trainers in train/ print nothing and install no signal handlers).
#pragma once
#include <atomic>
#include <csignal>
#include <string>
#include <vector>

#include "tools/command.hpp"
#include "train/bnn.hpp"
#include "train/skipgram.hpp"

namespace vbq::cli {

// While alive, Ctrl-C (SIGINT) sets token() instead of killing the process; a
// second Ctrl-C kills (SA_RESETHAND). The previous handler is restored after.
class CtrlC {
 public:
  CtrlC();
  ~CtrlC();
  CtrlC(const CtrlC&) = delete;
  CtrlC& operator=(const CtrlC&) = delete;
  const std::atomic<bool>& token() const;

 private:
  struct sigaction old_ {};
  bool installed_ = false;
};

// A double default for --help in its shortest form ("0.1", not 0.10000000000000001).
std::string default_text(double x);

// The corpus options of train-embeddings and tokenize: --input (positional),
// -o, --vocab-size, --min-count, --lowercase.
void add_corpus_options(po::options_description& options, std::vector<std::string>& inputs, std::string& output,
                        CorpusOptions& corpus_options);

// --hidden "400,400" (or "none"): positive widths, else ErrorKind::argument.
std::vector<size_t> parse_hidden(const std::string& text);

// train_bnn with a progress bar (on a terminal), and with verbose one line per
// epoch on stderr: loss, -ELBO, train and test accuracy of the means.
BnnResult train_bnn_reporting(const Dataset& train, const Dataset& test, BnnConfig config, bool verbose,
                              const std::atomic<bool>& cancel);

// train_embeddings with progress bars for reading and training (on a terminal).
Model train_embeddings_reporting(const std::vector<std::string>& paths, const CorpusOptions& corpus_options,
                                 SkipGramOptions options, bool record_timing, const std::atomic<bool>& cancel);

}  // namespace vbq::cli
