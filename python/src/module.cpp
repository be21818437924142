// vbq._vbq: the C++ side of the Python package (python/vbq/*.py is the API).
//
// Everything that decides bytes runs here, in the project's own functions
// (compress_model, encode_vbq, quantize, encode_symbols, serialize_container;
// for the Dask path plan_vbq_tensor and encode_vbq_block), so the package
// writes what `vbq compress` writes. Heavy calls release the GIL.
// Arrays: float64 C-contiguous input is read in place; anything else is
// converted by numpy first (the codec works in double). Decoded float64 tensors
// are handed to numpy without a copy.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "formats/container.hpp"
#include "formats/hdf5_model.hpp"
#include "formats/memory_budget.hpp"
#include "app/compress.hpp"
#include "vbq/codec.hpp"
#include "vbq/error.hpp"
#include "vbq/prior.hpp"
#include "vbq/quantizer.hpp"
#include "vbq/symbol_stream.hpp"

namespace py = pybind11;
using namespace vbq;

namespace {

using InArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

const char* category(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::argument: return "argument";
    case ErrorKind::io: return "io";
    case ErrorKind::format: return "format";
    case ErrorKind::corrupt: return "corrupt";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::interrupted: return "interrupted";
  }
  return "argument";
}

std::vector<uint64_t> shape_of(const py::array& a) {
  return std::vector<uint64_t>(a.shape(), a.shape() + a.ndim());
}

std::vector<py::ssize_t> py_shape(const std::vector<uint64_t>& shape) { return {shape.begin(), shape.end()}; }

std::span<const double> span_of(const InArray& a) { return {a.data(), size_t(a.size())}; }

// Decoded values as a numpy array of the tensor's dtype and shape: float64 takes
// over the vector's buffer, float32 is narrowed (as `vbq decompress` stores it).
py::array to_numpy(std::vector<double>&& values, const std::vector<uint64_t>& shape, bool float32) {
  if (float32) {
    py::array_t<float> out(py_shape(shape));
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      for (size_t i = 0; i < values.size(); ++i) dst[i] = float(values[i]);
    }
    return out;
  }
  auto* owned = new std::vector<double>(std::move(values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<double>*>(p); });
  return py::array_t<double>(py_shape(shape), owned->data(), free_when_done);
}

// "[i, j]" of a flat index in a row-major shape.
std::string position(uint64_t flat, const std::vector<uint64_t>& shape) {
  std::vector<uint64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) idx[d] = flat % shape[d], flat /= shape[d];
  std::string s = "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + "]";
}

// The checks read_model applies to a file's datasets, for arrays from Python:
// finite means, finite spreads > 0. The arrays are the tensor's elements from
// flat index `offset` on (a chunk of the Dask path).
void check_posterior(const std::string& name, std::span<const double> mu, std::span<const double> sigma,
                     const std::vector<uint64_t>& shape, uint64_t offset = 0) {
  for (size_t i = 0; i < mu.size(); ++i) {
    if (!std::isfinite(mu[i]))
      throw Error(ErrorKind::argument, "tensor '" + name + "': mean" + position(offset + i, shape) + " is " +
                                           (std::isnan(mu[i]) ? "NaN" : "infinite"));
    if (!sigma.empty() && !(std::isfinite(sigma[i]) && sigma[i] > 0))
      throw Error(ErrorKind::argument, "tensor '" + name + "': sigma" + position(offset + i, shape) + " = " +
                                           std::to_string(sigma[i]) + " is not finite and > 0");
  }
}

struct Targets {
  uint64_t bytes = 0;      // --target-size
  double bits_per_dim = 0; // --target-bits-per-dim
  bool any() const { return bytes > 0 || bits_per_dim > 0; }
};

// app's compress() for the target `vbq compress --target-size/--target-bits-per-dim`
// (or --lambda) gives.
Container compress_with_targets(const Model& model, const CompressSettings& settings, const Targets& targets,
                                double* lambda_out) {
  const Target target = targets.bytes ? Target(SizeTarget{targets.bytes})
                        : targets.bits_per_dim > 0 ? Target(BitsTarget{targets.bits_per_dim})
                                                   : Target(LambdaTarget{settings.vbq.lambda});
  Compressed r = compress(model, target, settings);
  if (lambda_out) *lambda_out = r.lambda;
  return require_met(r);
}

// Container bytes, or the file written atomically (None).
py::object emit(const Container& c, const std::string& path, bool force) {
  if (!path.empty()) {
    {
      py::gil_scoped_release nogil;
      write_container(path, c, force);
    }
    return py::none();
  }
  std::string bytes;
  {
    py::gil_scoped_release nogil;
    bytes = serialize_container(c);
  }
  return py::bytes(bytes);
}

// The settings of `vbq compress` (coder and levels by their command-line names).
CompressSettings make_settings(double lambda, const std::string& prior, int refine, bool block_tables, int threads,
                               bool include_vocab, const std::string& coder, const std::string& levels,
                               bool row_gains, bool center_columns, double spread_power) {
  CompressSettings s;
  s.vbq.lambda = lambda;
  s.vbq.prior = prior;
  s.vbq.refine_passes = refine;
  s.vbq.block_tables = block_tables;
  s.vbq.coder = parse_entropy_coder(coder);
  s.vbq.levels = parse_level_rule(levels);
  s.vbq.row_gains = row_gains;
  s.vbq.center_columns = center_columns;
  s.vbq.spread_power = spread_power;
  s.vbq.threads = threads;
  s.include_vocab = include_vocab;
  return s;
}

// One tensor handed over from Python: (name, mean_path, mu, sigma or None, float32).
struct InTensor {
  std::string name, mean_path;
  InArray mu, sigma;  // sigma.size() == 0: none
  bool has_sigma = false, float32 = true;
  std::vector<uint64_t> shape;
};

std::vector<InTensor> take_tensors(const py::list& items) {
  std::vector<InTensor> out;
  for (const py::handle& item : items) {
    auto tup = item.cast<py::tuple>();
    InTensor t;
    t.name = tup[0].cast<std::string>();
    t.mean_path = tup[1].cast<std::string>();
    t.mu = InArray::ensure(tup[2]);
    if (!t.mu) throw Error(ErrorKind::argument, "tensor '" + t.name + "': the mean is not a numeric array");
    t.shape = shape_of(t.mu);
    if (t.shape.empty() || t.mu.size() == 0)
      throw Error(ErrorKind::argument, "tensor '" + t.name + "': the mean must have rank >= 1 and elements");
    t.has_sigma = !tup[3].is_none();
    if (t.has_sigma) {
      t.sigma = InArray::ensure(tup[3]);
      if (!t.sigma || shape_of(t.sigma) != t.shape)
        throw Error(ErrorKind::argument, "tensor '" + t.name + "': sigma must be an array of the mean's shape");
    }
    t.float32 = tup[4].cast<bool>();
    out.push_back(std::move(t));
  }
  return out;
}

// vbq.compress on arrays. Without rate control and spread rule the arrays are
// encoded in place (the loop of compress_model over spans); otherwise they are
// copied into a Model for rate control / assign_spread.
py::tuple compress_arrays(const py::list& items, const std::vector<std::string>& vocab,
                          const std::vector<uint64_t>& counts, double lambda, const std::string& prior, int refine,
                          bool block_tables, int threads, bool include_vocab, uint64_t target_bytes,
                          double target_bits_per_dim, double spread_scale, const std::string& spread_rule,
                          const std::string& counts_file, const std::string& path, bool force,
                          const std::string& coder, const std::string& levels, bool row_gains,
                          bool center_columns, double spread_power) {
  std::vector<InTensor> tensors = take_tensors(items);
  const CompressSettings settings =
      make_settings(lambda, prior, refine, block_tables, threads, include_vocab, coder, levels, row_gains,
                    center_columns, spread_power);
  const Targets targets{target_bytes, target_bits_per_dim};
  Container c;
  double chosen = lambda;
  {
    py::gil_scoped_release nogil;
    if (!targets.any() && spread_rule.empty()) {
      for (const InTensor& t : tensors) {
        if (!t.has_sigma)
          throw Error(ErrorKind::argument, "tensor '" + t.name + "' has no posterior std: VBQ needs mean and spread "
                                           "(give sigma, or a sigma rule for point estimates)");
        check_posterior(t.name, span_of(t.mu), span_of(t.sigma), t.shape);
        EncodedTensor e = encode_vbq(span_of(t.mu), span_of(t.sigma), settings.vbq, t.shape);
        e.name = t.name, e.mean_path = t.mean_path, e.float32 = t.float32;  // labelled() without a Tensor
        c.tensors.push_back(std::move(e));
      }
      if (include_vocab) c.vocab = vocab;
    } else {
      Model m;
      for (const InTensor& t : tensors) {
        Tensor x;
        x.name = t.name, x.mean_path = t.mean_path, x.shape = t.shape, x.float32 = t.float32;
        x.mu.assign(t.mu.data(), t.mu.data() + t.mu.size());
        if (t.has_sigma) x.sigma.assign(t.sigma.data(), t.sigma.data() + t.sigma.size());
        check_posterior(t.name, x.mu, x.sigma, t.shape);
        m.tensors.push_back(std::move(x));
      }
      m.vocab = vocab;
      m.counts = counts;
      if (!spread_rule.empty()) {
        if (!counts_file.empty()) read_vocab_counts(counts_file, m);
        assign_spread(m, spread_scale,
                      spread_rule == "zipf" ? SpreadRule::zipf
                      : spread_rule == "counts" ? SpreadRule::counts
                                                : SpreadRule::constant);
      }
      c = compress_with_targets(m, settings, targets, &chosen);
    }
  }
  return py::make_tuple(emit(c, path, force), chosen);
}

// vbq.compress on an HDF5 file: what `vbq compress FILE` reads and writes.
py::tuple compress_hdf5(const std::string& file, const std::vector<std::string>& select, double lambda,
                        const std::string& prior, int refine, bool block_tables, int threads, bool include_vocab,
                        uint64_t target_bytes, double target_bits_per_dim, const std::string& path, bool force,
                        const std::string& coder, const std::string& levels, bool row_gains,
                        bool center_columns, double spread_power) {
  const CompressSettings settings =
      make_settings(lambda, prior, refine, block_tables, threads, include_vocab, coder, levels, row_gains,
                    center_columns, spread_power);
  Container c;
  double chosen = lambda;
  {
    py::gil_scoped_release nogil;
    ReadOptions read;
    read.select = select;
    Model m = read_model(file, read);
    c = compress_with_targets(m, settings, Targets{target_bytes, target_bits_per_dim}, &chosen);
  }
  return py::make_tuple(emit(c, path, force), chosen);
}

// A parsed container (vbq.open).
struct PyContainer {
  Container c;
  ContainerLayout layout;
  std::string source;

  const EncodedTensor& tensor(const std::string& name) const {
    for (const EncodedTensor& t : c.tensors)
      if (t.name == name) return t;
    std::string names;
    for (const EncodedTensor& t : c.tensors) names += (names.empty() ? "" : ", ") + t.name;
    throw Error(ErrorKind::argument, source + " has no tensor '" + name + "'; its tensors: " + names);
  }
};

std::unique_ptr<PyContainer> open_bytes(const py::bytes& data, const std::string& source) {
  auto p = std::make_unique<PyContainer>();
  p->source = source;
  char* buffer = nullptr;
  py::ssize_t size = 0;
  PyBytes_AsStringAndSize(data.ptr(), &buffer, &size);
  py::gil_scoped_release nogil;
  p->c = parse_container(std::string_view(buffer, size_t(size)), source, &p->layout);
  p->c.source_bytes = uint64_t(size);
  return p;
}

std::unique_ptr<PyContainer> open_path(const std::string& path) {
  auto p = std::make_unique<PyContainer>();
  p->source = path;
  py::gil_scoped_release nogil;
  p->c = read_container(path, &p->layout);
  return p;
}

py::list vocab_list(const std::vector<std::string>& vocab) {
  py::list out;
  for (const std::string& w : vocab) {
    PyObject* s = PyUnicode_DecodeUTF8(w.data(), py::ssize_t(w.size()), "surrogateescape");
    if (!s) throw py::error_already_set();
    out.append(py::reinterpret_steal<py::object>(s));
  }
  return out;
}

const char* quantizer_name(QuantizerKind q) {
  switch (q) {
    case QuantizerKind::vbq: return "vbq";
    case QuantizerKind::grid: return "grid";
    case QuantizerKind::codebook: return "codebook";
  }
  return "?";
}

py::dict tensor_meta(const PyContainer& p, const std::string& name) {
  const EncodedTensor& t = p.tensor(name);
  size_t index = &t - p.c.tensors.data();
  py::dict d;
  d["name"] = t.name;
  d["mean_path"] = t.mean_path;
  d["shape"] = py::tuple(py::cast(t.shape));
  d["dtype"] = t.float32 ? "float32" : "float64";
  d["quantizer"] = quantizer_name(t.quantizer);
  if (t.quantizer == QuantizerKind::vbq) {
    d["prior"] = make_prior(t.prior_family, t.prior_parameters)->describe();
    d["prior_parameters"] = t.prior_parameters;
    d["lambda"] = t.lambda;
  }
  d["bytes"] = p.layout.tensor_bytes.at(index);
  d["bits_per_dim"] = 8.0 * double(p.layout.tensor_bytes.at(index)) / double(t.element_count());
  d["code_points"] = t.symbols.alphabet.size();
  d["tables"] = t.symbols.tables.size();
  d["block_symbols"] = t.symbols.block_symbols;
  return d;
}

py::array decode(const PyContainer& p, const std::string& name, int threads) {
  const EncodedTensor& t = p.tensor(name);
  std::vector<double> values;
  {
    py::gil_scoped_release nogil;
    // The means (8 bytes each) plus the symbol indices (4 bytes each), as restore_model checks.
    check_memory_budget(t.element_count() * (sizeof(double) + sizeof(uint32_t)),
                        p.source + ": decoding tensor '" + t.name + "'", p.c.source_bytes);
    values = decode_tensor(t, threads);
  }
  return to_numpy(std::move(values), t.shape, t.float32);
}

py::array decode_rows_of(const PyContainer& p, const std::string& name, uint64_t first, uint64_t count) {
  const EncodedTensor& t = p.tensor(name);
  std::vector<double> values;
  {
    py::gil_scoped_release nogil;
    values = decode_rows(t, first, count);
  }
  std::vector<uint64_t> shape = t.shape;
  shape[0] = count;
  return to_numpy(std::move(values), shape, t.float32);
}

py::dict decode_all(const PyContainer& p, int threads) {
  Model m;
  {
    py::gil_scoped_release nogil;
    m = restore_model(p.c, threads, p.source);
  }
  py::dict out;
  for (Tensor& t : m.tensors) out[py::str(t.name)] = to_numpy(std::move(t.mu), t.shape, t.float32);
  return out;
}

// ---- The pieces of encode_vbq for a distributed encoder (vbq/dask.py) ----------
// fit_gaussian_prior's folds (vbq/prior.hpp): a chain of them over the chunks in
// row-major order gives its sums, bit for bit, whatever the chunks.

double fold_sum(double carry, const InArray& chunk) {
  const std::span<const double> x = span_of(chunk);
  py::gil_scoped_release nogil;
  return gaussian_fold_sum(carry, x);
}

double fold_squares(double carry, const InArray& chunk, double mean) {
  const std::span<const double> x = span_of(chunk);
  py::gil_scoped_release nogil;
  return gaussian_fold_squares(carry, x, mean);
}

// The prior fit_prior(spec) returns for these sums, spec gauss, gauss-fit or
// wide:K: (family, parameters).
py::tuple gaussian_prior(double mean, double sum_squares, uint64_t count, const std::string& spec) {
  const GaussianPrior prior = widen(gaussian_prior_from_sums(mean, sum_squares, count), spec);
  return py::make_tuple(int(prior.family()), prior.parameters());
}

// Algorithm 1 and the per-coordinate escapes on one chunk of a tensor's
// elements in storage order (a run of its container blocks), starting at
// element `offset`, under a given prior: one code key per element.
py::array_t<uint64_t> quantize_chunk(const std::string& name, const InArray& mu, const InArray& sigma, int family,
                                     const std::vector<double>& parameters, double lambda, int max_rate_bits,
                                     int threads, uint64_t offset, const std::vector<uint64_t>& tensor_shape) {
  if (mu.size() != sigma.size())
    throw Error(ErrorKind::argument, "tensor '" + name + "': the sigma chunk at element " + std::to_string(offset) +
                                         " differs in size from the mean's");
  py::array_t<uint64_t> out(mu.size());
  uint64_t* dst = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    check_posterior(name, span_of(mu), span_of(sigma), tensor_shape, offset);
    std::unique_ptr<Prior> prior = make_prior(PriorFamily(family), parameters);
    Quantizer(*prior, size_t(mu.size()) >= kMinFastCoordinates, threads)
        .quantize(span_of(mu), span_of(sigma), lambda, std::span<uint64_t>(dst, size_t(mu.size())), threads,
                  max_rate_bits, kEscapeBits);
  }
  return out;
}

using KeyArray = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>;

std::span<const uint64_t> span_of(const KeyArray& a) { return {a.data(), size_t(a.size())}; }

// The histogram of each container block of a chunk of keys (whole blocks of
// block_symbols, the last may be short): [(keys ascending, counts)].
py::list block_histograms_of(const KeyArray& keys, uint64_t block_symbols) {
  std::vector<SymbolCounts> h;
  {
    py::gil_scoped_release nogil;
    for (uint64_t begin = 0; begin < uint64_t(keys.size()); begin += block_symbols)
      h.push_back(symbol_counts(span_of(keys).subspan(begin, std::min<uint64_t>(block_symbols, keys.size() - begin))));
  }
  py::list out;
  for (SymbolCounts& c : h) out.append(py::make_tuple(py::array(py::cast(c.symbols)), py::array(py::cast(c.counts))));
  return out;
}

// plan_vbq_tensor over the histograms of all blocks of a tensor, in order.
EncodedTensor plan_tensor(const py::list& histograms, const std::string& name, const std::string& mean_path,
                          bool float32, int family, const std::vector<double>& parameters, double lambda,
                          int max_rate_bits, bool block_tables, const std::vector<uint64_t>& shape) {
  std::vector<SymbolCounts> blocks;
  for (const py::handle& h : histograms) {
    auto pair = h.cast<py::tuple>();
    blocks.push_back({pair[0].cast<std::vector<uint64_t>>(), pair[1].cast<std::vector<uint64_t>>()});
  }
  VbqSettings settings;
  settings.lambda = lambda;
  settings.max_rate_bits = max_rate_bits;
  settings.block_tables = block_tables;
  std::unique_ptr<Prior> prior = make_prior(PriorFamily(family), parameters);
  py::gil_scoped_release nogil;
  EncodedTensor t = plan_vbq_tensor(*prior, blocks, settings, shape);
  t.name = name, t.mean_path = mean_path, t.float32 = float32;
  return t;
}

// encode_vbq_block over the blocks of a chunk (keys and means in storage
// order, from block first_block on): [(bytes, escaped means)].
py::list encode_chunk(const EncodedTensor& plan, uint64_t first_block, const KeyArray& keys, const InArray& mu) {
  if (keys.size() != mu.size())
    throw Error(ErrorKind::argument, "tensor '" + plan.name + "': the keys and means of the chunk from block " +
                                         std::to_string(first_block) + " differ in size");
  const uint64_t bs = plan.symbols.block_symbols, n = uint64_t(keys.size());
  std::vector<EncodedBlock> blocks;
  {
    py::gil_scoped_release nogil;
    for (uint64_t begin = 0; begin < n; begin += bs) {
      const uint64_t len = std::min(bs, n - begin);
      blocks.push_back(encode_vbq_block(plan, first_block + begin / bs, span_of(keys).subspan(begin, len),
                                        span_of(mu).subspan(begin, len)));
    }
  }
  py::list out;
  for (EncodedBlock& b : blocks)
    out.append(py::make_tuple(py::bytes(reinterpret_cast<const char*>(b.bytes.data()), b.bytes.size()),
                              py::array(py::cast(b.escapes))));
  return out;
}

// The plan with its blocks (encode_chunk's results of all chunks, in order).
EncodedTensor finish_tensor(EncodedTensor t, const py::list& chunks) {
  for (const py::handle& chunk : chunks)
    for (const py::handle& block : chunk.cast<py::list>()) {
      auto pair = block.cast<py::tuple>();
      const std::string bytes = pair[0].cast<std::string>();
      const std::vector<double> escapes = pair[1].cast<std::vector<double>>();
      t.symbols.blocks.emplace_back(bytes.begin(), bytes.end());
      if (has_escape(t)) t.block_escapes.push_back(escapes.size());
      t.escapes.insert(t.escapes.end(), escapes.begin(), escapes.end());
    }
  const uint64_t expected = (t.symbols.count + t.symbols.block_symbols - 1) / t.symbols.block_symbols;
  if (t.symbols.blocks.size() != expected)
    throw Error(ErrorKind::argument, "tensor '" + t.name + "': " + std::to_string(t.symbols.blocks.size()) +
                                         " encoded blocks, the plan has " + std::to_string(expected));
  return t;
}

// An EncodedTensor as picklable fields (a plan travels between dask workers
// and the client).
py::tuple tensor_state(const EncodedTensor& t) {
  const SymbolStream& s = t.symbols;
  py::list tables, blocks;
  for (const FrequencyTable& f : s.tables) tables.append(py::make_tuple(f.precision_bits, f.freq));
  for (const auto& b : s.blocks) blocks.append(py::bytes(reinterpret_cast<const char*>(b.data()), b.size()));
  return py::make_tuple(t.name, t.mean_path, t.shape, t.float32, int(t.quantizer), int(t.prior_family),
                        t.prior_parameters, t.lambda, int(t.max_rate_bits), t.values, int(s.coder), s.alphabet,
                        tables, s.block_table, s.row_length, s.count, s.block_symbols, blocks, t.levels, t.escapes,
                        t.block_escapes, t.gain_rows, t.gains, t.column_means);
}

EncodedTensor tensor_from_state(const py::tuple& f) {
  if (f.size() != 24) throw Error(ErrorKind::argument, "not a pickled vbq EncodedTensor");
  EncodedTensor t;
  t.name = f[0].cast<std::string>(), t.mean_path = f[1].cast<std::string>();
  t.shape = f[2].cast<std::vector<uint64_t>>(), t.float32 = f[3].cast<bool>();
  t.quantizer = QuantizerKind(f[4].cast<int>()), t.prior_family = PriorFamily(f[5].cast<int>());
  t.prior_parameters = f[6].cast<std::vector<double>>(), t.lambda = f[7].cast<double>();
  t.max_rate_bits = uint8_t(f[8].cast<int>()), t.values = f[9].cast<std::vector<double>>();
  SymbolStream& s = t.symbols;
  s.coder = EntropyCoder(f[10].cast<int>()), s.alphabet = f[11].cast<std::vector<uint64_t>>();
  for (const py::handle& table : f[12].cast<py::list>()) {
    auto pair = table.cast<py::tuple>();
    s.tables.push_back(FrequencyTable::from_frequencies(pair[1].cast<std::vector<uint32_t>>(), pair[0].cast<uint32_t>()));
  }
  s.block_table = f[13].cast<std::vector<uint32_t>>(), s.row_length = f[14].cast<uint64_t>();
  s.count = f[15].cast<uint64_t>(), s.block_symbols = f[16].cast<uint64_t>();
  for (const py::handle& b : f[17].cast<py::list>()) {
    const std::string bytes = b.cast<std::string>();
    s.blocks.emplace_back(bytes.begin(), bytes.end());
  }
  t.levels = f[18].cast<std::vector<double>>(), t.escapes = f[19].cast<std::vector<double>>();
  t.block_escapes = f[20].cast<std::vector<uint64_t>>();
  t.gain_rows = f[21].cast<uint64_t>(), t.gains = f[22].cast<std::vector<double>>();
  t.column_means = f[23].cast<std::vector<double>>();
  return t;
}

py::object assemble(const std::vector<EncodedTensor>& tensors, const std::vector<std::string>& vocab,
                    const std::string& path, bool force) {
  Container c;
  c.tensors = tensors;
  c.vocab = vocab;
  return emit(c, path, force);
}

}  // namespace

PYBIND11_MODULE(_vbq, m) {
  m.doc() = "C++ core of the vbq package (see vbq/__init__.py)";
  m.attr("__version__") = VBQ_VERSION_STRING;
  m.attr("MAX_RATE_BITS") = kMaxRateBits;

  // vbq::Error -> the Python class of its category (vbq/_errors.py).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      py::object cls = py::module_::import("vbq._errors").attr("error_class")(category(e.kind()));
      const std::string what = e.what();  // file names need not be UTF-8
      py::object message = py::reinterpret_steal<py::object>(
          PyUnicode_DecodeUTF8(what.data(), py::ssize_t(what.size()), "replace"));
      py::object exc = cls(message);
      PyErr_SetObject(cls.ptr(), exc.ptr());
    }
  });

  m.def("compress_arrays", &compress_arrays, py::arg("tensors"), py::arg("vocab"), py::arg("counts"),
        py::arg("lam"), py::arg("prior"), py::arg("refine"), py::arg("block_tables"), py::arg("threads"),
        py::arg("include_vocab"), py::arg("target_bytes"), py::arg("target_bits_per_dim"), py::arg("spread_scale"),
        py::arg("spread_rule"), py::arg("counts_file"), py::arg("path"), py::arg("force"), py::arg("coder"),
        py::arg("levels"), py::arg("row_gains"), py::arg("center_columns"),
        py::arg("spread_power") = 1.0, "(bytes or None, lambda): tensors = [(name, mean_path, mu, sigma or None, float32)]");
  m.def("compress_hdf5", &compress_hdf5, py::arg("file"), py::arg("select"), py::arg("lam"), py::arg("prior"),
        py::arg("refine"), py::arg("block_tables"), py::arg("threads"), py::arg("include_vocab"),
        py::arg("target_bytes"), py::arg("target_bits_per_dim"), py::arg("path"), py::arg("force"),
        py::arg("coder"), py::arg("levels"), py::arg("row_gains"), py::arg("center_columns"),
        py::arg("spread_power") = 1.0, "(bytes or None, lambda) for an HDF5 model file, read as `vbq compress` reads it");

  py::class_<PyContainer>(m, "Container")
      .def_static("from_bytes", &open_bytes, py::arg("data"), py::arg("source"))
      .def_static("from_path", &open_path, py::arg("path"))
      .def_property_readonly("names",
                             [](const PyContainer& p) {
                               std::vector<std::string> names;
                               for (const EncodedTensor& t : p.c.tensors) names.push_back(t.name);
                               return names;
                             })
      .def_property_readonly("vocab", [](const PyContainer& p) { return vocab_list(p.c.vocab); })
      .def_readonly("source", &PyContainer::source)
      .def_property_readonly("version", [](const PyContainer& p) { return py::make_tuple(p.layout.major, p.layout.minor); })
      .def_property_readonly("total_bytes", [](const PyContainer& p) { return p.layout.total_bytes; })
      .def("info",
           [](const PyContainer& p) {
             return p.source + ": vbq container " + std::to_string(p.layout.major) + "." +
                    std::to_string(p.layout.minor) + "\n" + describe_container(p.c, p.layout);
           })
      .def("meta", &tensor_meta, py::arg("name"))
      .def("decode", &decode, py::arg("name"), py::arg("threads") = 0)
      .def("rows", &decode_rows_of, py::arg("name"), py::arg("first"), py::arg("count") = 1)
      .def("decode_all", &decode_all, py::arg("threads") = 0);

  py::class_<EncodedTensor>(m, "EncodedTensor")
      .def_readonly("name", &EncodedTensor::name)
      .def_property_readonly("shape", [](const EncodedTensor& t) { return t.shape; })
      .def_property_readonly("blocks", [](const EncodedTensor& t) { return t.symbols.blocks.size(); })
      .def(py::pickle(&tensor_state, &tensor_from_state));

  m.def("row_block_symbols", [](const std::vector<uint64_t>& shape) { return row_block_symbols(shape); },
        py::arg("shape"), "elements per container block of a tensor of this shape (whole rows)");
  m.def("fold_sum", &fold_sum, py::arg("carry"), py::arg("chunk"));
  m.def("fold_squares", &fold_squares, py::arg("carry"), py::arg("chunk"), py::arg("mean"));
  m.def("gaussian_prior", &gaussian_prior, py::arg("mean"), py::arg("sum_squares"), py::arg("count"),
        py::arg("spec") = "gauss");
  m.def("wide_prior_factor", &wide_prior_factor, py::arg("spec"), "K of a prior spec wide:K, else 0");
  m.def("quantize_chunk", &quantize_chunk, py::arg("name"), py::arg("mu"), py::arg("sigma"), py::arg("family"),
        py::arg("parameters"), py::arg("lam"), py::arg("max_rate_bits"), py::arg("threads"), py::arg("offset"),
        py::arg("tensor_shape"));
  m.def("block_histograms", &block_histograms_of, py::arg("keys"), py::arg("block_symbols"));
  m.def("plan_tensor", &plan_tensor, py::arg("histograms"), py::arg("name"), py::arg("mean_path"), py::arg("float32"),
        py::arg("family"), py::arg("parameters"), py::arg("lam"), py::arg("max_rate_bits"), py::arg("block_tables"),
        py::arg("shape"));
  m.def("encode_chunk", &encode_chunk, py::arg("plan"), py::arg("first_block"), py::arg("keys"), py::arg("mu"));
  m.def("finish_tensor", &finish_tensor, py::arg("plan"), py::arg("chunks"));
  m.def("assemble", &assemble, py::arg("tensors"), py::arg("vocab"), py::arg("path"), py::arg("force"));
}
