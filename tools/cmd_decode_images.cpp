// vbq decode-images: a .vbqi file back to images (PNG grid or idx).
#include <cstdio>
#include <string>

#include "eval/vae_images.hpp"
#include "formats/atomic_file.hpp"
#include "formats/hdf5_model.hpp"
#include "formats/png.hpp"
#include "tools/command.hpp"
#include "vbq/error.hpp"

namespace {

int run(const std::vector<std::string>& args) {
  namespace po = vbq::cli::po;
  std::string input, model_path, out;
  size_t columns = 0, limit = 0;
  po::options_description opt("options");
  opt.add_options()
      ("input", po::value(&input)->required(), ".vbqi file")
      ("model", po::value(&model_path)->required(), "the VAE model it was coded with")
      ("output,o", po::value(&out)->required(), "output: .png (a grid of images) or anything else (idx3 ubyte)")
      ("columns", po::value(&columns)->default_value(0), "PNG grid columns (0 = about square)")
      ("count", po::value(&limit)->default_value(0), "PNG: only the first N images (0 = all)")
      ("force,f", "overwrite the output file");
  po::positional_options_description pos;
  pos.add("input", 1).add("model", 1);
  po::variables_map vm;
  if (!vbq::cli::parse_args(args, "decode-images", "images.vbqi VAE.h5 -o out.png [options]", opt, pos, vm)) return 0;
  const bool force = vm.count("force") > 0;
  vbq::check_can_overwrite(out, force);
  const vbq::VaeCoder coder = vbq::vae_coder(vbq::read_model(model_path, vbq::ReadOptions{{}, {}, false}), model_path);
  const std::string bytes = vbq::read_file_bytes(input);
  const vbq::DecodedImages d = vbq::decode_images(
      coder, std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), input);
  const size_t n = d.header.images, w = d.header.width, h = d.header.height;
  if (out.size() > 4 && out.substr(out.size() - 4) == ".png") {
    const size_t count = limit > 0 && limit < n ? limit : n;
    size_t cols = columns;
    while (cols == 0 || cols * cols < count) ++cols;
    if (columns) cols = columns;
    vbq::write_png_grid(out, std::vector<float>(d.pixels.begin(), d.pixels.begin() + ptrdiff_t(count * w * h)), count,
                        w, h, cols, force);
  } else {
    std::vector<uint8_t> idx{0, 0, 8, 3};  // magic 0x00000803: unsigned bytes, rank 3
    for (uint64_t v : {n, h, w})
      for (int s = 24; s >= 0; s -= 8) idx.push_back(uint8_t(v >> s));
    for (float p : d.pixels) idx.push_back(uint8_t(std::lround(std::clamp(p, 0.0f, 1.0f) * 255)));
    vbq::AtomicOutput file(out, force);
    file.write_all(idx.data(), idx.size());
    file.commit();
  }
  std::printf("decoded %zu images of %zux%zu (%s, %s %g) into %s\n", n, w, h, vbq::latent_method_name(d.header.method),
              d.header.method == vbq::LatentMethod::uniform ? "spacing" : "lambda", d.header.parameter, out.c_str());
  return 0;
}

vbq::cli::CommandRegistrar reg("decode-images", "decode a .vbqi file with its VAE into a PNG grid or idx images", run);

}  // namespace
