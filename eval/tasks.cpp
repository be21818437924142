#include "eval/tasks.hpp"

#include <algorithm>

#include "eval/mlp.hpp"
#include "vbq/error.hpp"

namespace vbq {

namespace {

class AnalogyTask final : public QualityTask {
 public:
  AnalogyTask(AnalogySet q, std::string tensor, AnalogyOptions o)
      : questions_(std::move(q)), tensor_(std::move(tensor)), options_(o) {}
  std::vector<std::string> metric_names() const override { return {"hits1", "hits10", "mrr"}; }
  size_t primary_metric() const override { return 1; }
  std::vector<double> evaluate(const Model& m) const override {
    const AnalogyResult r = evaluate_analogy_tensor(questions_, m, tensor_, options_);
    return {r.overall.hits1, r.overall.hits10, r.overall.mrr};
  }

 private:
  AnalogySet questions_;
  std::string tensor_;
  AnalogyOptions options_;
};

class ClassifierTask final : public QualityTask {
 public:
  explicit ClassifierTask(Dataset d) : data_(std::move(d)) {}
  std::vector<std::string> metric_names() const override { return {"accuracy", "log_likelihood"}; }
  size_t primary_metric() const override { return 0; }
  std::vector<double> evaluate(const Model& m) const override {
    MlpScore s = evaluate_mlp(m, data_);
    return {s.accuracy, s.log_likelihood};
  }

 private:
  Dataset data_;
};

}  // namespace

AnalogyResult evaluate_analogy_tensor(const AnalogySet& questions, const Model& m, const std::string& tensor,
                                      const AnalogyOptions& options, const std::string& where) {
  const Tensor* t = m.find(tensor);
  if (!t) throw Error(ErrorKind::argument, where + ": the model has no tensor '" + tensor + "'");
  if (t->shape.size() != 2 || t->shape[0] != m.vocab.size())
    throw Error(ErrorKind::format, where + ": tensor '" + tensor + "' must be [vocabulary size, dim] with " +
                                       std::to_string(m.vocab.size()) + " vocabulary words");
  std::vector<float> vectors(t->mu.begin(), t->mu.end());
  return evaluate_analogies(questions, m.vocab, vectors, t->shape[1], options);
}

QualityFn task_metric(const QualityTask& task, const std::string& metric) {
  const std::vector<std::string> names = task.metric_names();
  const size_t m = size_t(std::find(names.begin(), names.end(), metric) - names.begin());
  if (m == names.size()) {
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    throw Error(ErrorKind::argument, "unknown quality metric '" + metric + "' (this task has " + known + ")");
  }
  return [&task, m](const Model& means) { return task.evaluate(means)[m]; };
}

std::unique_ptr<QualityTask> make_analogy_task(AnalogySet questions, std::string tensor, AnalogyOptions options) {
  return std::make_unique<AnalogyTask>(std::move(questions), std::move(tensor), options);
}

std::unique_ptr<QualityTask> make_classifier_task(Dataset test_set) {
  return std::make_unique<ClassifierTask>(std::move(test_set));
}

}  // namespace vbq
