#include "app/image_codec.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <string_view>

#include "formats/crc32c.hpp"
#include "vbq/error.hpp"
#include "vbq/prior.hpp"
#include "vbq/quantizer.hpp"
#include "vbq/refinement.hpp"

namespace vbq {
namespace {

constexpr char kMagic[4] = {'V', 'B', 'Q', 'I'};
constexpr uint8_t kMajor = 1, kMinor = 0;

uint64_t zigzag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
int64_t unzigzag(uint64_t u) { return int64_t(u >> 1) ^ -int64_t(u & 1); }

// The grid index of mu (uniform), clamped far inside int64.
int64_t grid_index(double mu, double delta) { return int64_t(std::llround(std::clamp(mu / delta, -1e15, 1e15))); }

const GaussianPrior& standard_normal() {
  static const GaussianPrior prior(0.0, 1.0);
  return prior;
}
const CodePointTable& standard_table() {
  static const CodePointTable table(standard_normal());
  return table;
}

// The unrestricted code point of one coordinate (Algorithm 1 or the grid).
uint64_t code_point(LatentMethod method, double parameter, double mu, double sigma) {
  if (method == LatentMethod::uniform) return zigzag(grid_index(mu, parameter));
  return quantize_one(standard_table(), mu, sigma, parameter);
}

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 128) out.push_back(uint8_t(v | 128)), v >>= 7;
  out.push_back(uint8_t(v));
}

class Reader {
 public:
  Reader(std::span<const uint8_t> b, const std::string& name) : b_(b), name_(name) {}
  const uint8_t* take(size_t n, const char* what) {
    if (b_.size() - pos_ < n)
      throw Error(ErrorKind::corrupt, name_ + ": truncated .vbqi file: " + what + " at byte " + std::to_string(pos_));
    pos_ += n;
    return b_.data() + pos_ - n;
  }
  uint64_t varint(const char* what) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const uint8_t c = *take(1, what);
      v |= uint64_t(c & 127) << shift;
      if (!(c & 128)) return v;
    }
    throw Error(ErrorKind::corrupt, name_ + ": bad varint (" + what + ") before byte " + std::to_string(pos_));
  }
  size_t pos() const { return pos_; }

 private:
  std::span<const uint8_t> b_;
  const std::string& name_;
  size_t pos_ = 0;
};

uint64_t load_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes; i-- > 0;) v = v << 8 | p[i];
  return v;
}
void store_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

}  // namespace

const char* latent_method_name(LatentMethod m) {
  return m == LatentMethod::vbq ? "vbq" : m == LatentMethod::uniform ? "uniform" : "vbq+refine";
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
  if (method == LatentMethod::vbq_refine) {
    const size_t m = mu.size() / dims;
    std::vector<double> mu_d(m), sigma_d(m);
    for (size_t d = 0; d < dims; ++d) {
      for (size_t i = 0; i < m; ++i) mu_d[i] = mu[i * dims + d], sigma_d[i] = sigma[i * dims + d];
      CodeKeys keys = quantize(standard_normal(), mu_d, sigma_d, parameter, 1);
      keys = refine_code_points(standard_normal(), mu_d, sigma_d, parameter, std::move(keys), kLatentRefinePasses, 1);
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
                                                       : standard_table().reconstruct(k));
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
  if (t.method == LatentMethod::vbq_refine) {
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
  std::vector<uint8_t> out(kMagic, kMagic + 4);
  for (uint8_t b : {kMajor, kMinor, uint8_t(h.method), uint8_t(0)}) out.push_back(b);
  store_le(out, std::bit_cast<uint64_t>(h.parameter), 8);
  store_le(out, h.model_crc, 4);
  for (uint64_t v : {h.images, h.dims, h.width, h.height}) put_varint(out, v);
  std::vector<uint32_t> column(h.images);
  if (dim_bytes) dim_bytes->clear();
  for (size_t d = 0; d < h.dims; ++d) {
    const size_t before = out.size();
    if (t.keys[d].size() == 1) {  // one code point: nothing to code
      put_varint(out, 0);
      if (dim_bytes) dim_bytes->push_back(out.size() - before);
      continue;
    }
    for (size_t i = 0; i < h.images; ++i) column[i] = symbols[i * h.dims + d];
    const std::vector<uint8_t> stream = rans_encode(column, t.tables[d]);
    put_varint(out, stream.size());
    out.insert(out.end(), stream.begin(), stream.end());
    if (dim_bytes) dim_bytes->push_back(out.size() - before);
  }
  const uint32_t crc = crc32c(std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
  store_le(out, crc, 4);
  return out;
}

namespace {
VbqiHeader parse_header(Reader& r, std::span<const uint8_t> bytes, const std::string& name) {
  if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0)
    throw Error(ErrorKind::format, name + ": not a .vbqi file (no VBQI magic)");
  r.take(4, "magic");
  const uint8_t* v = r.take(4, "version");
  if (v[0] != kMajor)
    throw Error(ErrorKind::format, name + ": .vbqi major version " + std::to_string(v[0]) + " is not supported (1)");
  VbqiHeader h;
  if (v[2] < uint8_t(LatentMethod::vbq) || v[2] > uint8_t(LatentMethod::vbq_refine))
    throw Error(ErrorKind::corrupt, name + ": unknown method " + std::to_string(v[2]) + " at byte 6");
  if (v[3] != 0) throw Error(ErrorKind::corrupt, name + ": reserved byte 7 is not 0");
  h.method = LatentMethod(v[2]);
  h.parameter = std::bit_cast<double>(load_le(r.take(8, "parameter"), 8));
  if (!(h.parameter > 0) || !std::isfinite(h.parameter))
    throw Error(ErrorKind::corrupt, name + ": parameter (lambda or spacing) at byte 8 is not > 0 and finite");
  h.model_crc = uint32_t(load_le(r.take(4, "model checksum"), 4));
  h.images = r.varint("image count");
  h.dims = r.varint("latent dimensions");
  h.width = r.varint("width");
  h.height = r.varint("height");
  if (h.images == 0 || h.dims == 0 || h.dims > (1u << 20) || h.images > (uint64_t(1) << 40) / h.dims)
    throw Error(ErrorKind::corrupt, name + ": implausible image count or latent dimensions");
  if (h.width == 0 || h.height == 0 || h.width > 65535 || h.height > 65535)
    throw Error(ErrorKind::corrupt, name + ": implausible image size");
  return h;
}
}  // namespace

VbqiHeader read_vbqi_header(std::span<const uint8_t> bytes, const std::string& name) {
  Reader r(bytes, name);
  return parse_header(r, bytes, name);
}

std::vector<uint32_t> read_vbqi_symbols(std::span<const uint8_t> bytes, const LatentTables& t,
                                        const std::string& name) {
  Reader r(bytes, name);
  const VbqiHeader h = parse_header(r, bytes, name);
  if (h.dims != t.dims || h.method != t.method || h.parameter != t.parameter)
    throw Error(ErrorKind::argument, name + ": the tables do not match the file's method, setting or dimensions");
  if (r.pos() + 4 > bytes.size()) throw Error(ErrorKind::corrupt, name + ": truncated .vbqi file: no checksum");
  const size_t body = bytes.size() - 4;
  const uint32_t want = uint32_t(load_le(bytes.data() + body, 4));
  if (crc32c(std::string_view(reinterpret_cast<const char*>(bytes.data()), body)) != want)
    throw Error(ErrorKind::corrupt, name + ": checksum mismatch (the file is damaged)");
  std::vector<uint32_t> symbols(h.images * h.dims), column(h.images);
  for (size_t d = 0; d < h.dims; ++d) {
    const uint64_t n = r.varint("stream length");
    if (n > body - r.pos()) throw Error(ErrorKind::corrupt, name + ": stream of dimension " + std::to_string(d) + " too long");
    const uint8_t* p = r.take(size_t(n), "stream");
    if (n == 0) {
      if (t.keys[d].size() != 1)
        throw Error(ErrorKind::corrupt, name + ": dimension " + std::to_string(d) + " has no stream");
      std::fill(column.begin(), column.end(), 0u);
    } else {
      try {
        rans_decode(std::span<const uint8_t>(p, size_t(n)), t.tables[d], column);
      } catch (const Error& e) {
        throw Error(ErrorKind::corrupt, name + ": latent dimension " + std::to_string(d) + ": " + e.what());
      }
    }
    for (size_t i = 0; i < h.images; ++i) symbols[i * h.dims + d] = column[i];
  }
  if (r.pos() != body) throw Error(ErrorKind::corrupt, name + ": trailing bytes after the last stream");
  return symbols;
}

}  // namespace vbq
