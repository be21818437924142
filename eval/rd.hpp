// Rate-distortion sweeps (the paper's Fig. 3), on real files.
//
// Every point is a real compress -> file on disk -> read back -> decompress ->
// evaluate cycle; sizes are the bytes of the whole file, headers and tables
// included. Methods:
//   vbq[+...]           Algorithm 1 at each lambda, in a .vbq container (only
//                       methods whose code points come from Algorithm 1 are "vbq...")
//   uniform+rans        the paper's grid, coded by our rANS coder in a .vbq container
//   uniform+ctx         the same grid, coded by the context-adaptive coder (container 4.1)
//   uniform+<coder>     the grid stored as int8/int16 and run through gzip/bzip2/xz/lzma/zstd
//   kmeans+rans         a 1-D k-means codebook, coded by our rANS coder
// The baselines live in one table in rd.cpp (baseline_table); methods that decode
// to identical means (the grid under every coder) share one quality evaluation.
// The quality of a decompressed model comes from a QualityTask (word analogies,
// classifier accuracy), so one sweep serves every model family.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eval/analogy.hpp"
#include "formats/hdf5_model.hpp"
#include "formats/idx.hpp"
#include "formats/model_codec.hpp"

namespace vbq {

// What "quality" means for a model: metric values of a model's means.
class QualityTask {
 public:
  virtual ~QualityTask() = default;
  virtual std::vector<std::string> metric_names() const = 0;  // e.g. {"hits1","hits10","mrr"}
  virtual size_t primary_metric() const = 0;                  // index of the one the summary uses
  virtual std::vector<double> evaluate(const Model& means) const = 0;
};

// Word analogies on one embedding tensor (docs/PROTOCOL.md). Metrics hits1, hits10, mrr.
std::unique_ptr<QualityTask> make_analogy_task(AnalogySet questions, std::string tensor, AnalogyOptions options);
// Test-set classification by an MLP's means. Metrics accuracy, log_likelihood.
std::unique_ptr<QualityTask> make_classifier_task(Dataset test_set);

// One VBQ configuration swept over lambda: the paper's is {"vbq", "gauss", 0, false}.
struct VbqVariant {
  std::string method;     // label in the CSV and plot
  std::string prior = "gauss";
  int refine_passes = 0;
  bool block_tables = false;
  EntropyCoder coder = EntropyCoder::rans;  // "+ctx": the context-adaptive coder
};

// Variants for every prior x refinement x table combination: "vbq" for the
// paper's configuration (Gaussian prior, Algorithm 1, one table), and the label
// "vbq" + "+<prior>" (other than gauss) + "+refine" + "+tables" otherwise.
std::vector<VbqVariant> vbq_variants(const std::vector<std::string>& priors, int refine_passes, bool tables = false);

// The variant a label names: "vbq" followed by any of "+<prior>", "+refine"
// (refine_passes passes), "+tables", "+ctx", e.g. "vbq+auto+refine+tables". Throws
// ErrorKind::argument on a label that does not start with "vbq".
VbqVariant parse_vbq_variant(const std::string& label, int refine_passes);

struct RdOptions {
  std::vector<double> lambdas;      // VBQ rate penalties
  std::vector<VbqVariant> variants = {{"vbq", "gauss", 0, false}};
  std::vector<int> grid_q_max;      // uniform grids
  std::vector<int> kmeans_k;        // k-means codebooks (empty: none)
  // Baselines to run, by name (rd_baseline_methods()); empty: all of them. Grid
  // methods run at grid_q_max, codebook methods at kmeans_k.
  std::vector<std::string> baselines;
  bool general_compressors = true;  // false: drop gzip, bzip2, xz, lzma, zstd
  // Adaptive refinement: for refine_rounds rounds, wherever a method's primary
  // metric crosses fraction x uncompressed between two neighbouring settings,
  // also measure the setting halfway (geometric mean; rounded for q and k).
  std::vector<double> refine_fractions;
  int refine_rounds = 0;
  int threads = 0;
  bool progress = true;
  std::string keep_dir;             // keep every file written here (empty: temp dir, removed)
};

// Every baseline the sweep knows, in legend order: uniform+rans, uniform+ctx, uniform+gzip,
// uniform+bzip2, uniform+xz, uniform+lzma, uniform+zstd19, uniform+zstd22, kmeans+rans.
std::vector<std::string> rd_baseline_methods();

// Default sweeps, by the kind of quality task.
//  analogy:    the paper's (PROTOCOL.md): vbq at 50 lambdas 1e-2..1e5, grids q = 1..1023
//              under rANS and every general compressor (k-means only with kmeans_k);
//              summary at 0.5..0.975.
//  classifier: vbq, vbq+refine and vbq+auto+refine (3 passes) at 17 lambdas 1e-3..10,
//              every baseline (grids q = 1..255, k-means k = 2..256), 3 rounds of
//              refinement around 90 / 95 / 97.5 / 99%, the summary's fractions.
enum class RdTaskKind { analogy, classifier };

// The paper's sweep: 50 lambdas log-spaced from 1e-2 to 1e5, and grids q = 1..1023
// log-spaced (59 distinct values, as in paper-fig3-rd.csv).
std::vector<double> paper_lambdas(size_t count = 50, double lo = 1e-2, double hi = 1e5);
std::vector<int> paper_grid(size_t count = 60, int hi = 1023);

RdOptions default_rd_options(RdTaskKind kind);
std::vector<double> default_rd_fractions(RdTaskKind kind);

struct RdRow {
  std::string method, setting;
  uint64_t bytes = 0;
  double bits_per_dim = 0, ideal_bits_per_dim = 0;
  std::vector<double> metrics;  // parallel to QualityTask::metric_names()
};

struct RdResult {
  std::vector<std::string> metric_names;
  size_t primary = 0;
  uint64_t dimensions = 0;               // latent dimensions compressed
  std::vector<double> uncompressed;      // metrics of the original means
  std::vector<RdRow> rows;
};

// Sweeps every method over the tensors of `model` (all of them; select beforehand).
// The quality of each point is task.evaluate(model with those tensors' means replaced).
RdResult run_rd_sweep(const Model& model, const QualityTask& task, const RdOptions& options);

// Rate control on quality: the largest lambda (smallest file) whose decompressed
// model keeps task metric `metric` >= target, by bisection in log(lambda) until the
// bracket is within 2% in lambda. A target missed at lambda 1e-3 is searched for
// further down, towards full precision, until the quality stops improving; `met`
// is false only then, with the best quality reached (value) and its size.
// Quality is monotone in lambda only up to noise: the lambda found meets the
// target, but a larger one past a dip may meet it too.
RateControlled compress_model_to_quality(const Model& model, const QualityTask& task, const std::string& metric,
                                         double target, CompressSettings settings);

// CSV: method,setting,bytes,bits_per_dim,ideal_entropy_bits_per_dim,<metrics...>
// First line a comment with the uncompressed metrics. Written atomically.
void write_rd_csv(const std::string& path, const RdResult& result, bool force);

// Reads a CSV that write_rd_csv wrote (to re-plot or re-summarise a sweep). The
// primary metric is hits10 when present (analogies), else the first metric.
// Throws ErrorKind::format naming the file and line.
RdResult read_rd_csv(const std::string& path);

// The summary table: bits/dim each method needs to keep f of the uncompressed
// primary metric (f = 0.5, 0.75, 0.9, 0.95, 0.975), interpolating linearly in bits
// between measured points, and each VBQ variant's ratio to the best baseline
// (the best method whose name does not start with "vbq").
std::string rd_summary(const RdResult& result, const std::vector<double>& fractions = {0.5, 0.75, 0.9, 0.95, 0.975});

// Fig. 3-style plot, two panels: every point, and a zoom on the band from just
// below the lowest of `fractions` of the uncompressed primary metric up to 100%,
// over the rates where the methods reach it (dotted lines at each fraction). x is
// bits per latent dimension on a log scale. The paper's vbq (red) and the best
// baseline (black; fewest bits at the middle fraction) are drawn thick and solid,
// the rest thin in distinct colours and dash patterns. Writes SVG via gnuplot and a
// PNG beside it via rsvg-convert. `reference_csv` (optional) overlays another
// sweep's points (e.g. ../shared/data/paper-fig3-rd.csv) as open symbols labelled
// `reference_label`.
void plot_rd(const std::string& svg_path, const RdResult& result, const std::string& title,
             const std::string& reference_csv = "", const std::string& reference_label = "paper",
             const std::vector<double>& fractions = {0.9, 0.95, 0.975, 0.99});

}  // namespace vbq
