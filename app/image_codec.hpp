// Coding the latents of a batch of images (a VAE's posterior per image, paper
// Sec. 4.2) into a .vbqi file, and back. The byte layout is formats/VBQI.md.
//
// Each latent dimension d gets a code-point table shared by encoder and decoder:
// it is derived from the posteriors of training images stored in the model
// (code_table/latents, eval/vae_net.hpp) by quantizing them with the same method
// and setting, so a file carries only the images' symbols (paper Sec. 3.3,
// "Encoding": the table is the empirical distribution of code points).
// Methods:
//  - vbq: Algorithm 1 (lib/quantizer) with the prior N(0, 1), posterior
//    N(mu, sigma^2), rate penalty lambda; a code point the training images never
//    chose is replaced by the table's code point of smallest Eq. 9 loss,
//    (F^{-1}(xi) - mu)^2 + 2 lambda sigma^2 R(xi) (Algorithm 1 restricted to the table).
//  - vbq+refine: Algorithm 1, then entropy-aware refinement (lib/refinement) of the
//    training images' code points per dimension, so the table holds code points
//    chosen for their real code length; an image's coordinate takes the table's code
//    point of least (F^{-1}(xi) - mu)^2 + 2 lambda sigma^2 (-log2 p_d(xi)), p_d the
//    coder's quantized frequency: Eq. 9 with the bits the file pays.
//  - vbq+wide+refine: vbq+refine with the code points of the wider prior N(0, 2^2)
//    (kWideGridStd) in place of N(0, 1). Its dyadic grid is nearly evenly spaced
//    over the latents' range (|z| < 2), which entropy coding favours at high rates,
//    while Algorithm 1 still sets each coordinate's depth by its sigma.
//  - uniform: the paper's baseline, mu rounded to the grid delta * Z (delta =
//    `parameter`), reconstruction q delta; a grid point outside the table is
//    replaced by the nearest one in it.
// The symbols of dimension d over all images form one rANS stream (lib/rans) with
// d's table, so the coder's 32 bytes of final states are paid once per dimension
// and file, and an image costs its symbols only (no per-image framing: every image
// has exactly L symbols).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vbq/rans.hpp"

namespace vbq {

enum class LatentMethod : uint8_t { vbq = 1, uniform = 2, vbq_refine = 3, vbq_wide_refine = 4 };
// "vbq" / "uniform" / "vbq+refine" / "vbq+wide+refine"
const char* latent_method_name(LatentMethod m);

// Std of the prior whose quantiles give vbq+wide+refine its code points.
inline constexpr double kWideGridStd = 2.0;

// Refinement passes of vbq+refine over the training posteriors.
inline constexpr int kLatentRefinePasses = 4;

struct LatentTables {
  LatentMethod method = LatentMethod::vbq;
  double parameter = 0;  // lambda (vbq, vbq+refine) or grid spacing delta (uniform), > 0
  size_t dims = 0;
  // Per dimension: the code points the training images use (CodeKey for vbq,
  // zigzag(q) for uniform), ascending; their reconstructions z; their frequencies.
  std::vector<std::vector<uint64_t>> keys;
  std::vector<std::vector<double>> values;
  std::vector<FrequencyTable> tables;
};

// Tables from training posteriors mu, sigma [m, dims] (m >= 1, sigma > 0). Throws
// ErrorKind::argument on bad sizes or parameter <= 0.
LatentTables latent_tables(LatentMethod method, double parameter, std::span<const double> mu,
                           std::span<const double> sigma, size_t dims);

// Symbols (indices into tables.keys[d]) of n images' posteriors [n, dims].
std::vector<uint32_t> quantize_latents(const LatentTables& tables, std::span<const double> mu,
                                       std::span<const double> sigma);
// Latent vectors z [n, dims] of symbols [n, dims].
std::vector<double> latent_values(const LatentTables& tables, std::span<const uint32_t> symbols);

// What a .vbqi file says about itself.
struct VbqiHeader {
  LatentMethod method = LatentMethod::vbq;
  double parameter = 0;
  uint32_t model_crc = 0;  // vbqi_model_crc of the model the file was coded with
  uint64_t images = 0, dims = 0, width = 0, height = 0;
};

// The .vbqi bytes of symbols [header.images, header.dims] coded with `tables`;
// if dim_bytes is given, the bytes of each dimension's stream (with its length varint).
std::vector<uint8_t> write_vbqi(const VbqiHeader& header, const LatentTables& tables,
                                std::span<const uint32_t> symbols, std::vector<size_t>* dim_bytes = nullptr);
// The header alone. Throws ErrorKind::format (not a .vbqi file, unknown major
// version) or ErrorKind::corrupt (truncated, bad field), naming `name`.
VbqiHeader read_vbqi_header(std::span<const uint8_t> bytes, const std::string& name);
// The symbols [images, dims], decoded with `tables` (those of the header's method and
// parameter). Throws as read_vbqi_header, and ErrorKind::corrupt naming the dimension
// whose stream fails to decode or the checksum.
std::vector<uint32_t> read_vbqi_symbols(std::span<const uint8_t> bytes, const LatentTables& tables,
                                        const std::string& name);

// Fingerprint of a model's code-table posteriors (float32 bytes of mu then sigma),
// so that a file decoded with another model fails clearly.
uint32_t vbqi_model_crc(std::span<const double> mu, std::span<const double> sigma);

}  // namespace vbq
