#include "tools/model_options.hpp"

#include <cmath>

#include "formats/idx.hpp"
#include "tools/command.hpp"
#include "tools/heldout_options.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {

std::string embedding_tensor(const Model& model, const std::string& requested) {
  if (!requested.empty()) return requested;
  for (const char* name : {"word", "u"})
    if (model.find(name)) return name;
  if (model.tensors.size() == 1) return model.tensors[0].name;
  throw Error(ErrorKind::argument, "cannot tell which tensor holds the word vectors: use --tensor NAME");
}

void keep_top_words(Model& model, size_t rows) {
  const size_t vocab = model.vocab.size();
  if (rows == 0 || rows >= vocab) return;
  for (Tensor& t : model.tensors) {
    if (t.shape.empty() || t.shape[0] != vocab) continue;
    size_t row_size = t.size() / vocab;
    t.shape[0] = rows;
    t.mu.resize(rows * row_size);
    if (!t.sigma.empty()) t.sigma.resize(rows * row_size);
  }
  model.vocab.resize(rows);
  if (!model.counts.empty()) model.counts.resize(rows);
}

namespace po = boost::program_options;

void add_task_options(po::options_description& o, bool with_tensor) {
  if (with_tensor)
    o.add_options()("tensor", po::value<std::string>(), "analogy task: the word-vector tensor (default: word, else u)");
  o.add_options()
      ("questions", po::value<std::string>(), "word-analogy questions (questions-words.txt): analogy task")
      ("top-words", po::value<size_t>()->default_value(0), "analogy task: keep the N most frequent words (0 = all)")
      ("candidates-top", po::value<size_t>()->default_value(0),
       "analogy task: candidates (and questions) among the N most frequent words only, every word still compressed "
       "(--top-words drops the rest from the model; 0 = all)")
      ("lowercase", "analogy task: lowercase the questions; heldout-nll: the text (default: as the model was trained)")
      ("exclude-question-words", "analogy task: word2vec convention (a, b, c are not candidates)")
      ("task", po::value<std::string>(), "fashion-mnist: score an MLP's test accuracy (needs --data); "
       "heldout-nll: a skip-gram model's nll at the means on held-out text (needs --corpus)")
      ("data", po::value<std::string>()->default_value(vbq::cli::kFashionMnistDir),
       "Fashion-MNIST directory (--task fashion-mnist)");
  add_heldout_options(o);
}

RdTaskKind task_kind(const po::variables_map& vm) {
  if (vm.count("questions")) return RdTaskKind::analogy;
  if (vm.count("task") && vm["task"].as<std::string>() == "heldout-nll") return RdTaskKind::heldout_nll;
  return RdTaskKind::classifier;
}

TaskSetup setup_task(const po::variables_map& vm, Model& model) {
  TaskSetup s;
  if (vm.count("questions")) {
    std::string requested;
    if (vm.count("tensor")) {
      const boost::any& value = vm["tensor"].value();
      if (const auto* one = boost::any_cast<std::string>(&value)) requested = *one;
      else if (const auto* many = boost::any_cast<std::vector<std::string>>(&value); many && many->size() == 1)
        requested = many->front();
      else throw Error(ErrorKind::argument, "the analogy task scores one word-vector tensor: give one --tensor");
    }
    std::string tensor = embedding_tensor(model, requested);
    keep_top_words(model, vm["top-words"].as<size_t>());
    std::erase_if(model.tensors, [&](const Tensor& t) { return t.name != tensor; });
    AnalogyOptions ao;
    ao.exclude_question_words = vm.count("exclude-question-words");
    ao.top_words = vm["candidates-top"].as<size_t>();
    s.task = make_analogy_task(read_analogy_questions(vm["questions"].as<std::string>(), vm.count("lowercase")),
                               tensor, ao);
    s.description = "word analogies, " + std::to_string(model.vocab.size()) + " words";
    if (ao.top_words) s.description += ", candidates among the top " + std::to_string(ao.top_words);
  } else if (vm.count("task") && vm["task"].as<std::string>() == "heldout-nll") {
    return setup_heldout_task(vm, model);
  } else if (vm.count("task")) {
    if (vm["task"].as<std::string>() != "fashion-mnist")
      throw Error(ErrorKind::argument, "unknown --task '" + vm["task"].as<std::string>() + "' (fashion-mnist, heldout-nll)");
    s.task = make_classifier_task(load_mnist_split(vm["data"].as<std::string>(), "t10k"));
    s.description = "Fashion-MNIST test accuracy";
  }
  return s;
}

std::function<QualityFn(const std::string&)> task_metrics(const TaskSetup& setup) {
  if (!setup.task) return {};
  const QualityTask* task = setup.task.get();
  return [task](const std::string& metric) {
    if (task->lower_is_better())  // a quality target is a fraction of the uncompressed value
      throw Error(ErrorKind::argument, "--target-quality needs a higher-is-better metric, not '" + metric + "'");
    return task_metric(*task, metric);
  };
}

void add_explicit_tensor_options(po::options_description& o) {
  o.add_options()
      ("mean", po::value<std::vector<std::string>>(), "explicit mapping: mean dataset path (repeatable)")
      ("std", po::value<std::vector<std::string>>(), "  ... with its std dataset")
      ("var", po::value<std::vector<std::string>>(), "  ... with its variance dataset")
      ("log-std", po::value<std::vector<std::string>>(), "  ... with its log-std dataset")
      ("rho", po::value<std::vector<std::string>>(), "  ... with its softplus rho dataset (std = log(1 + e^rho))");
}

std::vector<TensorSpec> explicit_specs(const po::variables_map& vm) {
  std::vector<TensorSpec> specs;
  auto means = vm.count("mean") ? vm["mean"].as<std::vector<std::string>>() : std::vector<std::string>{};
  std::vector<std::pair<std::string, Spread>> spreads;
  static const std::pair<const char*, Spread> kinds[] = {
      {"std", Spread::std_dev}, {"var", Spread::variance}, {"log-std", Spread::log_std}, {"rho", Spread::softplus_rho}};
  size_t options_used = 0;
  for (auto [opt, kind] : kinds) {
    options_used += vm.count(opt);
    if (vm.count(opt))
      for (auto& p : vm[opt].as<std::vector<std::string>>()) spreads.push_back({p, kind});
  }
  if (means.size() != spreads.size())
    throw Error(ErrorKind::argument, "each --mean needs exactly one --std, --var, --log-std or --rho (got " +
                                         std::to_string(means.size()) + " means, " + std::to_string(spreads.size()) +
                                         " spreads)");
  if (!means.empty() && options_used > 1)
    throw Error(ErrorKind::argument, "use one kind of spread option (--std, --var, --log-std or --rho) per call");
  for (size_t i = 0; i < means.size(); ++i) {
    std::string name = means[i];
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    specs.push_back({name, means[i], spreads[i].first, spreads[i].second});
  }
  return specs;
}

void add_rd_options(po::options_description& o, RdOptionText& text) {
  auto set = [](auto& field) { return [&field](const auto& v) { field = v; }; };
  o.add_options()
      ("lambdas", po::value(&text.lambdas)->default_value("default"),
       "VBQ lambdas: default (analogies: paper; classifiers: 17 from 1e-3 to 10), paper (50 from 1e-2 to 1e5), "
       "a,b,c or lo:hi:n")
      ("grid", po::value(&text.grid)->default_value("default"),
       "uniform grids q_max: default (analogies: paper; classifiers: 1..255), paper (1..1023), a,b,c or lo:hi:n")
      ("kmeans", po::value(&text.kmeans)->default_value("default"),
       "k-means codebook sizes: default (analogies: none; classifiers: 2..256), none, a,b,c or lo:hi:n")
      ("variants", po::value<std::string>()->notifier(set(text.variants)), "VBQ variants, comma-separated labels "
       "vbq[+PRIOR][+refine][+tables][+ctx][+alloc][+centroid][+gain][+center][+spread:A] (default: analogies vbq; classifiers vbq,vbq+refine,"
       "vbq+auto+refine,vbq+auto+refine+ctx,vbq+wide:8+refine+ctx,vbq+wide:8+refine+ctx+spread:0.6), e.g. vbq,vbq+tables,vbq+auto+refine+ctx+alloc (+refine: --refine "
       "passes, default 3; +ctx: the context-adaptive coder; +alloc: one lambda per tensor; +centroid: levels at the "
       "means coded to each code point, +wcentroid: the same weighted by 1/sigma^2; +gain: row-group gains, "
       "vbq compress --row-gains; +center: column means, vbq compress --center-columns; +spread:A: vbq compress "
       "--spread-power A)")
      ("priors", po::value<std::string>()->notifier(set(text.priors)), "instead of --variants: VBQ priors to sweep, "
       "comma-separated (gauss = paper)")
      ("refine", po::value<int>()->notifier(set(text.refine)), "with --priors: also sweep VBQ with N entropy-aware "
       "refinement passes")
      ("tables", po::bool_switch(&text.tables), "with --priors: also sweep each VBQ variant with block tables")
      ("baselines", po::value<std::string>()->notifier(set(text.baselines)),
       "baselines to run, comma-separated, or none (default: all; k-means runs where --kmeans gives sizes): "
       "uniform+rans,uniform+ctx,uniform+gzip,uniform+bzip2,uniform+xz,uniform+lzma,uniform+zstd19,uniform+zstd22,kmeans+rans")
      ("no-general", po::bool_switch(&text.no_general), "skip gzip/bzip2/xz/lzma/zstd (slow at their top levels)")
      ("fractions", po::value<std::string>()->notifier(set(text.fractions)),
       "summary table: bits needed to keep these fractions of the uncompressed quality "
       "(default: analogies 0.5,0.75,0.9,0.95,0.975; classifiers 0.9,0.95,0.975,0.99); heldout-nll: bits needed "
       "to stay within these nll increases in nats per target (default 0.02,0.01,0.005)")
      ("refine-rounds", po::value<int>()->notifier(set(text.refine_rounds)),
       "rounds of adaptive refinement where a curve crosses a summary fraction (default: analogies 0, classifiers 3)");
}

}  // namespace vbq::cli
