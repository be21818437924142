// The tensor codec: a posterior (mu, sigma) in, an entropy-coded tensor out, and
// back to reconstructed means. Pure in-memory; the byte layout of a file lives in
// formats/container.
//
// Three quantizers share the entropy stage (SymbolStream), coded per tensor by
// rANS with frequency tables (the paper's order-0 coding) or by the context-
// adaptive coder (symbols.coder, EntropyCoder::context; context_coder.hpp):
//  - vbq:      symbols are code points (CodeKey) chosen by Algorithm 1; a symbol
//              reconstructs to F^{-1}(xi) under the stored prior. The values travel
//              with the table (container 4.0), so every decoder restores the same
//              floats. Symbol 0 (kEscapeSymbol) is the escape: its elements carry
//              their mean itself, for means Algorithm 1 cannot represent well.
//  - grid:     uniform quantization, the paper's baseline: symbol = zigzag(q),
//              reconstruction q / scale.
//  - codebook: symbol = index into stored centroids (k-means baseline).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vbq/prior.hpp"
#include "vbq/quantizer.hpp"
#include "vbq/symbol_stream.hpp"

namespace vbq {

enum class QuantizerKind : uint8_t { vbq = 1, grid = 2, codebook = 3 };

// The vbq escape symbol (never a code point: those are >= 3). An escaped element
// reconstructs to its own mean, listed in EncodedTensor::escapes.
inline constexpr uint64_t kEscapeSymbol = kEscapeKey;

// What an escape costs in Algorithm 1's objective, in bits: a float32 value plus
// about 16 bits for the escape symbol in the rANS payload. The encoder escapes an
// element when (F^{-1}(xi*) - mu)^2 + 2 lambda sigma^2 R(xi*) exceeds
// (fl32(mu) - mu)^2 + 2 lambda sigma^2 kEscapeBits, i.e. treats the escape as one
// more code point of rate kEscapeBits: no mean ends up farther than about
// sqrt(2 lambda kEscapeBits) sigma from its reconstruction, whatever the prior's range.
inline constexpr double kEscapeBits = 48;

struct EncodedTensor {
  std::string name;             // tensor name
  std::string mean_path;        // where the mean came from (restored there)
  std::vector<uint64_t> shape;  // row-major
  bool float32 = true;          // dtype to restore
  QuantizerKind quantizer = QuantizerKind::vbq;

  // vbq
  PriorFamily prior_family = PriorFamily::gaussian;
  std::vector<double> prior_parameters;
  double lambda = 0;
  uint8_t max_rate_bits = 0;
  // grid: {scale}; codebook: centroids
  std::vector<double> values;

  SymbolStream symbols;

  // vbq: the reconstruction value of each alphabet symbol (0 for the escape
  // symbol). The encoder fills it with F^{-1}(xi); a 4.0 file carries it, rounded
  // to the dtype; empty for older files, whose values come from the prior.
  std::vector<double> levels;
  // vbq: the means of the escaped elements, in element order, and how many of
  // them each block holds (one count per block; empty when nothing escapes).
  std::vector<double> escapes;
  std::vector<uint64_t> block_escapes;
  // vbq: row-group gains (container 4.2; empty: none). Rows [g k, g k + g) with
  // g = gain_rows form group k, and each of their elements that is not escaped
  // reconstructs to to_dtype(level x gains[k]) (set_row_gains).
  uint64_t gain_rows = 0;
  std::vector<double> gains;
  // vbq: column means (container 4.3; empty: none), one per position within a
  // row, rounded to the dtype. The code points code mu minus its column's mean,
  // and every element, escaped or not, reconstructs to to_dtype(x + column mean),
  // x being what it would reconstruct to without them (encode_vbq, center_columns).
  std::vector<double> column_means;

  uint64_t element_count() const;
};

// What a vbq code point reconstructs to (EncodedTensor::levels; no cost in bits,
// the levels travel with the table either way). The code points themselves stay
// Algorithm 1's (or the refinement's).
//  - inverse_cdf: F^{-1}(xi), the paper's.
//  - centroid: the mean of the means coded to it (Lloyd's step: minimises
//    sum (level - mu)^2 over its elements), undoing Algorithm 1's shrinkage of
//    uncertain coordinates towards the prior's median.
//  - precision_centroid: the same weighted by 1 / sigma^2, the Lloyd step of
//    Algorithm 1's own objective (Eq. 9 over 2 lambda sigma^2: the distortion
//    term weighs each coordinate by its precision), so the Lagrangian only falls.
enum class LevelRule : uint8_t { inverse_cdf, centroid, precision_centroid };

// Command-line names: "inverse-cdf", "centroid", "wcentroid" (precision_centroid).
// parse throws ErrorKind::argument naming them.
LevelRule parse_level_rule(const std::string& name);

struct VbqSettings {
  double lambda = 1.0;
  std::string prior = "gauss";  // fit_prior spec fitted per tensor (paper: gauss), or "auto"
  int max_rate_bits = 62;
  int refine_passes = 0;        // entropy-aware refinement passes after Algorithm 1 (0 = paper)
  bool block_tables = true;     // frequency tables for runs of blocks (symbol_stream.hpp); false = paper, one table
  EntropyCoder coder = EntropyCoder::rans;  // context: context-adaptive coding, no tables
  LevelRule levels = LevelRule::inverse_cdf;
  bool row_gains = false;       // set_row_gains after the levels
  // Code each mean minus the mean of its column (its position within a row) and
  // store the column means: Algorithm 1 then moves uncertain coordinates towards
  // their column's mean rather than towards the prior's median. Word vectors
  // share a common direction that makes up most of a rare word's vector.
  bool center_columns = false;
  // Algorithm 1, refinement and escapes see each sigma as tempered_spreads(sigma,
  // spread_power): 1 is the posterior's own spreads (paper), 0 one spread for all.
  double spread_power = 1.0;
  int threads = 0;
};

// The spreads g (sigma / g)^power, g the geometric mean of sigma: their log range
// shrinks by `power` around g, which stays. Algorithm 1 then gives the most
// certain elements fewer bits and the less certain ones more. On a sparse
// Bayesian network, 1/sigma^2 overstates how much the most certain weights matter
// to the accuracy, and power 0.6 lowers the bits at equal accuracy by 10-30%
// (docs/RESULTS.md). Deterministic (a serial sum). Throws ErrorKind::argument
// unless 0 <= power <= 1 and every sigma is finite and > 0.
std::vector<double> tempered_spreads(std::span<const double> sigma, double power);

// Every encoder takes the tensor's row-major shape (empty = 1-D, mu.size()
// elements; otherwise prod(shape) must equal mu.size()). A row is a slice along
// the first axis; blocks hold whole rows where a row fits in a block
// (row_block_symbols), so one row decodes from one block.
uint64_t row_block_symbols(std::span<const uint64_t> shape);

// Fits the empirical prior settings.prior to mu, runs Algorithm 1 (and the
// refinement passes, if any), entropy-codes the code points.
// Requires mu.size() == sigma.size() > 0, sigma > 0.
// prior "auto" encodes with every auto_prior_candidates() family and keeps the
// one with the smallest Lagrangian, payload and table bits + sum (x - mu)^2 /
// (2 lambda sigma^2): the file size at equal distortion (Eq. 9 with real bits).
EncodedTensor encode_vbq(std::span<const double> mu, std::span<const double> sigma, const VbqSettings& settings,
                         std::span<const uint64_t> shape = {});

std::vector<std::string> auto_prior_candidates();

// Throws ErrorKind::argument (listing the valid specs) unless encode_vbq accepts
// `spec`; sample: means to try fitting on.
void check_prior_spec(const std::string& spec, std::span<const double> sample);

// The same with a given prior.
EncodedTensor encode_vbq(const Prior& prior, std::span<const double> mu, std::span<const double> sigma,
                         const VbqSettings& settings, std::span<const uint64_t> shape = {});

// encode_vbq(prior, ...) in two stages, for encoders that run Algorithm 1 chunk
// by chunk elsewhere (python/vbq/dask.py on a cluster); together they give
// encode_vbq's bytes when refine_passes is 0.
// mark_escapes: per coordinate, so any chunk alone: replaces a code key by the
// escape where the escape wins Algorithm 1's objective (kEscapeBits).
void mark_escapes(const Prior& prior, std::span<const double> mu, std::span<const double> sigma, double lambda,
                  std::span<uint64_t> keys, int threads = 0);
// encode_vbq_keys: the whole tensor's keys (after mark_escapes) and means: rare
// code points escaped, entropy coding, escaped means, levels.
EncodedTensor encode_vbq_keys(const Prior& prior, std::span<uint64_t> keys, std::span<const double> mu,
                              const VbqSettings& settings, std::span<const uint64_t> shape = {});
// Sets the levels of a vbq tensor to the (precision-weighted, if sigma is given)
// centroids of its code points' cells: symbols[i] is element i's symbol after
// escaping (an alphabet symbol). The escape symbol keeps level 0. Deterministic
// for any thread count (fixed chunks, summed in order).
void set_centroid_levels(EncodedTensor& tensor, std::span<const uint64_t> symbols, std::span<const double> mu,
                         std::span<const double> sigma = {}, int threads = 0);

// Row-group gains: Algorithm 1 moves uncertain coordinates towards the prior's
// median, so a row's reconstruction is shorter than its means, a bias that each
// coordinate's objective cannot see but every dot product with the row does.
// The rows are cut into groups of gain_rows_for(shape) whole rows (at least
// kGainGroupElements elements, or the whole tensor: a float32 gain costs <= 0.008
// bits per element), and each group gets the gain that gives its non-escaped
// elements back the Euclidean norm of their means, sqrt(sum mu^2 / sum level^2)
// (1 where either sum is 0), rounded to the dtype. symbols as for set_centroid_levels; call it after
// the levels are final. Deterministic for any thread count.
inline constexpr uint64_t kGainGroupElements = 4096;
uint64_t gain_rows_for(std::span<const uint64_t> shape);
void set_row_gains(EncodedTensor& tensor, std::span<const uint64_t> symbols, std::span<const double> mu,
                   int threads = 0);

// encode_vbq_keys in stages, for encoders that see the tensor's blocks apart
// (python/vbq/dask.py encodes blocks on a cluster); together they give
// encode_vbq_keys' bytes. Blocks are those of row_block_symbols(shape).
// plan_vbq_tensor: from the histogram of each block's keys (after
// mark_escapes), the tensor without its blocks and escaped means: header,
// alphabet with the rare code points escaped, frequency tables, levels.
// encode_vbq_block: block b of a plan from its keys and means: its bytes and
// its escaped means (keys missing from the alphabet are escaped rare code
// points); or from the histogram of its keys (symbol_counts), each key's index
// in it and the block's escape candidates (below), which is how the streaming
// encoder holds them. The caller sets symbols.blocks, escapes and, if has_escape,
// block_escapes (one count per block).
EncodedTensor plan_vbq_tensor(const Prior& prior, std::span<const SymbolCounts> block_histograms,
                              const VbqSettings& settings, std::span<const uint64_t> shape = {});
struct EncodedBlock {
  std::vector<uint8_t> bytes;
  std::vector<double> escapes;
};
EncodedBlock encode_vbq_block(const EncodedTensor& plan, uint64_t block, std::span<const uint64_t> keys,
                              std::span<const double> mu);
EncodedBlock encode_vbq_block(const EncodedTensor& plan, uint64_t block, const SymbolCounts& histogram,
                              std::span<const uint32_t> indices, std::span<const double> candidates);
// A block's escape candidates: the means, in element order, of its elements
// whose key is the escape or a code point counted at most
// max_rare_count(elements) times in the block. Only those can be escaped in a
// tensor of `elements` coordinates (a code point's count in the tensor is at
// least its count in a block), so an encoder that keeps them needs the means
// only once.
uint64_t max_rare_count(uint64_t elements);
std::vector<double> escape_candidates(const SymbolCounts& histogram, std::span<const uint32_t> indices,
                                      std::span<const double> mu, uint64_t elements);
// The same for consecutive whole blocks at once, in parallel over the blocks:
// block_histograms gives symbol_counts of each block of `keys` (cut every
// block_symbols) and, if `indices` is given (one per key), each key's index in
// its block's histogram; encode_vbq_blocks encodes blocks first_block,
// first_block + 1, ... of a plan from those histograms, indices (indices.size()
// covers whole blocks, the tensor's last block possibly short) and each block's
// escape candidates, which block_escape_candidates gives.
// For streaming encoders that hold a few blocks at a time (app/stream_compress.hpp).
std::vector<SymbolCounts> block_histograms(std::span<const uint64_t> keys, uint64_t block_symbols, int threads = 0,
                                           std::span<uint32_t> indices = {});
std::vector<EncodedBlock> encode_vbq_blocks(const EncodedTensor& plan, uint64_t first_block,
                                            std::span<const SymbolCounts> histograms, std::span<const uint32_t> indices,
                                            std::span<const std::vector<double>> candidates, int threads = 0);
std::vector<std::vector<double>> block_escape_candidates(std::span<const SymbolCounts> histograms,
                                                         std::span<const uint32_t> indices, std::span<const double> mu,
                                                         uint64_t block_symbols, uint64_t elements, int threads = 0);

// Uniform grid of the paper's baseline: scale = (q_max + 1/2) / max|mu|,
// q = round(clip(scale mu, -q_max, q_max)). Requires q_max >= 1.
EncodedTensor encode_grid(std::span<const double> mu, int q_max, int threads = 0, std::span<const uint64_t> shape = {},
                          EntropyCoder coder = EntropyCoder::rans);
std::vector<int32_t> grid_values(std::span<const double> mu, int q_max, double* scale_out = nullptr);

// Codebook (k-means baseline): symbol i reconstructs to centroids[i]; each mu goes
// to its nearest centroid. Requires sorted, finite, nonempty centroids.
EncodedTensor encode_codebook(std::span<const double> mu, std::vector<double> centroids, int threads = 0,
                              std::span<const uint64_t> shape = {}, EntropyCoder coder = EntropyCoder::rans);

// Reconstructed value of every alphabet symbol, in double precision (levels, or
// from the quantizer's parameters when there are none; 0 for the escape symbol).
// Throws ErrorKind::corrupt on invalid parameters or symbols.
std::vector<double> alphabet_values(const EncodedTensor& tensor);

// Whether a vbq tensor's alphabet holds the escape symbol (as its first symbol:
// it sorts first).
bool has_escape(const EncodedTensor& tensor);

// v as the tensor stores it: rounded to float32 for float32 tensors.
double to_dtype(const EncodedTensor& tensor, double v);

// Decodes all symbols and reconstructs the means (element_count() values). A vbq
// tensor with levels (encoded now, or read from a 4.0 file) reconstructs to its
// levels and escaped means rounded to its dtype (to_dtype), exactly as a 4.0 file
// stores them; others (grid, codebook, vbq of 1.x-3.x files) to the doubles their
// parameters give, F^{-1}(xi) for vbq. Throws ErrorKind::corrupt if a block's
// escape symbols and escape count disagree.
std::vector<double> decode_tensor(const EncodedTensor& tensor, int threads = 0);
// The same for whole blocks first_block, first_block + 1, ..., first_block +
// blocks - 1 only (fewer at the tensor's end): their elements, for decoders that
// hold a few blocks at a time.
std::vector<double> decode_blocks(const EncodedTensor& tensor, uint64_t first_block, uint64_t blocks, int threads = 0);

// What each element costs in the payload: -log2(freq / 2^precision) of its
// symbol under its block's frequency table (the rANS coder matches this to within
// its block flushes); with the context coder, the sum of -log2 P over its bins
// (context_code_lengths_block). Paper Fig. 7's "bits spent" per coordinate.
std::vector<double> element_code_lengths(const EncodedTensor& tensor, int threads = 0);

// Number of rows (shape[0]) and elements per row (the product of the other dims).
uint64_t row_count(const EncodedTensor& tensor);
uint64_t row_length(const EncodedTensor& tensor);

// The blocks [first, end) that hold rows [first_row, first_row + count), count >= 1
// (SPEC "Rows"): the ones decode_rows decodes.
struct BlockRange {
  uint64_t first, end;
};
BlockRange row_blocks(const EncodedTensor& tensor, uint64_t first_row, uint64_t count = 1);

// Reconstructs rows [first, first + count) only, decoding just the blocks that
// hold them. Throws ErrorKind::argument if the range exceeds row_count().
std::vector<double> decode_rows(const EncodedTensor& tensor, uint64_t first, uint64_t count = 1);

}  // namespace vbq
