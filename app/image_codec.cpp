#include "app/image_codec.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <string_view>

#include "formats/byte_io.hpp"
#include "formats/crc32c.hpp"
#include "vbq/error.hpp"
#include "vbq/prior.hpp"
#include "vbq/quantizer.hpp"
#include "vbq/refinement.hpp"

namespace vbq {
namespace {

constexpr char kMagic[4] = {'V', 'B', 'Q', 'I'};
constexpr uint8_t kMajor = 1, kMinor = 1;

uint64_t zigzag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
int64_t unzigzag(uint64_t u) { return int64_t(u >> 1) ^ -int64_t(u & 1); }

// The grid index of mu (uniform), clamped far inside int64.
int64_t grid_index(double mu, double delta) { return int64_t(std::llround(std::clamp(mu / delta, -1e15, 1e15))); }

bool refined(LatentMethod m) { return m == LatentMethod::vbq_refine || m == LatentMethod::vbq_wide_refine; }

// The code points of a VBQ method: the quantiles of N(0, 1), the VAE's prior, or of
// N(0, kWideGridStd^2) for vbq+wide+refine.
const CodePointTable& code_points(LatentMethod m) {
  static const GaussianPrior standard(0.0, 1.0), wide(0.0, kWideGridStd);
  static const CodePointTable standard_table(standard), wide_table(wide);
  return m == LatentMethod::vbq_wide_refine ? wide_table : standard_table;
}

// The unrestricted code point of one coordinate (Algorithm 1 or the grid).
uint64_t code_point(LatentMethod method, double parameter, double mu, double sigma) {
  if (method == LatentMethod::uniform) return zigzag(grid_index(mu, parameter));
  return quantize_one(code_points(method), mu, sigma, parameter);
}

std::string_view as_chars(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

const char* latent_method_name(LatentMethod m) {
  switch (m) {
    case LatentMethod::vbq: return "vbq";
    case LatentMethod::uniform: return "uniform";
    case LatentMethod::vbq_refine: return "vbq+refine";
    case LatentMethod::vbq_wide_refine: return "vbq+wide+refine";
  }
  return "?";
}

LatentTables latent_tables(LatentMethod method, double parameter, std::span<const double> mu,
                           std::span<const double> sigma, size_t dims) {
  if (!(parameter > 0) || !std::isfinite(parameter))
    throw Error(ErrorKind::argument, std::string(method == LatentMethod::uniform ? "grid spacing" : "lambda") +
                                         " must be > 0 and finite");
  if (dims == 0 || mu.empty() || mu.size() % dims || sigma.size() != mu.size())
    throw Error(ErrorKind::argument, "code-table posteriors: mu and sigma must both hold [m, dims] values, m >= 1");
  LatentTables t;
  t.method = method, t.parameter = parameter, t.dims = dims;
  std::vector<std::map<uint64_t, uint64_t>> counts(dims);
  if (refined(method)) {
    const Prior& prior = code_points(method).prior();
    const size_t m = mu.size() / dims;
    std::vector<double> mu_d(m), sigma_d(m);
    for (size_t d = 0; d < dims; ++d) {
      for (size_t i = 0; i < m; ++i) mu_d[i] = mu[i * dims + d], sigma_d[i] = sigma[i * dims + d];
      CodeKeys keys = quantize(prior, mu_d, sigma_d, parameter, 1);
      keys = refine_code_points(prior, mu_d, sigma_d, parameter, std::move(keys), kLatentRefinePasses, 1);
      for (size_t i = 0; i < m; ++i) ++counts[d][keys[i]];
    }
  } else {
    for (size_t i = 0; i < mu.size(); ++i) ++counts[i % dims][code_point(method, parameter, mu[i], sigma[i])];
  }
  for (size_t d = 0; d < dims; ++d) {
    std::vector<uint64_t> keys, c;
    std::vector<double> values;
    for (const auto& [k, n] : counts[d]) {
      keys.push_back(k), c.push_back(n);
      values.push_back(method == LatentMethod::uniform ? double(unzigzag(k)) * parameter
                                                       : code_points(method).reconstruct(k));
    }
    t.tables.push_back(FrequencyTable::from_counts(c, default_precision_bits(c.size())));
    t.keys.push_back(std::move(keys));
    t.values.push_back(std::move(values));
  }
  return t;
}

std::vector<uint32_t> quantize_latents(const LatentTables& t, std::span<const double> mu,
                                       std::span<const double> sigma) {
  if (mu.size() % t.dims || sigma.size() != mu.size())
    throw Error(ErrorKind::argument, "posteriors must hold [n, " + std::to_string(t.dims) + "] values");
  std::vector<uint32_t> out(mu.size());
  if (refined(t.method)) {
    // Eq. 9 over the table with the coder's code lengths -log2(freq / 2^precision).
    std::vector<std::vector<double>> code_bits(t.dims);
    for (size_t d = 0; d < t.dims; ++d)
      for (uint32_t f : t.tables[d].freq) code_bits[d].push_back(double(t.tables[d].precision_bits) - std::log2(double(f)));
    for (size_t i = 0; i < mu.size(); ++i) {
      const size_t d = i % t.dims;
      const double rate_weight = 2 * t.parameter * sigma[i] * sigma[i];
      double best = INFINITY;
      for (size_t j = 0; j < t.keys[d].size(); ++j) {
        const double err = t.values[d][j] - mu[i], loss = err * err + rate_weight * code_bits[d][j];
        if (loss < best) best = loss, out[i] = uint32_t(j);
      }
    }
    return out;
  }
  for (size_t i = 0; i < mu.size(); ++i) {
    const size_t d = i % t.dims;
    const auto& keys = t.keys[d];
    const uint64_t k = code_point(t.method, t.parameter, mu[i], sigma[i]);
    auto it = std::lower_bound(keys.begin(), keys.end(), k);
    if (it != keys.end() && *it == k) {
      out[i] = uint32_t(it - keys.begin());
      continue;
    }
    // Not in the table: the table's code point of least Eq. 9 loss (vbq) or nearest value (uniform).
    double best = INFINITY;
    for (size_t j = 0; j < keys.size(); ++j) {
      const double err = t.values[d][j] - mu[i];
      const double loss = err * err + (t.method == LatentMethod::vbq
                                           ? 2 * t.parameter * sigma[i] * sigma[i] * rate_bits(keys[j])
                                           : 0.0);
      if (loss < best) best = loss, out[i] = uint32_t(j);
    }
  }
  return out;
}

std::vector<double> latent_values(const LatentTables& t, std::span<const uint32_t> symbols) {
  std::vector<double> z(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) z[i] = t.values[i % t.dims].at(symbols[i]);
  return z;
}

uint32_t vbqi_model_crc(std::span<const double> mu, std::span<const double> sigma) {
  std::string bytes;
  bytes.reserve(4 * (mu.size() + sigma.size()));
  for (auto v : {mu, sigma})
    for (double x : v) {
      const uint32_t b = std::bit_cast<uint32_t>(float(x));
      bytes.append(reinterpret_cast<const char*>(&b), 4);
    }
  return crc32c(bytes);
}

std::vector<uint8_t> write_vbqi(const VbqiHeader& h, const LatentTables& t, std::span<const uint32_t> symbols,
                                std::vector<size_t>* dim_bytes) {
  if (h.dims != t.dims || h.images == 0 || symbols.size() != h.images * h.dims)
    throw Error(ErrorKind::argument, "write_vbqi: symbols must be [images >= 1, dims] with the tables' dims");
  ByteWriter w;
  w.out.assign(kMagic, 4);
  for (uint8_t b : {kMajor, kMinor, uint8_t(h.method), uint8_t(0)}) w.u8(b);
  w.f64(h.parameter);
  w.fixed(h.model_crc, 4);
  for (uint64_t v : {h.images, h.dims, h.width, h.height}) w.varint(v);
  std::vector<uint32_t> column(h.images);
  if (dim_bytes) dim_bytes->clear();
  for (size_t d = 0; d < h.dims; ++d) {
    const size_t before = w.out.size();
    if (t.keys[d].size() == 1) {  // one code point: nothing to code
      w.varint(0);
    } else {
      for (size_t i = 0; i < h.images; ++i) column[i] = symbols[i * h.dims + d];
      const std::vector<uint8_t> stream = rans_encode(column, t.tables[d]);
      w.varint(stream.size());
      w.out.append(as_chars(stream));
    }
    if (dim_bytes) dim_bytes->push_back(w.out.size() - before);
  }
  w.fixed(crc32c(w.out), 4);
  return std::vector<uint8_t>(w.out.begin(), w.out.end());
}

namespace {
// The header fields, read by r (positioned at the start of the file).
VbqiHeader parse_header(ByteReader& r) {
  if (!r.data.starts_with(std::string_view(kMagic, 4)))
    throw Error(ErrorKind::format, r.source + ": not a .vbqi file (no VBQI magic)");
  r.where = "header";
  r.pos = 4;
  const uint8_t major = r.u8(), minor = r.u8(), method = r.u8(), reserved = r.u8();
  (void)minor;  // minor versions only add meaning to reserved values
  if (major != kMajor)
    throw Error(ErrorKind::format, r.source + ": .vbqi major version " + std::to_string(major) + " is not supported (1)");
  VbqiHeader h;
  if (method < uint8_t(LatentMethod::vbq) || method > uint8_t(LatentMethod::vbq_wide_refine))
    throw Error(ErrorKind::corrupt, r.source + ": unknown method " + std::to_string(method) + " at byte 6");
  if (reserved != 0) throw Error(ErrorKind::corrupt, r.source + ": reserved byte 7 is not 0");
  h.method = LatentMethod(method);
  h.parameter = r.f64();
  if (!(h.parameter > 0) || !std::isfinite(h.parameter))
    throw Error(ErrorKind::corrupt, r.source + ": parameter (lambda or spacing) at byte 8 is not > 0 and finite");
  h.model_crc = uint32_t(r.fixed(4));
  h.images = r.varint();
  h.dims = r.varint();
  h.width = r.varint();
  h.height = r.varint();
  if (h.images == 0 || h.dims == 0 || h.dims > (1u << 20) || h.images > (uint64_t(1) << 40) / h.dims)
    throw Error(ErrorKind::corrupt, r.source + ": implausible image count or latent dimensions");
  if (h.width == 0 || h.height == 0 || h.width > 65535 || h.height > 65535)
    throw Error(ErrorKind::corrupt, r.source + ": implausible image size");
  return h;
}
}  // namespace

VbqiHeader read_vbqi_header(std::span<const uint8_t> bytes, const std::string& name) {
  ByteReader r{as_chars(bytes), 0, name, ""};
  return parse_header(r);
}

std::vector<uint32_t> read_vbqi_symbols(std::span<const uint8_t> bytes, const LatentTables& t,
                                        const std::string& name) {
  ByteReader r{as_chars(bytes), 0, name, ""};
  const VbqiHeader h = parse_header(r);
  if (h.dims != t.dims || h.method != t.method || h.parameter != t.parameter)
    throw Error(ErrorKind::argument, name + ": the tables do not match the file's method, setting or dimensions");
  if (r.remaining() < 4) throw Error(ErrorKind::corrupt, name + ": truncated .vbqi file: no checksum");
  const size_t body = bytes.size() - 4;
  ByteReader checksum{r.data.substr(body), 0, name, "checksum"};
  if (crc32c(r.data.substr(0, body)) != uint32_t(checksum.fixed(4)))
    throw Error(ErrorKind::corrupt, name + ": checksum mismatch (the file is damaged)");
  r.data = r.data.substr(0, body);  // the streams end where the checksum starts
  std::vector<uint32_t> symbols(h.images * h.dims), column(h.images);
  for (size_t d = 0; d < h.dims; ++d) {
    r.where = "latent dimension " + std::to_string(d);
    const std::string_view stream = r.bytes(r.varint());
    const size_t n = stream.size();
    const uint8_t* p = reinterpret_cast<const uint8_t*>(stream.data());
    if (n == 0) {
      if (t.keys[d].size() != 1)
        throw Error(ErrorKind::corrupt, name + ": dimension " + std::to_string(d) + " has no stream");
      std::fill(column.begin(), column.end(), 0u);
    } else {
      try {
        rans_decode(std::span<const uint8_t>(p, n), t.tables[d], column);
      } catch (const Error& e) {
        throw Error(ErrorKind::corrupt, name + ": latent dimension " + std::to_string(d) + ": " + e.what());
      }
    }
    for (size_t i = 0; i < h.images; ++i) symbols[i * h.dims + d] = column[i];
  }
  if (r.remaining() != 0) throw Error(ErrorKind::corrupt, name + ": trailing bytes after the last stream");
  return symbols;
}

}  // namespace vbq
