#include "eval/vae_images.hpp"

#include "vbq/error.hpp"

namespace vbq {

LatentTables VaeCoder::tables(LatentMethod method, double parameter) const {
  return latent_tables(method, parameter, table_mu, table_sigma, net.latent);
}

VaeCoder vae_coder(const Model& model, const std::string& name) {
  VaeCoder c;
  try {
    c.net = vae_from_model(model);
  } catch (const Error& e) {
    throw Error(e.kind(), name + ": " + e.what());
  }
  const Tensor* t = model.find(kVaeCodeTableTensor);
  if (!t || t->shape.size() != 2 || t->shape[1] != c.net.latent || t->sigma.size() != t->mu.size() || t->mu.empty())
    throw Error(ErrorKind::format, name + ": tensor '" + kVaeCodeTableTensor +
                                       "' (training posteriors [m, latent] with std) missing or misshapen");
  c.table_mu = t->mu;
  c.table_sigma = t->sigma;
  c.model_crc = vbqi_model_crc(c.table_mu, c.table_sigma);
  return c;
}

std::vector<uint8_t> encode_images(const VaeCoder& coder, const Dataset& images, LatentMethod method,
                                   double parameter, size_t width, size_t height) {
  if (images.rows == 0) throw Error(ErrorKind::argument, "no images to encode");
  if (images.cols != coder.net.pixels || width * height != images.cols)
    throw Error(ErrorKind::argument, "images have " + std::to_string(images.cols) + " pixels, the VAE takes " +
                                         std::to_string(coder.net.pixels));
  std::vector<double> mu, sigma;
  vae_encode(coder.net, images.x.data(), images.rows, mu, sigma);
  const LatentTables tables = coder.tables(method, parameter);
  const std::vector<uint32_t> symbols = quantize_latents(tables, mu, sigma);
  VbqiHeader h{method, parameter, coder.model_crc, images.rows, coder.net.latent, width, height};
  return write_vbqi(h, tables, symbols);
}

DecodedImages decode_images(const VaeCoder& coder, std::span<const uint8_t> bytes, const std::string& name) {
  DecodedImages d;
  d.header = read_vbqi_header(bytes, name);
  if (d.header.model_crc != coder.model_crc)
    throw Error(ErrorKind::argument, name + ": coded with another VAE model (code-table fingerprint differs)");
  if (d.header.dims != coder.net.latent || d.header.width * d.header.height != coder.net.pixels)
    throw Error(ErrorKind::argument, name + ": image or latent size differs from the model's");
  const LatentTables tables = coder.tables(d.header.method, d.header.parameter);
  d.symbols = read_vbqi_symbols(bytes, tables, name);
  d.latents = latent_values(tables, d.symbols);
  vae_decode(coder.net, d.latents.data(), d.header.images, d.pixels);
  return d;
}

}  // namespace vbq
