// Quality tasks: what "quality" means for a model, as metric values of its means.
// The R-D sweep scores every decompressed model with one, and rate control
// (app/compress.hpp) takes one metric of one as its quality function.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "app/compress.hpp"
#include "eval/analogy.hpp"
#include "formats/hdf5_model.hpp"
#include "formats/idx.hpp"

namespace vbq {

// What "quality" means for a model: metric values of a model's means.
class QualityTask {
 public:
  virtual ~QualityTask() = default;
  virtual std::vector<std::string> metric_names() const = 0;  // e.g. {"hits1","hits10","mrr"}
  virtual size_t primary_metric() const = 0;                  // index of the one the summary uses
  virtual std::vector<double> evaluate(const Model& means) const = 0;
  // The primary metric's direction: a held-out nll is lower-is-better, accuracy is not.
  virtual bool lower_is_better() const { return false; }
};

// Metric `metric` of `task` as the quality function of a QualityTarget
// (app/compress.hpp); the task must outlive it. Throws ErrorKind::argument naming
// the task's metrics when it has no such metric.
QualityFn task_metric(const QualityTask& task, const std::string& metric);

// Word analogies on `tensor` of `model`, which must be [vocabulary size, dim]:
// the analogy task's evaluation, with every section. Throws ErrorKind::argument
// (no such tensor) or ErrorKind::format (another shape), naming `where`.
AnalogyResult evaluate_analogy_tensor(const AnalogySet& questions, const Model& model, const std::string& tensor,
                                      const AnalogyOptions& options, const std::string& where = "analogy task");

// Word analogies on one embedding tensor (docs/PROTOCOL.md). Metrics hits1, hits10, mrr.
std::unique_ptr<QualityTask> make_analogy_task(AnalogySet questions, std::string tensor, AnalogyOptions options);
// Test-set classification by an MLP's means. Metrics accuracy, log_likelihood.
std::unique_ptr<QualityTask> make_classifier_task(Dataset test_set);

}  // namespace vbq
