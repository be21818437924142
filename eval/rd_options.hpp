// The R-D sweep's configuration from option text (what `vbq rd` takes), next to
// the sweep it configures.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "eval/rd.hpp"

namespace vbq {

// The items of a comma-separated list, empty ones included ("a,,b" -> a, "", b);
// a trailing comma adds none.
std::vector<std::string> split_list(const std::string& text);

// "a,b,c" or "lo:hi:n" (n values log-spaced from lo to hi). Throws
// ErrorKind::argument naming --option.
std::vector<double> parse_number_list(const std::string& spec, const std::string& option);

// Options as given; unset ones keep the defaults of the task kind.
struct RdOptionText {
  std::string lambdas = "default";     // default, paper, a,b,c or lo:hi:n
  std::string grid = "default";        // default, paper, a,b,c or lo:hi:n
  std::string kmeans = "default";      // default, none, a,b,c or lo:hi:n
  std::optional<std::string> variants; // labels vbq[+PRIOR][+refine][+tables][+ctx][+alloc][+centroid]
  std::optional<std::string> priors;   // instead of variants: priors to sweep
  std::optional<int> refine;           // refinement passes (+refine, or with priors)
  bool tables = false;                 // with priors: also with block tables
  std::optional<std::string> baselines;  // names, or none
  bool no_general = false;             // drop gzip, bzip2, xz, lzma, zstd
  std::optional<std::string> fractions;  // summary fractions, each in (0, 1]
  std::optional<int> refine_rounds;
};

// default_rd_options(kind) with what `text` sets; threads, progress and keep_dir
// are left at their defaults. Throws ErrorKind::argument for unparsable text,
// variants given together with priors/tables, a fraction outside (0, 1] or
// negative refine_rounds.
RdOptions rd_options_from_text(RdTaskKind kind, const RdOptionText& text);

// The summary fractions: text.fractions, or default_rd_fractions(kind).
std::vector<double> rd_fractions_from_text(RdTaskKind kind, const std::optional<std::string>& fractions);

}  // namespace vbq
