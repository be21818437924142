#include "tools/model_options.hpp"

#include <cmath>

#include "formats/idx.hpp"
#include "tools/command.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {

std::vector<double> parse_number_list(const std::string& spec, const std::string& option) {
  auto bad = [&] { return Error(ErrorKind::argument, "--" + option + ": cannot parse '" + spec + "'"); };
  std::vector<double> out;
  try {
    size_t c1 = spec.find(':');
    if (c1 != std::string::npos) {
      size_t c2 = spec.find(':', c1 + 1);
      if (c2 == std::string::npos) throw bad();
      double lo = std::stod(spec.substr(0, c1)), hi = std::stod(spec.substr(c1 + 1, c2 - c1 - 1));
      int n = std::stoi(spec.substr(c2 + 1));
      if (!(lo > 0) || !(hi >= lo) || n < 1) throw bad();
      for (int i = 0; i < n; ++i) out.push_back(n == 1 ? lo : lo * std::pow(hi / lo, double(i) / (n - 1)));
      return out;
    }
    for (const std::string& item : split_list(spec)) out.push_back(std::stod(item));
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (out.empty()) throw bad();
  return out;
}

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
      ("lowercase", "analogy task: lowercase the questions")
      ("exclude-question-words", "analogy task: word2vec convention (a, b, c are not candidates)")
      ("task", po::value<std::string>(), "fashion-mnist: score an MLP's test accuracy (needs --data)")
      ("data", po::value<std::string>()->default_value("/usr/share/datasets/fashion-mnist"),
       "Fashion-MNIST directory (--task fashion-mnist)");
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
    s.task = make_analogy_task(read_analogy_questions(vm["questions"].as<std::string>(), vm.count("lowercase")),
                               tensor, ao);
    s.description = "word analogies, " + std::to_string(model.vocab.size()) + " words";
  } else if (vm.count("task")) {
    if (vm["task"].as<std::string>() != "fashion-mnist")
      throw Error(ErrorKind::argument, "unknown --task '" + vm["task"].as<std::string>() + "' (fashion-mnist)");
    s.task = make_classifier_task(load_mnist_split(vm["data"].as<std::string>(), "t10k"));
    s.description = "Fashion-MNIST test accuracy";
  }
  return s;
}

std::function<QualityFn(const std::string&)> task_metrics(const TaskSetup& setup) {
  if (!setup.task) return {};
  const QualityTask* task = setup.task.get();
  return [task](const std::string& metric) { return task_metric(*task, metric); };
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

}  // namespace vbq::cli
