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
// The quality of a decompressed model comes from a QualityTask (eval/tasks.hpp:
// word analogies, classifier accuracy), so one sweep serves every model family.
// Its result is an RdResult, written and summarised by eval/rd_report.hpp.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eval/rd_report.hpp"
#include "eval/tasks.hpp"
#include "formats/hdf5_model.hpp"

namespace vbq {

// One VBQ configuration swept over lambda: the paper's is {"vbq", "gauss", 0, false}.
struct VbqVariant {
  std::string method;     // label in the CSV and plot
  std::string prior = "gauss";
  int refine_passes = 0;
  bool block_tables = false;
  // One lambda per tensor (app/lambda_allocation.hpp), measured on the sweep's
  // lambdas with the task's primary metric; the sweep's lambda is model-wide.
  bool allocate = false;
  EntropyCoder coder = EntropyCoder::rans;  // "+ctx": the context-adaptive coder
  LevelRule levels = LevelRule::inverse_cdf;  // "+centroid", "+wcentroid" (codec.hpp)
  bool row_gains = false;                     // "+gain": row-group gains (codec.hpp)
  bool center_columns = false;                // "+center": column means (codec.hpp)
  double spread_power = 1;                    // "+spread:A": VbqSettings::spread_power
};

// Variants for every prior x refinement x table combination: "vbq" for the
// paper's configuration (Gaussian prior, Algorithm 1, one table), and the label
// "vbq" + "+<prior>" (other than gauss) + "+refine" + "+tables" otherwise.
std::vector<VbqVariant> vbq_variants(const std::vector<std::string>& priors, int refine_passes, bool tables = false);

// The variant a label names: "vbq" followed by any of "+<prior>", "+refine"
// (refine_passes passes), "+tables", "+ctx" (the context-adaptive coder), "+alloc"
// (one lambda per tensor), "+centroid" / "+wcentroid" (levels at the code points'
// centroids / precision-weighted centroids), "+spread:A" (spread power A), e.g. "vbq+auto+refine+ctx". Throws
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
  // metric crosses a summary level (level_target: fraction x uncompressed, or
  // uncompressed + increase for a lower-is-better metric) between two neighbouring
  // settings, also measure the setting halfway (geometric mean; rounded for q and k).
  std::vector<double> refine_fractions;
  int refine_rounds = 0;
  int threads = 0;
  // Called with the settings measured so far out of those planned, and a status line,
  // at the start and after each setting (the tools draw a progress bar). Empty: none.
  std::function<void(double done, double planned, const std::string& status)> on_progress;
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
//  heldout_nll: vbq and vbq+auto+refine+ctx at 12 lambdas 1e-2..10 (sized for a
//              V = 100k, d = 100 model in 20 minutes on 2 cores), grids q = 1..255
//              under rANS and the context coder, k-means k = 4..256; summary at nll
//              increases of 0.02, 0.01 and 0.005 nats per target, 2 rounds of
//              refinement there.
enum class RdTaskKind { analogy, classifier, heldout_nll };

// The task kind a sweep's primary metric belongs to: hits10 analogy,
// heldout_nll heldout_nll, anything else classifier.
RdTaskKind rd_task_kind(const std::string& primary_metric);

// The paper's sweep: 50 lambdas log-spaced from 1e-2 to 1e5, and grids q = 1..1023
// log-spaced (59 distinct values, as in paper-fig3-rd.csv).
std::vector<double> paper_lambdas(size_t count = 50, double lo = 1e-2, double hi = 1e5);
std::vector<int> paper_grid(size_t count = 60, int hi = 1023);

RdOptions default_rd_options(RdTaskKind kind);
std::vector<double> default_rd_fractions(RdTaskKind kind);

// Sweeps every method over the tensors of `model` (all of them; select beforehand).
// The quality of each point is task.evaluate(model with those tensors' means replaced).
RdResult run_rd_sweep(const Model& model, const QualityTask& task, const RdOptions& options);

}  // namespace vbq
