#include "app/stream_compress.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "formats/atomic_file.hpp"
#include "vbq/error.hpp"
#include "vbq/quantizer.hpp"

namespace vbq {

bool can_stream(const CompressSettings& settings) {
  const std::string& prior = settings.vbq.prior;
  return (prior == "gauss" || prior == "gauss-fit" || wide_prior_factor(prior) > 0 || prior_fit_sample_cap(prior) > 0) &&
         settings.vbq.refine_passes == 0 && settings.vbq.levels == LevelRule::inverse_cdf &&
         !settings.vbq.row_gains && !settings.vbq.center_columns && settings.vbq.spread_power == 1;
}

namespace {

// A slice's buffers, kept from tensor to tensor: a fresh buffer is faulted in
// page by page, each page zeroed by the kernel.
struct SliceBuffers {
  UninitializedVector<double> mu, sigma;  // written first by the reader's threads
  CodeKeys keys;
  UninitializedVector<uint32_t> indices;  // of each key in its block's histogram
  UninitializedVector<uint8_t> packed;    // one block's indices as the scratch file holds them
};

// One tensor of an open model, read a slice of whole blocks at a time.
struct TensorSlices {
  const ModelSlices& in;
  size_t index;
  uint64_t elements, block, slice;
  SliceBuffers& buffers;
  UninitializedVector<double>& mu = buffers.mu;
  UninitializedVector<double>& sigma = buffers.sigma;

  TensorSlices(const ModelSlices& in, size_t index, uint64_t slice_elements, SliceBuffers& buffers)
      : in(in), index(index), buffers(buffers) {
    const Tensor& t = in.layout().tensors[index];
    elements = 1;
    for (uint64_t d : t.shape) elements *= d;
    block = row_block_symbols(t.shape);
    slice = std::max<uint64_t>(1, slice_elements / block) * block;
    mu.resize(std::min(slice, elements));
  }
  // Reads the slice at `begin`: its means, and its stds when with_sigma.
  size_t read(uint64_t begin, bool with_sigma) {
    const size_t n = size_t(std::min(slice, elements - begin));
    if (with_sigma) sigma.resize(mu.size());
    in.read(index, begin, std::span(mu).first(n), with_sigma ? std::span(sigma).first(n) : std::span<double>());
    return n;
  }
};

// fit_prior(spec, the tensor's means), reading them slice by slice: the Gaussians
// (gauss, wide:K, gauss-fit) by fit_gaussian_prior's folds in element order, so
// that the prior is the same double; the other streamable
// specs from the very subsample fit_prior would take.
std::unique_ptr<Prior> stream_prior(TensorSlices& s, const std::string& spec) {
  if (const size_t cap = prior_fit_sample_cap(spec)) {
    const std::vector<uint64_t> positions = subsample_positions(s.elements, cap);
    std::vector<double> sample;
    sample.reserve(positions.size());
    auto next = positions.begin();
    for (uint64_t begin = 0; begin < s.elements && next != positions.end(); begin += s.slice) {
      const size_t n = s.read(begin, false);
      for (; next != positions.end() && *next < begin + n; ++next) sample.push_back(s.mu[*next - begin]);
    }
    return fit_prior(spec, sample);
  }
  double mean = 0;
  if (spec == "gauss-fit") {
    double sum = 0;
    for (uint64_t begin = 0; begin < s.elements; begin += s.slice)
      sum = gaussian_fold_sum(sum, std::span(s.mu).first(s.read(begin, false)));
    mean = sum / double(s.elements);
  }
  double squares = 0;
  for (uint64_t begin = 0; begin < s.elements; begin += s.slice)
    squares = gaussian_fold_squares(squares, std::span(s.mu).first(s.read(begin, false)), mean);
  return std::make_unique<GaussianPrior>(widen(gaussian_prior_from_sums(mean, squares, s.elements), spec));
}

// Algorithm 1 with the escape as a candidate (encode_vbq's quantize and
// mark_escapes) for the slice at `begin`, into keys.
void slice_keys(TensorSlices& s, uint64_t begin, const Quantizer& quantizer, const VbqSettings& vbq, CodeKeys& keys) {
  const size_t n = s.read(begin, true);
  keys.resize(n);
  quantizer.quantize(std::span(s.mu).first(n), std::span(s.sigma).first(n), vbq.lambda, keys, vbq.threads,
                     vbq.max_rate_bits, kEscapeBits);
}

// Block indices as the scratch file holds them: 1, 2 or 4 bytes each, the
// fewest that index the block's histogram.
size_t index_bytes(const SymbolCounts& h) { return h.symbols.size() <= 256 ? 1 : h.symbols.size() <= 65536 ? 2 : 4; }

template <class T>
void pack_as(std::span<const uint32_t> in, uint8_t* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    const T v = T(in[i]);
    std::memcpy(out + i * sizeof(T), &v, sizeof(T));
  }
}
template <class T>
void unpack_as(const uint8_t* in, std::span<uint32_t> out) {
  for (size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, in + i * sizeof(T), sizeof(T));
    out[i] = v;
  }
}

// Appends a block's indices, `bytes` wide, to the scratch file.
void append_indices(SpillFile& spill, std::span<const uint32_t> indices, size_t bytes,
                    UninitializedVector<uint8_t>& packed) {
  if (bytes == 4) return spill.append(indices.data(), indices.size() * 4);
  packed.resize(indices.size() * bytes);
  if (bytes == 2) pack_as<uint16_t>(indices, packed.data());
  else pack_as<uint8_t>(indices, packed.data());
  spill.append(packed.data(), packed.size());
}

// Reads them back from `offset`; returns the offset after them.
uint64_t read_indices(const SpillFile& spill, uint64_t offset, std::span<uint32_t> indices, size_t bytes,
                      UninitializedVector<uint8_t>& packed) {
  if (bytes == 4) {
    spill.read(offset, indices.data(), indices.size() * 4);
  } else {
    packed.resize(indices.size() * bytes);
    spill.read(offset, packed.data(), packed.size());
    if (bytes == 2) unpack_as<uint16_t>(packed.data(), indices);
    else unpack_as<uint8_t>(packed.data(), indices);
  }
  return offset + indices.size() * bytes;
}

// Passes 2 and 3 of one tensor (see stream_compress.hpp); returns its header.
EncodedTensor stream_tensor(TensorSlices& s, const Prior& prior, const VbqSettings& vbq, SpillFile& keys_spill,
                            SpillFile& spill, ContainerFileWriter& out) {
  std::vector<SymbolCounts> histograms;
  std::vector<uint64_t> candidate_counts;  // per block
  keys_spill.clear();
  UninitializedVector<uint32_t>& indices = s.buffers.indices;
  const Quantizer quantizer(prior, s.elements >= kMinFastCoordinates, vbq.threads);
  CodeKeys& keys = s.buffers.keys;
  for (uint64_t begin = 0; begin < s.elements; begin += s.slice) {
    slice_keys(s, begin, quantizer, vbq, keys);
    indices.resize(keys.size());
    std::vector<SymbolCounts> slice_histograms = block_histograms(keys, s.block, vbq.threads, indices);
    const std::vector<std::vector<double>> candidates = block_escape_candidates(
        slice_histograms, indices, std::span(s.mu).first(keys.size()), s.block, s.elements, vbq.threads);
    for (size_t k = 0; k < slice_histograms.size(); ++k) {
      const uint64_t from = k * s.block, n = std::min<uint64_t>(s.block, keys.size() - from);
      append_indices(keys_spill, std::span(indices).subspan(from, n), index_bytes(slice_histograms[k]), s.buffers.packed);
      keys_spill.append(candidates[k].data(), candidates[k].size() * sizeof(double));
      candidate_counts.push_back(candidates[k].size());
      histograms.push_back(std::move(slice_histograms[k]));
    }
  }
  const Tensor& t = s.in.layout().tensors[s.index];
  EncodedTensor plan = labelled(plan_vbq_tensor(prior, histograms, vbq, t.shape), t);
  const bool escape = has_escape(plan);
  std::vector<uint64_t> lengths;
  spill.clear();
  uint64_t key_offset = 0;  // in keys_spill
  std::vector<std::vector<double>> candidates;
  for (uint64_t begin = 0; begin < s.elements; begin += s.slice) {
    const size_t n = size_t(std::min(s.slice, s.elements - begin));
    indices.resize(n);
    candidates.clear();
    for (uint64_t from = 0; from < n; from += s.block) {  // pass 2's indices and candidates
      const uint64_t m = std::min<uint64_t>(s.block, n - from), b = (begin + from) / s.block;
      key_offset = read_indices(keys_spill, key_offset, std::span(indices).subspan(from, m), index_bytes(histograms[b]),
                                s.buffers.packed);
      candidates.emplace_back(candidate_counts[b]);
      keys_spill.read(key_offset, candidates.back().data(), candidate_counts[b] * sizeof(double));
      key_offset += candidate_counts[b] * sizeof(double);
    }
    const std::span<const SymbolCounts> slice_histograms =
        std::span(histograms).subspan(begin / s.block, candidates.size());
    for (EncodedBlock& b :
         encode_vbq_blocks(plan, begin / s.block, slice_histograms, std::span(indices).first(n), candidates, vbq.threads)) {
      spill.append(b.bytes.data(), b.bytes.size());
      lengths.push_back(b.bytes.size());
      if (!escape) continue;
      plan.escapes.insert(plan.escapes.end(), b.escapes.begin(), b.escapes.end());
      plan.block_escapes.push_back(b.escapes.size());
    }
  }
  out.add_tensor(plan, lengths, [&](uint64_t offset, char* data, size_t size) { spill.read(offset, data, size); });
  plan.escapes = {}, plan.block_escapes = {};
  return plan;
}

}  // namespace

StreamedFile compress_file_streaming(const std::string& input, const ReadOptions& read, const std::string& output,
                                     bool force, const CompressSettings& settings, const StreamOptions& options) {
  if (!can_stream(settings))
    throw Error(ErrorKind::argument,
                "streaming compression supports the priors gauss, gauss-fit, student, mixture:K and empirical:K "
                "without refinement");
  check_posterior_file(input);
  const ModelSlices in(input, read);
  const Model& model = in.layout();
  if (!settings.tensor_lambdas.empty() && settings.tensor_lambdas.size() != model.tensors.size())
    throw Error(ErrorKind::argument, std::to_string(settings.tensor_lambdas.size()) + " tensor lambdas for " +
                                         std::to_string(model.tensors.size()) + " tensors");
  const std::vector<std::string> vocab = settings.include_vocab ? model.vocab : std::vector<std::string>();
  ContainerFileWriter out(output, force, uint32_t(model.tensors.size()), settings.vbq.coder == EntropyCoder::context,
                          !vocab.empty());
  const std::string directory = std::filesystem::path(output).parent_path().string();
  SpillFile keys_spill(directory, output), spill(directory, output);
  StreamedFile file;
  SliceBuffers buffers;
  VbqSettings vbq = settings.vbq;
  for (size_t i = 0; i < model.tensors.size(); ++i) {
    if (!settings.tensor_lambdas.empty()) vbq.lambda = settings.tensor_lambdas[i];
    TensorSlices s(in, i, options.slice_elements, buffers);
    const std::unique_ptr<Prior> prior = stream_prior(s, vbq.prior);
    file.headers.tensors.push_back(stream_tensor(s, *prior, vbq, keys_spill, spill, out));
  }
  file.layout = out.commit(vocab);
  file.headers.vocab = vocab;
  return file;
}

Container decompress_file_streaming(const std::string& input, const std::string& output, bool force, int threads) {
  check_can_overwrite(output, force);
  const MappedContainer file(input);
  Container c = file.container();
  check_decode_budget(c, input);
  ModelSliceWriter out(output, force);
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    EncodedTensor& e = c.tensors[i];
    Tensor t;
    t.name = e.name, t.mean_path = e.mean_path, t.shape = e.shape, t.float32 = e.float32;
    out.begin_tensor(t);
    const uint64_t per = e.symbols.block_symbols, slice = std::max<uint64_t>(1, (uint64_t(1) << 22) / per);
    const uint64_t blocks = (e.symbols.count + per - 1) / per;
    e.symbols.blocks.resize(blocks);
    for (uint64_t b = 0; b < blocks; b += slice) {
      const uint64_t end = std::min(blocks, b + slice);
      for (uint64_t k = b; k < end; ++k) e.symbols.blocks[k] = file.block(i, k);
      out.write(b * per, decode_blocks(e, b, slice, threads));
      for (uint64_t k = b; k < end; ++k) e.symbols.blocks[k] = {};  // bounded memory: one slice at a time
    }
    e.symbols.blocks = {}, e.escapes = {};
  }
  Model extras;
  extras.vocab = c.vocab;
  out.commit(extras);
  return c;
}

}  // namespace vbq
