// vbq tokenize: helper writing our token stream as text, so peer trainers
// (word2vec.c, scripts/word2vec_peer.sh) see exactly the same tokens.
#include <cstdio>

#include "formats/atomic_file.hpp"
#include "tools/command.hpp"
#include "tools/training.hpp"
#include "train/corpus.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {
namespace {

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

const CommandRegistrar reg("tokenize", "(helper) write the in-vocabulary token stream as text, one line per sentence",
                           run_tokenize);

}  // namespace
}  // namespace vbq::cli
