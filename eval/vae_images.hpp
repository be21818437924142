// Image coding with a trained VAE and VBQ (paper Sec. 4.2): images -> posterior
// (encoder) -> code points of the latents (app/image_codec: Algorithm 1 or the
// uniform grid, rANS with tables from the model's training posteriors) -> .vbqi
// bytes, and back: symbols -> latents -> decoder mean.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "app/image_codec.hpp"
#include "eval/vae_net.hpp"
#include "formats/idx.hpp"

namespace vbq {

// A VAE model with what coding needs: its networks, the training posteriors behind
// the code-point tables, and their fingerprint.
struct VaeCoder {
  VaeNet net;
  std::vector<double> table_mu, table_sigma;  // [m, latent]
  uint32_t model_crc = 0;
  // The code-point tables of a method and setting.
  LatentTables tables(LatentMethod method, double parameter) const;
};

// Throws ErrorKind::format, naming `name` (the model file), if the model is not a VAE
// or lacks code_table/latents.
VaeCoder vae_coder(const Model& model, const std::string& name = "model");

// Images x [n, pixels] in [0, 1] (n >= 1, pixels = the net's) as .vbqi bytes.
std::vector<uint8_t> encode_images(const VaeCoder& coder, const Dataset& images, LatentMethod method,
                                   double parameter, size_t width = 28, size_t height = 28);

struct DecodedImages {
  VbqiHeader header;
  std::vector<uint32_t> symbols;  // [images, latent]
  std::vector<double> latents;    // z [images, latent]
  std::vector<float> pixels;      // [images, width * height], in [0, 1]
};
// Decodes a .vbqi file (`name` for messages). Throws as read_vbqi_symbols, and
// ErrorKind::argument if the file was coded with another model (fingerprint) or
// image size.
DecodedImages decode_images(const VaeCoder& coder, std::span<const uint8_t> bytes, const std::string& name);

}  // namespace vbq
