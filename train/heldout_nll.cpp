#include "train/heldout_nll.hpp"

#include "train/corpus.hpp"
#include "train/attributes.hpp"
#include "vbq/error.hpp"

namespace vbq {

namespace {

class HeldoutNllTask final : public QualityTask {
 public:
  HeldoutNllTask(Corpus corpus, Tensor word, Tensor context, SkipGramElboOptions o)
      : corpus_(std::move(corpus)), word_(std::move(word)), context_(std::move(context)), options_(o) {}
  std::vector<std::string> metric_names() const override { return {"heldout_nll"}; }
  size_t primary_metric() const override { return 0; }
  bool lower_is_better() const override { return true; }
  std::vector<double> evaluate(const Model& means) const override {
    const Tensor* word = means.find("word");
    const Tensor* context = means.find("context");
    return {skipgram_nll_at_means(corpus_, word ? *word : word_, context ? *context : context_, options_)};
  }

 private:
  Corpus corpus_;
  Tensor word_, context_;  // exact: stand in for a tensor the sweep does not compress
  SkipGramElboOptions options_;
};

}  // namespace

HeldoutNllSetup make_heldout_nll_task(const Model& model, const HeldoutNllOptions& o) {
  if (model.vocab.empty()) throw Error(ErrorKind::format, "held-out nll: the model has no vocab dataset");
  if (model.counts.size() != model.vocab.size())
    throw Error(ErrorKind::format, "held-out nll: the model has no counts for its " + std::to_string(model.vocab.size()) +
                                       " words (needed for the negative-sampling distribution)");
  const Tensor* word = model.find("word");
  const Tensor* context = model.find("context");
  if (!word || !context)
    throw Error(ErrorKind::argument, "held-out nll: the model needs tensors 'word' and 'context' (vbq train-embeddings)");
  if (o.corpus_files.empty()) throw Error(ErrorKind::argument, "held-out nll: no held-out text (--corpus FILE)");
  const RecordedSkipGram trained = read_skipgram_options(model);
  SkipGramElboOptions eo;
  eo.window = o.window.value_or(trained.window.value_or(5));
  eo.negatives = o.negatives.value_or(trained.negatives.value_or(5));
  eo.max_tokens = o.max_tokens, eo.seed = o.seed, eo.threads = o.threads;
  const bool lowercase = o.lowercase.value_or(trained.lowercase.value_or(false));
  const Vocabulary vocab{model.vocab, model.counts};
  CorpusOptions co;
  co.lowercase = lowercase;
  co.vocabulary = &vocab;
  HeldoutNllSetup s;
  s.task = std::make_unique<HeldoutNllTask>(load_corpus(o.corpus_files, co), *word, *context, eo);
  s.description = "held-out nll: " + std::to_string(o.max_tokens) + " tokens, window " + std::to_string(eo.window) +
                  ", " + std::to_string(eo.negatives) + " negatives" + (lowercase ? ", lowercase" : "");
  return s;
}

}  // namespace vbq
