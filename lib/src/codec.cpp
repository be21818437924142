#include "vbq/codec.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "vbq/context_coder.hpp"
#include "vbq/error.hpp"
#include "vbq/quantizer.hpp"
#include "vbq/refinement.hpp"

namespace vbq {

static int resolve_threads(int threads) { return threads > 0 ? threads : omp_get_num_procs(); }

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

std::vector<std::string> auto_prior_candidates() { return {"gauss", "laplace", "student", "mixture:4", "empirical:16"}; }

void check_prior_spec(const std::string& spec, std::span<const double> sample) {
  if (spec != "auto") (void)fit_prior(spec, sample);
}

// Lagrangian of an encoding in bits: payload + tables (~3 bytes per code point,
// ~2 more per extra frequency table) + prior parameters + distortion / (2 lambda sigma^2).
static double lagrangian_bits(const EncodedTensor& t, std::span<const double> mu, std::span<const double> sigma,
                              int threads) {
  std::vector<double> x = decode_tensor(t, threads);
  const uint64_t points = t.symbols.alphabet.size(), tables = t.symbols.tables.size();
  const uint64_t extra_tables = tables > 1 ? tables - 1 : 0;  // the context coder has none
  double bits = 8.0 * double(t.symbols.payload_bytes() + (3 + 2 * extra_tables) * points + 8 * t.prior_parameters.size());
  for (size_t i = 0; i < x.size(); ++i) bits += (x[i] - mu[i]) * (x[i] - mu[i]) / (2 * t.lambda * sigma[i] * sigma[i]);
  return bits;
}

EncodedTensor encode_vbq(std::span<const double> mu, std::span<const double> sigma, const VbqSettings& settings,
                         std::span<const uint64_t> shape) {
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

EncodedTensor encode_vbq(const Prior& prior, std::span<const double> mu, std::span<const double> sigma,
                         const VbqSettings& settings, std::span<const uint64_t> shape) {
  EncodedTensor t;
  t.quantizer = QuantizerKind::vbq;
  t.prior_family = prior.family();
  t.prior_parameters = prior.parameters();
  t.lambda = settings.lambda;
  t.max_rate_bits = uint8_t(settings.max_rate_bits);
  CodeKeys keys = quantize(prior, mu, sigma, settings.lambda, settings.threads, settings.max_rate_bits);
  if (settings.refine_passes > 0)
    keys = refine_code_points(prior, mu, sigma, settings.lambda, std::move(keys), settings.refine_passes,
                              settings.threads, nullptr,
                              settings.block_tables ? row_block_symbols(tensor_shape(shape, mu.size())) : 0);
  encode_rows(t, keys, shape, settings.threads, settings.block_tables, settings.coder);
  return t;
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
#pragma omp parallel for schedule(static) num_threads(resolve_threads(threads))
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
      std::unique_ptr<Prior> prior = make_prior(t.prior_family, t.prior_parameters);
      for (size_t i = 0; i < alphabet.size(); ++i) {
        uint64_t key = alphabet[i];
        if (key < 2 || rate_bits(key) > kMaxRateBits || (key & 1) == 0)
          throw Error(ErrorKind::corrupt, "tensor '" + t.name + "': invalid code point " + std::to_string(key) +
                                              " at table index " + std::to_string(i));
        values[i] = reconstruct(*prior, key);
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

// Reconstructed values of the alphabet indices, in parallel.
static std::vector<double> reconstruct_indices(const EncodedTensor& t, std::span<const uint32_t> indices,
                                               int threads) {
  std::vector<double> values = alphabet_values(t);
  std::vector<double> out(indices.size());
  const int64_t n = int64_t(indices.size());
#pragma omp parallel for schedule(static) num_threads(resolve_threads(threads))
  for (int64_t i = 0; i < n; ++i) out[i] = values[indices[i]];
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
  return reconstruct_indices(t, indices, threads);
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

std::vector<double> decode_rows(const EncodedTensor& t, uint64_t first, uint64_t count) {
  check_symbol_count(t);
  const uint64_t rows = row_count(t);
  if (first > rows || count > rows - first)
    throw Error(ErrorKind::argument, "tensor '" + t.name + "': rows " + std::to_string(first) + ".." +
                                         std::to_string(first + count) + " out of range (it has " +
                                         std::to_string(rows) + " rows)");
  const uint64_t len = row_length(t);
  std::vector<uint32_t> indices(count * len);
  decode_symbol_range(t.symbols, first * len, (first + count) * len, indices);
  return reconstruct_indices(t, indices, 1);
}

}  // namespace vbq
