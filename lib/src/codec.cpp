#include "vbq/codec.hpp"

#include "parallel.hpp"


#include <algorithm>
#include <map>
#include <cmath>
#include <cstdio>
#include <string>

#include "vbq/buffer.hpp"
#include "vbq/context_coder.hpp"
#include "vbq/error.hpp"
#include "vbq/quantizer.hpp"
#include "vbq/refinement.hpp"

namespace vbq {


static uint64_t zigzag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
static int64_t unzigzag(uint64_t u) { return int64_t(u >> 1) ^ -int64_t(u & 1); }

uint64_t EncodedTensor::element_count() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

// Elements per row: the product of the dims after the first.
static uint64_t row_elements(std::span<const uint64_t> shape) {
  uint64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

uint64_t row_block_symbols(std::span<const uint64_t> shape) {
  const uint64_t row = row_elements(shape);
  if (row == 0 || row > kDefaultBlockSymbols) return kDefaultBlockSymbols;
  return kDefaultBlockSymbols / row * row;
}

// The tensor's shape (1-D if empty), checked against its element count.
static std::vector<uint64_t> tensor_shape(std::span<const uint64_t> shape, size_t elements) {
  if (shape.empty()) return {elements};
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  if (n != elements)
    throw Error(ErrorKind::argument, "shape holds " + std::to_string(n) + " elements, data " + std::to_string(elements));
  return {shape.begin(), shape.end()};
}

// Entropy-codes the symbols of a tensor of the given shape in row-aligned blocks.
static void encode_rows(EncodedTensor& t, std::span<const uint64_t> symbols, std::span<const uint64_t> shape,
                        int threads, bool block_tables, EntropyCoder coder) {
  t.shape = tensor_shape(shape, symbols.size());
  t.symbols = encode_symbols(symbols, threads, row_block_symbols(t.shape), block_tables, coder, row_elements(t.shape));
}

LevelRule parse_level_rule(const std::string& name) {
  if (name == "inverse-cdf") return LevelRule::inverse_cdf;
  if (name == "centroid") return LevelRule::centroid;
  if (name == "wcentroid") return LevelRule::precision_centroid;
  throw Error(ErrorKind::argument, "unknown reconstruction levels '" + name + "' (expected inverse-cdf, centroid or wcentroid)");
}

std::vector<std::string> auto_prior_candidates() { return {"gauss", "laplace", "student", "mixture:4", "empirical:16"}; }

void check_prior_spec(const std::string& spec, std::span<const double> sample) {
  if (spec != "auto") (void)fit_prior(spec, sample);
}

// Lagrangian of an encoding in bits: payload + tables (~3 bytes per code point
// plus its float32 value, ~2 more per extra frequency table) + escaped values +
// prior parameters + distortion / (2 lambda sigma^2).
static double lagrangian_bits(const EncodedTensor& t, std::span<const double> mu, std::span<const double> sigma,
                              int threads) {
  std::vector<double> x = decode_tensor(t, threads);
  const uint64_t points = t.symbols.alphabet.size(), tables = t.symbols.tables.size();
  const uint64_t extra_tables = tables > 1 ? tables - 1 : 0;  // the context coder has none
  double bits = 8.0 * double(t.symbols.payload_bytes() + (7 + 2 * extra_tables) * points + 4 * t.escapes.size() +
                             8 * t.prior_parameters.size() + 4 * t.gains.size());
  for (size_t i = 0; i < x.size(); ++i) bits += (x[i] - mu[i]) * (x[i] - mu[i]) / (2 * t.lambda * sigma[i] * sigma[i]);
  return bits;
}

// The mean of every column (position within a row) of mu, rounded to float32
// as the container's other values of a float32 tensor.
static std::vector<double> column_means(std::span<const double> mu, std::span<const uint64_t> shape) {
  const uint64_t columns = row_elements(tensor_shape(shape, mu.size()));
  std::vector<double> sum(columns, 0.0);
  for (size_t i = 0; i < mu.size(); ++i) sum[i % columns] += mu[i];
  const double rows = double(mu.size() / columns);
  for (double& m : sum) m = double(float(m / rows));
  return sum;
}

std::vector<double> tempered_spreads(std::span<const double> sigma, double power) {
  if (!(power >= 0 && power <= 1)) {
    char text[64];
    std::snprintf(text, sizeof text, "spread power %g is not in [0, 1]", power);
    throw Error(ErrorKind::argument, text);
  }
  double log_sum = 0;
  for (size_t i = 0; i < sigma.size(); ++i) {
    if (!(sigma[i] > 0 && std::isfinite(sigma[i])))
      throw Error(ErrorKind::argument, "tempered_spreads: sigma[" + std::to_string(i) + "] is not finite and > 0");
    log_sum += std::log(sigma[i]);
  }
  if (power == 1) return std::vector<double>(sigma.begin(), sigma.end());
  const double log_g = sigma.empty() ? 0.0 : log_sum / double(sigma.size());
  std::vector<double> out(sigma.size());
  for (size_t i = 0; i < sigma.size(); ++i) out[i] = std::exp(log_g + power * (std::log(sigma[i]) - log_g));
  return out;
}

EncodedTensor encode_vbq(std::span<const double> mu, std::span<const double> sigma, const VbqSettings& settings,
                         std::span<const uint64_t> shape) {
  if (settings.spread_power != 1) {
    const std::vector<double> tempered = tempered_spreads(sigma, settings.spread_power);
    VbqSettings inner = settings;
    inner.spread_power = 1;
    return encode_vbq(mu, tempered, inner, shape);
  }
  if (settings.center_columns && !mu.empty()) {
    const std::vector<double> means = column_means(mu, shape);
    std::vector<double> centered(mu.size());
    for (size_t i = 0; i < mu.size(); ++i) centered[i] = mu[i] - means[i % means.size()];
    VbqSettings inner = settings;
    inner.center_columns = false;
    EncodedTensor t = encode_vbq(centered, sigma, inner, shape);
    t.column_means = means;
    return t;
  }
  if (settings.prior != "auto") return encode_vbq(*fit_prior(settings.prior, mu), mu, sigma, settings, shape);
  EncodedTensor best;
  double best_bits = 0;
  for (const std::string& spec : auto_prior_candidates()) {
    EncodedTensor t = encode_vbq(*fit_prior(spec, mu), mu, sigma, settings, shape);
    const double bits = lagrangian_bits(t, mu, sigma, settings.threads);
    if (best.symbols.count == 0 || bits < best_bits) best = std::move(t), best_bits = bits;
  }
  return best;
}

// Replaces a code point by the escape where the escape wins Algorithm 1's
// objective (codec.hpp, kEscapeBits): means beyond the prior's outermost code
// point, or so far out that no code point comes close at an affordable rate.
void mark_escapes(const Prior& prior, std::span<const double> mu, std::span<const double> sigma, double lambda,
                  std::span<uint64_t> keys, [[maybe_unused]] int threads) {
  const CodePointTable table(prior);
  const int64_t n = int64_t(keys.size());
VBQ_OMP(parallel for schedule(static, 4096) num_threads(resolve_threads(threads)))
  for (int64_t i = 0; i < n; ++i) {
    const double penalty = 2.0 * lambda * sigma[i] * sigma[i];
    const double d = table.reconstruct(keys[i]) - mu[i];
    if (escape_wins(mu[i], penalty, kEscapeBits, d * d + penalty * rate_bits(keys[i]))) keys[i] = kEscapeSymbol;
  }
}

// Escapes the code points so rare that their table entry costs more than
// sending their elements' means: a code point used c times costs its table entry
// (key, one frequency, a float32 value) plus c log2(N / c) payload bits; escaped,
// each element costs a float32 plus log2(N / E) bits for the escape symbol, E
// the escapes so far. The distortion only falls (an escape is exact). Rarest
// first, so that E grows as it would.
// The rare code points of a message with these counts, ascending.
static std::vector<uint64_t> rare_code_points(const SymbolCounts& counts) {
  if (counts.symbols.empty()) return {};
  double n = 0;
  for (uint64_t c : counts.counts) n += double(c);
  std::vector<size_t> order(counts.symbols.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return counts.counts[a] < counts.counts[b]; });
  double escaped = counts.symbols.front() == kEscapeSymbol ? double(counts.counts.front()) : 0.0;
  std::vector<uint64_t> rare;
  for (size_t i : order) {
    const uint64_t key = counts.symbols[i];
    const double c = double(counts.counts[i]);
    if (key == kEscapeSymbol || c >= n) continue;
    const uint64_t delta = i > 0 ? key - counts.symbols[i - 1] : key;
    const double kept = 8.0 * (varint_bytes(delta) + 1 + 4) + c * std::log2(n / c);
    const double sent = c * (32 + std::log2(n / (escaped + c)));
    if (sent >= kept) break;  // commoner code points only cost less to keep
    rare.push_back(key), escaped += c;
  }
  std::sort(rare.begin(), rare.end());
  return rare;
}

// Replaces the keys of `rare` (ascending) by the escape symbol.
static void escape_keys(std::span<uint64_t> keys, const std::vector<uint64_t>& rare, [[maybe_unused]] int threads) {
  if (rare.empty()) return;
  const int64_t m = int64_t(keys.size());
VBQ_OMP(parallel for schedule(static, 4096) num_threads(resolve_threads(threads)))
  for (int64_t i = 0; i < m; ++i)
    if (std::binary_search(rare.begin(), rare.end(), keys[i])) keys[i] = kEscapeSymbol;
}

// The escaped means of a vbq tensor in element order, and their count per block.
static void collect_escapes(EncodedTensor& t, std::span<const double> mu, std::span<const uint64_t> keys) {
  if (!has_escape(t)) return;
  t.block_escapes.assign(t.symbols.blocks.size(), 0);
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == kEscapeSymbol) t.escapes.push_back(mu[i]), ++t.block_escapes[i / t.symbols.block_symbols];
}

// A vbq tensor's fields that come from its prior and settings.
static EncodedTensor vbq_header(const Prior& prior, const VbqSettings& settings) {
  EncodedTensor t;
  t.quantizer = QuantizerKind::vbq;
  t.prior_family = prior.family();
  t.prior_parameters = prior.parameters();
  t.lambda = settings.lambda;
  t.max_rate_bits = uint8_t(settings.max_rate_bits);
  return t;
}

// The reconstruction value F^{-1}(xi) of every alphabet symbol (0 for the escape).
static void set_levels(EncodedTensor& t, const Prior& prior) {
  t.levels.resize(t.symbols.alphabet.size());
  for (size_t i = 0; i < t.levels.size(); ++i) {
    const uint64_t key = t.symbols.alphabet[i];
    t.levels[i] = key == kEscapeSymbol ? 0.0 : reconstruct(prior, key);
  }
}

EncodedTensor encode_vbq(const Prior& prior, std::span<const double> mu, std::span<const double> sigma,
                         const VbqSettings& settings, std::span<const uint64_t> shape) {
  CodeKeys keys = quantize(prior, mu, sigma, settings.lambda, settings.threads, settings.max_rate_bits);
  if (settings.refine_passes > 0)
    keys = refine_code_points(prior, mu, sigma, settings.lambda, std::move(keys), settings.refine_passes,
                              settings.threads, nullptr,
                              settings.block_tables ? row_block_symbols(tensor_shape(shape, mu.size())) : 0);
  mark_escapes(prior, mu, sigma, settings.lambda, keys, settings.threads);
  EncodedTensor t = encode_vbq_keys(prior, keys, mu, settings, shape);  // keys now hold the symbols
  if (settings.levels != LevelRule::inverse_cdf)
    set_centroid_levels(t, keys, mu, settings.levels == LevelRule::precision_centroid ? sigma : std::span<const double>{},
                        settings.threads);
  if (settings.row_gains) set_row_gains(t, keys, mu, settings.threads);
  return t;
}

// The alphabet index of each element's symbol. Throws ErrorKind::argument naming
// the first element whose symbol the alphabet does not hold.
static std::vector<uint32_t> alphabet_indices(const EncodedTensor& t, std::span<const uint64_t> symbols,
                                              [[maybe_unused]] int threads) {
  const std::vector<uint64_t>& alphabet = t.symbols.alphabet;
  std::vector<uint32_t> index(symbols.size());
  int64_t first_bad = int64_t(symbols.size());
VBQ_OMP(parallel for schedule(static) num_threads(resolve_threads(threads)) reduction(min : first_bad))
  for (int64_t i = 0; i < int64_t(symbols.size()); ++i) {
    const auto it = std::lower_bound(alphabet.begin(), alphabet.end(), symbols[size_t(i)]);
    if (it == alphabet.end() || *it != symbols[size_t(i)]) first_bad = std::min(first_bad, i);
    else index[size_t(i)] = uint32_t(it - alphabet.begin());
  }
  if (first_bad < int64_t(symbols.size()))
    throw Error(ErrorKind::argument, "tensor '" + t.name + "': element " + std::to_string(first_bad) + " has symbol " +
                                         std::to_string(symbols[size_t(first_bad)]) + ", which the alphabet does not hold");
  return index;
}

void set_centroid_levels(EncodedTensor& t, std::span<const uint64_t> symbols, std::span<const double> mu,
                         std::span<const double> sigma, [[maybe_unused]] int threads) {
  const std::vector<uint64_t>& alphabet = t.symbols.alphabet;
  if (symbols.size() != mu.size() || (!sigma.empty() && sigma.size() != mu.size()))
    throw Error(ErrorKind::argument, "tensor '" + t.name + "': centroid levels need one mean (and sigma) per symbol");
  if (t.levels.size() != alphabet.size())
    throw Error(ErrorKind::argument, "tensor '" + t.name + "': centroid levels need a level per alphabet symbol");
  const std::vector<uint32_t> index = alphabet_indices(t, symbols, threads);
  // Per-symbol sums of w mu and w over a fixed number of chunks, added in chunk
  // order, so that the levels do not depend on the thread count.
  constexpr int64_t kChunks = 16;
  const size_t n = mu.size(), k = alphabet.size();
  std::vector<std::vector<double>> sum(kChunks, std::vector<double>(k, 0.0)), weight(kChunks, std::vector<double>(k, 0.0));
VBQ_OMP(parallel for schedule(dynamic, 1) num_threads(resolve_threads(threads)))
  for (int64_t c = 0; c < kChunks; ++c) {
    const size_t begin = n * size_t(c) / kChunks, end = n * size_t(c + 1) / kChunks;
    for (size_t i = begin; i < end; ++i) {
      const double w = sigma.empty() ? 1.0 : 1.0 / (sigma[i] * sigma[i]);
      sum[size_t(c)][index[i]] += w * mu[i], weight[size_t(c)][index[i]] += w;
    }
  }
  for (size_t j = 0; j < k; ++j) {
    if (alphabet[j] == kEscapeSymbol) continue;  // escaped elements carry their own means
    double s = 0, w = 0;
    for (int64_t c = 0; c < kChunks; ++c) s += sum[size_t(c)][j], w += weight[size_t(c)][j];
    if (w > 0) t.levels[j] = s / w;
  }
}

uint64_t gain_rows_for(std::span<const uint64_t> shape) {
  const uint64_t row = row_elements(shape), rows = shape.empty() ? 1 : shape[0];
  return std::min(rows, row >= kGainGroupElements ? 1 : (kGainGroupElements + row - 1) / row);
}

void set_row_gains(EncodedTensor& t, std::span<const uint64_t> symbols, std::span<const double> mu,
                   [[maybe_unused]] int threads) {
  const std::vector<uint64_t>& alphabet = t.symbols.alphabet;
  if (t.quantizer != QuantizerKind::vbq || t.levels.size() != alphabet.size() || symbols.size() != mu.size() ||
      mu.size() != t.element_count())
    throw Error(ErrorKind::argument, "tensor '" + t.name + "': row gains need a vbq tensor with levels and one "
                                     "mean and symbol per element");
  t.gain_rows = gain_rows_for(t.shape);
  const uint64_t per_group = t.gain_rows * row_elements(t.shape);
  const int64_t groups = int64_t((mu.size() + per_group - 1) / per_group);
  t.gains.assign(size_t(groups), 1.0);
  const std::vector<uint32_t> index = alphabet_indices(t, symbols, threads);
VBQ_OMP(parallel for schedule(static) num_threads(resolve_threads(threads)))
  for (int64_t k = 0; k < groups; ++k) {
    double means = 0, levels = 0;  // sums of squares, in element order
    for (size_t i = size_t(k) * per_group; i < std::min<size_t>(mu.size(), size_t(k + 1) * per_group); ++i) {
      if (symbols[i] == kEscapeSymbol) continue;  // escaped elements carry their own means
      const double level = to_dtype(t, t.levels[index[i]]);
      means += mu[i] * mu[i], levels += level * level;
    }
    if (means > 0 && levels > 0 && std::isfinite(means / levels)) t.gains[size_t(k)] = to_dtype(t, std::sqrt(means / levels));
  }
}

EncodedTensor encode_vbq_keys(const Prior& prior, std::span<uint64_t> keys, std::span<const double> mu,
                              const VbqSettings& settings, std::span<const uint64_t> shape) {
  if (keys.size() != mu.size()) throw Error(ErrorKind::argument, "encode_vbq_keys: keys and means differ in size");
  EncodedTensor t = vbq_header(prior, settings);
  escape_keys(keys, rare_code_points(symbol_counts(keys)), settings.threads);
  encode_rows(t, keys, shape, settings.threads, settings.block_tables, settings.coder);
  collect_escapes(t, mu, keys);
  set_levels(t, prior);
  return t;
}

EncodedTensor plan_vbq_tensor(const Prior& prior, std::span<const SymbolCounts> blocks, const VbqSettings& settings,
                              std::span<const uint64_t> shape) {
  EncodedTensor t = vbq_header(prior, settings);
  // The whole tensor's counts, merged from the blocks'.
  std::map<uint64_t, uint64_t> merged;
  uint64_t elements = 0;
  for (const SymbolCounts& h : blocks) {
    if (h.symbols.size() != h.counts.size() || !std::is_sorted(h.symbols.begin(), h.symbols.end()))
      throw Error(ErrorKind::argument, "plan_vbq_tensor: a block's keys must be ascending, one count each");
    for (size_t i = 0; i < h.symbols.size(); ++i) merged[h.symbols[i]] += h.counts[i], elements += h.counts[i];
  }
  SymbolCounts all;
  for (const auto& [key, count] : merged) all.symbols.push_back(key), all.counts.push_back(count);
  t.shape = tensor_shape(shape, elements);
  // The alphabet after escape_rare_code_points: the escape first if anything escapes.
  const std::vector<uint64_t> rare = rare_code_points(all);
  std::vector<uint64_t> alphabet;
  if (!rare.empty() && all.symbols.front() != kEscapeSymbol) alphabet.push_back(kEscapeSymbol);
  for (uint64_t key : all.symbols)
    if (!std::binary_search(rare.begin(), rare.end(), key)) alphabet.push_back(key);
  std::vector<std::vector<uint64_t>> block_counts(blocks.size(), std::vector<uint64_t>(alphabet.size(), 0));
  for (size_t b = 0; b < blocks.size(); ++b)
    for (size_t i = 0; i < blocks[b].symbols.size(); ++i) {
      const uint64_t key = std::binary_search(rare.begin(), rare.end(), blocks[b].symbols[i]) ? kEscapeSymbol
                                                                                              : blocks[b].symbols[i];
      block_counts[b][size_t(std::lower_bound(alphabet.begin(), alphabet.end(), key) - alphabet.begin())] +=
          blocks[b].counts[i];
    }
  t.symbols = plan_symbol_stream(std::move(alphabet), std::move(block_counts), row_block_symbols(t.shape),
                                 settings.block_tables, settings.coder, row_elements(t.shape));
  set_levels(t, prior);
  return t;
}

uint64_t max_rare_count(uint64_t elements) {
  // rare_code_points escapes a code point of count c only when
  // c (32 + log2(n / (E + c))) < 8 (varint + 5) + c log2(n / c), with E + c <= n
  // and a varint of at most 10 bytes: only when c (32 - log2(n / c)) < 120,
  // whose left side grows with c once it is positive. 121 leaves room for rounding.
  const double n = double(elements);
  uint64_t c = 1;
  while (c <= elements && double(c) * (32 - std::log2(n / double(c))) < 121) ++c;
  return c - 1;
}

// Which entries of a block's histogram are escape candidates (escape_candidates).
static std::vector<char> candidate_entries(const SymbolCounts& histogram, uint64_t elements) {
  const uint64_t rare = max_rare_count(elements);
  std::vector<char> out(histogram.symbols.size());
  for (size_t j = 0; j < out.size(); ++j)
    out[j] = histogram.symbols[j] == kEscapeSymbol || histogram.counts[j] <= rare;
  return out;
}

std::vector<double> escape_candidates(const SymbolCounts& histogram, std::span<const uint32_t> indices,
                                      std::span<const double> mu, uint64_t elements) {
  if (indices.size() != mu.size())
    throw Error(ErrorKind::argument, "escape_candidates: keys and means differ in size");
  const std::vector<char> candidate = candidate_entries(histogram, elements);
  std::vector<double> out;
  for (size_t i = 0; i < indices.size(); ++i)
    if (indices[i] < candidate.size() && candidate[indices[i]]) out.push_back(mu[i]);
  return out;
}

EncodedBlock encode_vbq_block(const EncodedTensor& plan, uint64_t b, std::span<const uint64_t> keys,
                              std::span<const double> mu) {
  if (keys.size() != mu.size()) throw Error(ErrorKind::argument, "encode_vbq_block: keys and means differ in size");
  UninitializedVector<uint32_t> indices(keys.size());
  const SymbolCounts histogram = symbol_counts(keys, indices);
  return encode_vbq_block(plan, b, histogram, indices, escape_candidates(histogram, indices, mu, plan.element_count()));
}

EncodedBlock encode_vbq_block(const EncodedTensor& plan, uint64_t b, const SymbolCounts& histogram,
                              std::span<const uint32_t> indices, std::span<const double> candidates) {
  const std::vector<uint64_t>& alphabet = plan.symbols.alphabet;
  const std::string where = "tensor '" + plan.name + "': block " + std::to_string(b);
  // Keys outside the alphabet are the rare code points that the plan escaped.
  std::vector<uint64_t> distinct = histogram.symbols;
  for (uint64_t& key : distinct) {
    if (std::binary_search(alphabet.begin(), alphabet.end(), key)) continue;
    if (!has_escape(plan))
      throw Error(ErrorKind::argument, where + " holds code point " + std::to_string(key) + ", which the plan does not know");
    key = kEscapeSymbol;
  }
  EncodedBlock out;
  out.bytes = encode_block(plan.symbols, b, distinct, indices);  // checks the indices
  // Each histogram entry's role: 0 no candidate, 1 a candidate kept, 2 one escaped.
  const std::vector<char> candidate = candidate_entries(histogram, plan.element_count());
  std::vector<uint8_t> role(distinct.size());
  size_t expected = 0;
  bool escapes = false;
  for (size_t j = 0; j < role.size(); ++j) {
    if (distinct[j] == kEscapeSymbol && !candidate[j])
      throw Error(ErrorKind::argument, where + " escapes code point " + std::to_string(histogram.symbols[j]) +
                                           ", which is no escape candidate");
    role[j] = candidate[j] ? (distinct[j] == kEscapeSymbol ? 2 : 1) : 0;
    expected += candidate[j] ? histogram.counts[j] : 0;
    escapes = escapes || role[j] == 2;
  }
  if (candidates.size() != expected)
    throw Error(ErrorKind::argument, where + ": " + std::to_string(candidates.size()) + " escape candidates for " +
                                         std::to_string(expected));
  size_t next = 0;
  for (size_t i = 0; escapes && i < indices.size(); ++i) {
    const uint8_t r = role[indices[i]];
    if (r == 2) out.escapes.push_back(candidates[next]);
    next += r != 0;
  }
  return out;
}

std::vector<SymbolCounts> block_histograms(std::span<const uint64_t> keys, uint64_t block_symbols,
                                           [[maybe_unused]] int threads, std::span<uint32_t> indices) {
  if (block_symbols == 0) throw Error(ErrorKind::argument, "block_histograms: block size must be > 0");
  if (!indices.empty() && indices.size() != keys.size())
    throw Error(ErrorKind::argument, "block_histograms: one index per key");
  const int64_t blocks = int64_t((keys.size() + block_symbols - 1) / block_symbols);
  std::vector<SymbolCounts> out(static_cast<size_t>(blocks));
VBQ_OMP(parallel for schedule(dynamic, 1) num_threads(resolve_threads(threads)))
  for (int64_t b = 0; b < blocks; ++b) {
    const uint64_t begin = uint64_t(b) * block_symbols, end = std::min<uint64_t>(begin + block_symbols, keys.size());
    out[size_t(b)] = symbol_counts(keys.subspan(begin, end - begin),
                                   indices.empty() ? indices : indices.subspan(begin, end - begin));
  }
  return out;
}

std::vector<EncodedBlock> encode_vbq_blocks(const EncodedTensor& plan, uint64_t first_block,
                                            std::span<const SymbolCounts> histograms, std::span<const uint32_t> indices,
                                            std::span<const std::vector<double>> candidates, [[maybe_unused]] int threads) {
  const uint64_t per = plan.symbols.block_symbols;
  const int64_t blocks = int64_t((indices.size() + per - 1) / per);
  if (histograms.size() != size_t(blocks) || candidates.size() != size_t(blocks))
    throw Error(ErrorKind::argument, "encode_vbq_blocks: " + std::to_string(histograms.size()) + " histograms and " +
                                         std::to_string(candidates.size()) + " candidate lists for " +
                                         std::to_string(blocks) + " blocks");
  std::vector<EncodedBlock> out(static_cast<size_t>(blocks));
  std::string first_error;
VBQ_OMP(parallel for schedule(dynamic, 1) num_threads(resolve_threads(threads)))
  for (int64_t b = 0; b < blocks; ++b) {
    const uint64_t begin = uint64_t(b) * per, end = std::min<uint64_t>(begin + per, indices.size());
    try {
      out[size_t(b)] = encode_vbq_block(plan, first_block + uint64_t(b), histograms[size_t(b)],
                                        indices.subspan(begin, end - begin), candidates[size_t(b)]);
    } catch (const Error& e) {
VBQ_OMP(critical)
      if (first_error.empty()) first_error = e.what();
    }
  }
  if (!first_error.empty()) throw Error(ErrorKind::argument, first_error);
  return out;
}

std::vector<std::vector<double>> block_escape_candidates(std::span<const SymbolCounts> histograms,
                                                         std::span<const uint32_t> indices, std::span<const double> mu,
                                                         uint64_t block_symbols, uint64_t elements,
                                                         [[maybe_unused]] int threads) {
  if (indices.size() != mu.size() || block_symbols == 0 ||
      histograms.size() != (indices.size() + block_symbols - 1) / block_symbols)
    throw Error(ErrorKind::argument, "block_escape_candidates: one histogram per block, one mean per index");
  const uint64_t per = block_symbols;
  std::vector<std::vector<double>> out(histograms.size());
VBQ_OMP(parallel for schedule(dynamic, 1) num_threads(resolve_threads(threads)))
  for (int64_t b = 0; b < int64_t(histograms.size()); ++b) {
    const uint64_t begin = std::min<uint64_t>(uint64_t(b) * per, indices.size());
    const uint64_t end = std::min<uint64_t>(begin + per, indices.size());
    out[size_t(b)] = escape_candidates(histograms[size_t(b)], indices.subspan(begin, end - begin),
                                       mu.subspan(begin, end - begin), elements);
  }
  return out;
}

std::vector<int32_t> grid_values(std::span<const double> mu, int q_max, double* scale_out) {
  if (q_max < 1) throw Error(ErrorKind::argument, "grid q_max must be >= 1");
  double max_abs = 0;
  for (double x : mu) max_abs = std::max(max_abs, std::fabs(x));
  double scale = max_abs > 0 ? (q_max + 0.5) / max_abs : 1.0;
  std::vector<int32_t> q(mu.size());
  for (size_t i = 0; i < mu.size(); ++i)
    q[i] = int32_t(std::nearbyint(std::clamp(scale * mu[i], -double(q_max), double(q_max))));
  if (scale_out) *scale_out = scale;
  return q;
}

EncodedTensor encode_grid(std::span<const double> mu, int q_max, int threads, std::span<const uint64_t> shape,
                          EntropyCoder coder) {
  EncodedTensor t;
  t.quantizer = QuantizerKind::grid;
  double scale = 0;
  std::vector<int32_t> q = grid_values(mu, q_max, &scale);
  t.values = {scale};
  std::vector<uint64_t> symbols(q.size());
  for (size_t i = 0; i < q.size(); ++i) symbols[i] = zigzag(q[i]);
  encode_rows(t, symbols, shape, threads, true, coder);
  return t;
}

EncodedTensor encode_codebook(std::span<const double> mu, std::vector<double> centroids, int threads,
                              std::span<const uint64_t> shape, EntropyCoder coder) {
  if (centroids.empty() || !std::is_sorted(centroids.begin(), centroids.end()))
    throw Error(ErrorKind::argument, "codebook centroids must be nonempty and sorted");
  EncodedTensor t;
  t.quantizer = QuantizerKind::codebook;
  std::vector<uint64_t> symbols(mu.size());
  const int64_t n = int64_t(mu.size());
VBQ_OMP(parallel for schedule(static) num_threads(resolve_threads(threads)))
  for (int64_t i = 0; i < n; ++i) {
    size_t j = std::lower_bound(centroids.begin(), centroids.end(), mu[i]) - centroids.begin();
    if (j == centroids.size() || (j > 0 && mu[i] - centroids[j - 1] <= centroids[j] - mu[i])) --j;
    symbols[i] = j;
  }
  t.values = std::move(centroids);
  encode_rows(t, symbols, shape, threads, true, coder);
  return t;
}

std::vector<double> alphabet_values(const EncodedTensor& t) {
  const auto& alphabet = t.symbols.alphabet;
  std::vector<double> values(alphabet.size());
  switch (t.quantizer) {
    case QuantizerKind::vbq: {
      // Levels come with escapes (4.0); without them, the escape symbol is invalid.
      const bool levels = !t.levels.empty();
      if (levels && t.levels.size() != alphabet.size())
        throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': " + std::to_string(t.levels.size()) +
                                            " reconstruction values for " + std::to_string(alphabet.size()) +
                                            " symbols");
      std::unique_ptr<Prior> prior = make_prior(t.prior_family, t.prior_parameters);
      for (size_t i = 0; i < alphabet.size(); ++i) {
        uint64_t key = alphabet[i];
        if (levels && i == 0 && key == kEscapeSymbol) continue;
        if (key < 2 || rate_bits(key) > kMaxRateBits || (key & 1) == 0)
          throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': invalid code point " + std::to_string(key) +
                                              " at table index " + std::to_string(i));
        values[i] = levels ? t.levels[i] : reconstruct(*prior, key);
      }
      return values;
    }
    case QuantizerKind::grid: {
      if (t.values.size() != 1 || !(t.values[0] > 0) || !std::isfinite(t.values[0]))
        throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': invalid grid scale");
      for (size_t i = 0; i < alphabet.size(); ++i) values[i] = double(unzigzag(alphabet[i])) / t.values[0];
      return values;
    }
    case QuantizerKind::codebook: {
      for (size_t i = 0; i < alphabet.size(); ++i) {
        if (alphabet[i] >= t.values.size())
          throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': codebook index " + std::to_string(alphabet[i]) +
                                              " out of range at table index " + std::to_string(i));
        values[i] = t.values[alphabet[i]];
      }
      return values;
    }
  }
  throw Error(ErrorKind::unsupported, "tensor '" + t.name + "': unknown quantizer");
}

double to_dtype(const EncodedTensor& t, double v) { return t.float32 ? double(float(v)) : v; }

bool has_escape(const EncodedTensor& t) {
  return t.quantizer == QuantizerKind::vbq && !t.symbols.alphabet.empty() && t.symbols.alphabet[0] == kEscapeSymbol;
}

// Reconstructed values of the alphabet indices of blocks [first_block,
// first_block + #blocks), in parallel over the blocks: the symbol's value, or for
// the escape symbol the block's next escaped mean in the dtype. The last block
// may be cut short (a row read decodes up to its row): it may then have fewer
// escape symbols than it lists. The first `skip` indices (a row read's lead-in,
// within the first block) are only counted for escapes: the result holds the
// values of indices[skip..).
static std::vector<double> reconstruct_blocks(const EncodedTensor& t, uint64_t first_block,
                                              std::span<const uint32_t> indices, [[maybe_unused]] int threads,
                                              uint64_t skip = 0) {
  // vbq levels are values of the dtype (as a 4.0 file stores them); computed ones
  // (older files, grid, codebook) stay as computed.
  std::vector<double> values = alphabet_values(t);
  if (!t.levels.empty())
    for (double& v : values) v = to_dtype(t, v);
  const SymbolStream& s = t.symbols;
  const bool escape = has_escape(t);
  // row-group gains: element e's gain is gains[e / per_group]
  const uint64_t per_group = t.gain_rows * row_elements(t.shape), base = first_block * s.block_symbols;
  if (!t.column_means.empty() && t.column_means.size() != row_elements(t.shape))
    throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': " + std::to_string(t.column_means.size()) +
                                        " column means for rows of " + std::to_string(row_elements(t.shape)));
  if (!t.gains.empty() && (per_group == 0 || t.gains.size() != (s.count + per_group - 1) / per_group))
    throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': " + std::to_string(t.gains.size()) +
                                        " row-group gains for groups of " + std::to_string(t.gain_rows) + " rows");
  // escape_start[b]: index in t.escapes of block b's first escaped mean
  std::vector<uint64_t> escape_start(s.blocks.size() + 1, 0);
  if (escape) {
    if (t.block_escapes.size() != s.blocks.size())
      throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': escape counts for " +
                                          std::to_string(t.block_escapes.size()) + " of " +
                                          std::to_string(s.blocks.size()) + " blocks");
    for (size_t b = 0; b < s.blocks.size(); ++b) escape_start[b + 1] = escape_start[b] + t.block_escapes[b];
    if (escape_start.back() != t.escapes.size())
      throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': escape counts add up to " +
                                          std::to_string(escape_start.back()) + ", the list holds " +
                                          std::to_string(t.escapes.size()));
  }
  if (skip >= std::max<uint64_t>(indices.size(), 1) || skip >= s.block_symbols)
    throw Error(ErrorKind::argument, "reconstruct: lead-in " + std::to_string(skip) + " outside the first block");
  std::vector<double> out(indices.size() - skip);
  const int64_t blocks = int64_t((indices.size() + s.block_symbols - 1) / s.block_symbols);
  std::string first_error;
VBQ_OMP(parallel for schedule(static) num_threads(resolve_threads(threads)))
  for (int64_t k = 0; k < blocks; ++k) {
    const uint64_t b = first_block + uint64_t(k), begin = uint64_t(k) * s.block_symbols;
    const uint64_t end = std::min<uint64_t>(begin + s.block_symbols, indices.size());
    const uint64_t from = std::max(begin, skip);
    uint64_t next = escape_start[b];
    if (escape) next += uint64_t(std::count(indices.begin() + begin, indices.begin() + from, 0u));
    bool more = next > escape_start[b + 1];  // more escape symbols than escaped means
    for (uint64_t i = from; i < end && !more; ++i) {
      const uint32_t x = indices[i];
      double& v = out[i - skip];
      if (escape && x == 0) {
        more = next == escape_start[b + 1];
        if (!more) v = to_dtype(t, t.escapes[next++]);
      } else {
        v = t.gains.empty() ? values[x] : to_dtype(t, values[x] * t.gains[(base + i) / per_group]);
      }
      if (!t.column_means.empty()) v = to_dtype(t, v + t.column_means[(base + i) % t.column_means.size()]);
    }
    const bool whole = end - begin == std::min<uint64_t>(s.block_symbols, s.count - b * s.block_symbols);
    if (more || (whole && next != escape_start[b + 1])) {
VBQ_OMP(critical)
      if (first_error.empty())
        first_error = "tensor '" + t.name + "': block " + std::to_string(b) + " lists " +
                      std::to_string(t.block_escapes[b]) + " escaped values but decodes " +
                      (more ? "more" : "fewer") + " escape symbols";
    }
  }
  if (!first_error.empty()) throw Error(ErrorKind::corrupt, first_error);
  return out;
}

static void check_symbol_count(const EncodedTensor& t) {
  if (t.symbols.count != t.element_count())
    throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': symbol count " + std::to_string(t.symbols.count) +
                                        " differs from the shape's " + std::to_string(t.element_count()));
}

std::vector<double> decode_tensor(const EncodedTensor& t, int threads) {
  check_symbol_count(t);
  std::vector<uint32_t> indices(t.symbols.count);
  decode_symbol_indices(t.symbols, indices, threads);
  return reconstruct_blocks(t, 0, indices, threads);
}

std::vector<double> decode_blocks(const EncodedTensor& t, uint64_t first_block, uint64_t blocks, int threads) {
  check_symbol_count(t);
  const SymbolStream& s = t.symbols;
  const uint64_t begin = std::min(first_block * s.block_symbols, s.count);
  const uint64_t end = std::min(begin + blocks * s.block_symbols, s.count);
  if (begin == end) return {};
  UninitializedVector<uint32_t> indices(end - begin);
  decode_symbol_blocks(s, first_block, indices, threads);
  return reconstruct_blocks(t, first_block, indices, threads);
}

std::vector<double> element_code_lengths(const EncodedTensor& t, int threads) {
  check_symbol_count(t);
  const SymbolStream& s = t.symbols;
  std::vector<uint32_t> indices(s.count);
  decode_symbol_indices(s, indices, threads);
  if (s.coder == EntropyCoder::context) {
    std::vector<double> out;
    out.reserve(indices.size());
    for (uint64_t begin = 0; begin < s.count; begin += s.block_symbols) {
      const uint64_t end = std::min(begin + s.block_symbols, s.count);
      const std::vector<double> bits =
          context_code_lengths_block(std::span(indices).subspan(begin, end - begin), uint32_t(s.alphabet.size()),
                                     s.row_length, begin % s.row_length);
      out.insert(out.end(), bits.begin(), bits.end());
    }
    return out;
  }
  std::vector<std::vector<double>> cost(s.tables.size());
  for (size_t k = 0; k < cost.size(); ++k)
    for (uint32_t f : s.tables[k].freq)
      cost[k].push_back(double(s.tables[k].precision_bits) - std::log2(double(f)));
  std::vector<double> out(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) out[i] = cost[s.block_table[i / s.block_symbols]][indices[i]];
  return out;
}

uint64_t row_count(const EncodedTensor& t) { return t.shape.empty() ? 0 : t.shape[0]; }

uint64_t row_length(const EncodedTensor& t) { return row_elements(t.shape); }

BlockRange row_blocks(const EncodedTensor& t, uint64_t first_row, uint64_t count) {
  const uint64_t len = row_length(t), per = t.symbols.block_symbols;
  return {first_row * len / per, ((first_row + count) * len - 1) / per + 1};
}

std::vector<double> decode_rows(const EncodedTensor& t, uint64_t first, uint64_t count) {
  check_symbol_count(t);
  const uint64_t rows = row_count(t);
  if (first > rows || count > rows - first)
    throw Error(ErrorKind::argument, "tensor '" + t.name + "': rows " + std::to_string(first) + ".." +
                                         std::to_string(first + count) + " out of range (it has " +
                                         std::to_string(rows) + " rows)");
  const uint64_t len = row_length(t), begin = first * len, end = (first + count) * len;
  if (begin == end) return {};
  // From the start of the first block that holds the rows to their end: a
  // block's escaped means are found by counting its escape symbols from its
  // start, and a rANS block decodes forward, so nothing after the rows is read.
  const SymbolStream& s = t.symbols;
  const uint64_t first_block = row_blocks(t, first, count).first, block_begin = first_block * s.block_symbols;
  UninitializedVector<uint32_t> indices(end - block_begin);
  decode_symbol_range(s, block_begin, end, indices);
  return reconstruct_blocks(t, first_block, indices, 1, begin - block_begin);
}

}  // namespace vbq
