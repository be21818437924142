// Entropy-aware refinement of VBQ code points (beyond the paper).
//
// Algorithm 1 charges R(xi) bits, the raw length of the code point, but the file
// pays the code length -log2 p(xi) under the code-point table. Refinement re-picks
// every coordinate's code point to minimise
//     (F^{-1}(xi) - mu)^2 + 2 lambda sigma^2 (-log2 p(xi)),
// over the code points of the current table, then re-estimates p from the new
// assignment, as in entropy-constrained scalar quantization (Chou et al. 1989).
// Points that lose all their coordinates leave the table, which also shrinks.
// Pass 0 is exactly the paper's Algorithm 1; each later pass never raises the
// estimated total cost, and the loop stops when the estimated file size stops
// shrinking by at least 0.1%.
#pragma once
#include <span>
#include <vector>

#include "vbq/prior.hpp"
#include "vbq/quantizer.hpp"

namespace vbq {

struct RefinementPass {
  size_t table_size = 0;        // distinct code points
  double payload_bits = 0;      // ideal: sum of -log2 p over coordinates
  double table_bits = 0;        // estimated bits to store the code-point table
  double squared_error = 0;     // sum (F^{-1}(xi) - mu)^2
};

// Refines `keys` (the output of quantize() for the same inputs) for up to
// max_passes passes; returns the refined keys. Each pass is appended to `log`
// when given (entry 0 describes the input). Deterministic for any thread count.
// segment_symbols > 0: every run of that many coordinates has its own table (the
// coder's block tables, symbol_stream.hpp), so p(xi) is estimated per run;
// 0: one table for all.
CodeKeys refine_code_points(const Prior& prior, std::span<const double> mu, std::span<const double> sigma,
                            double lambda, CodeKeys keys, int max_passes, int threads = 0,
                            std::vector<RefinementPass>* log = nullptr, size_t segment_symbols = 0);

}  // namespace vbq
