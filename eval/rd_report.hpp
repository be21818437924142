// R-D results and their reports: the points of a sweep, the CSV, the summary
// table (docs/PROTOCOL.md, "Summary ratios") and the Fig. 3-style plot.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vbq {

// One measured point: a method at one knob setting, its real file and the quality
// of what it decodes to.
struct RdPoint {
  std::string method, setting;
  uint64_t bytes = 0;
  double bits_per_dim = 0;        // 8 * bytes / dimensions (real file)
  double ideal_bits_per_dim = 0;  // empirical entropy of the decoded values (with row-group
                                  // gains each group has its own values, so it overstates)
  std::vector<double> metrics;    // parallel to QualityTask::metric_names()
};

// `text` as a double when all of it is one (std::stod with nothing left over).
std::optional<double> parse_whole_double(const std::string& text);

struct RdResult {
  std::vector<std::string> metric_names;
  size_t primary = 0;
  // Lower primary metric is better (a held-out nll): summary levels are then
  // increases over the uncompressed value, not fractions of it.
  bool lower_is_better = false;
  uint64_t dimensions = 0;               // latent dimensions compressed
  std::vector<double> uncompressed;      // metrics of the original means
  std::vector<RdPoint> rows;
};

enum class RdRate { file_bits, ideal_bits };  // which bits bits_to_reach reads

// The smallest rate at which one method's piecewise-linear R-D curve reaches
// `target_quality`:
//   sort the points by rate (ties by quality, ascending) and join consecutive
//   points by straight lines; walking this polyline from the lowest rate, return
//   the rate of the first point on it with quality >= target. That is
//     - the rate of the first point if its quality >= target;
//     - else, at the first segment (p_i, p_{i+1}) with q_i < target <= q_{i+1},
//       b_i + (target - q_i) / (q_{i+1} - q_i) * (b_{i+1} - b_i).
//   Because rate never decreases along the polyline, this is the smallest such
//   rate; later dips below target (noisy curves) do not matter.
// Returns NaN when no point reaches target (or the curve is empty).
// Throws ErrorKind::argument when points name different methods or carry a
// non-finite rate or a NaN quality.
// Quality is metrics[metric].
double bits_to_reach(std::vector<RdPoint> curve_of_one_method, double target_quality,
                     RdRate rate = RdRate::file_bits, size_t metric = 0);

// CSV: method,setting,bytes,bits_per_dim,ideal_entropy_bits_per_dim,<metrics...>
// First line a comment with the uncompressed metrics. Written atomically.
void write_rd_csv(const std::string& path, const RdResult& result, bool force);

// Reads a CSV that write_rd_csv wrote (to re-plot or re-summarise a sweep). The
// primary metric is hits10 when present (analogies), else the first metric.
// Throws ErrorKind::format naming the file and line.
RdResult read_rd_csv(const std::string& path);

// Whether a metric is lower-is-better, by name: one ending in "nll".
bool metric_lower_is_better(const std::string& metric);

// The primary-metric value a summary level asks for: level x uncompressed, or for
// a lower-is-better metric uncompressed + level (an allowed increase).
double level_target(const RdResult& result, double level);

// The bits per dimension one method needs to reach level_target(result, level)
// (bits_to_reach on its points; for a lower-is-better metric, to get at or below it).
double bits_for_level(const RdResult& result, const std::string& method, double level);

// The summary table: bits/dim each method needs to keep f of the uncompressed
// primary metric (f = 0.5, 0.75, 0.9, 0.95, 0.975), or for a lower-is-better one to
// stay within uncompressed + f, interpolating linearly in bits between measured
// points; each VBQ variant's ratio to the best baseline (the best method whose name
// does not start with "vbq"), and the best VBQ variant's.
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
