// vbq eval: word-analogy scores (Hits@1, Hits@10, MRR) of a model's word vectors.
#include <cstdio>

#include "eval/rd.hpp"
#include "app/model_codec.hpp"
#include "tools/command.hpp"
#include "tools/model_options.hpp"

namespace vbq::cli {

static int run_eval(const std::vector<std::string>& args) {
  po::options_description opts("options");
  std::string input, questions, tensor;
  size_t top_words = 0;
  int threads = 0;
  opts.add_options()
      ("input", po::value(&input)->required(), "model: HDF5, .vbq, or word2vec text/binary")
      ("questions", po::value(&questions)->required(), "questions-words.txt")
      ("tensor", po::value(&tensor), "word-vector tensor (default: word, else u)")
      ("top-words", po::value(&top_words)->default_value(0), "keep the N most frequent words (0 = all)")
      ("lowercase", "lowercase the questions (for models trained on lowercased text)")
      ("exclude-question-words", "word2vec compute-accuracy convention: a, b, c are not candidates")
      ("threads,T", po::value(&threads)->default_value(0), "decoder threads (0 = all cores)");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_args(args, "eval", "MODEL --questions questions-words.txt [options]", opts, pos, vm)) return 0;

  Model model = load_means(input, {}, thread_count(threads));
  tensor = embedding_tensor(model, tensor);
  keep_top_words(model, top_words);
  AnalogySet set = read_analogy_questions(questions, vm.count("lowercase"));
  AnalogyOptions ao;
  ao.exclude_question_words = vm.count("exclude-question-words");
  AnalogyResult r = evaluate_analogy_tensor(set, model, tensor, ao, input);
  const Tensor* t = model.find(tensor);

  std::printf("%s: tensor '%s', %zu words x %llu dims, candidates: %s\n", input.c_str(), tensor.c_str(),
              model.vocab.size(), (unsigned long long)t->shape[1],
              ao.exclude_question_words ? "all but a, b, c (word2vec convention)" : "all words (paper protocol)");
  std::printf("%-28s %9s %8s %8s %8s\n", "section", "covered", "hits@1", "hits@10", "mrr");
  for (size_t s = 0; s < set.sections.size(); ++s) {
    const AnalogyScore& a = r.per_section[s];
    std::printf("%-28s %4zu/%-4zu %8.4f %8.4f %8.4f\n", set.sections[s].c_str(), a.covered, a.total, a.hits1,
                a.hits10, a.mrr);
  }
  const AnalogyScore& o = r.overall;
  std::printf("%-28s %zu/%zu %8.4f %8.4f %8.4f\n", "overall", o.covered, o.total, o.hits1, o.hits10, o.mrr);
  std::printf("skipped %zu questions with a word outside the vocabulary\n", o.total - o.covered);
  return 0;
}

static CommandRegistrar reg("eval", "word-analogy Hits@1/10 and MRR of HDF5, .vbq or word2vec vectors", run_eval);

}  // namespace vbq::cli
