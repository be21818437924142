// vbq encode-images: the test images of an idx directory through a VAE into a .vbqi file.
#include <cstdio>

#include "eval/vae_images.hpp"
#include "formats/atomic_file.hpp"
#include "formats/hdf5_model.hpp"
#include "tools/command.hpp"
#include "vbq/error.hpp"

namespace {

int run(const std::vector<std::string>& args) {
  namespace po = vbq::cli::po;
  std::string model_path, data, split, out;
  double lambda = 0, spacing = 0;
  size_t limit = 0;
  po::options_description opt("options");
  opt.add_options()
      ("model", po::value(&model_path)->required(), "VAE model (vbq train-vae)")
      ("data", po::value(&data)->default_value(vbq::cli::kFashionMnistDir), "idx directory")
      ("split", po::value(&split)->default_value("t10k"), "which images: t10k (test) or train")
      ("count", po::value(&limit)->default_value(0), "code only the first N images (0 = all)")
      ("lambda", po::value(&lambda), "VBQ rate penalty lambda (Algorithm 1, prior N(0, 1))")
      ("refine", "vbq+refine: code points re-picked for their real code length (entropy-aware refinement)")
      ("wide", "with --refine, vbq+wide+refine: code points from the quantiles of N(0, 4) instead of N(0, 1)")
      ("uniform", po::value(&spacing), "instead of VBQ: round the posterior means to this grid spacing")
      ("output,o", po::value(&out)->required(), "output .vbqi file")
      ("force,f", "overwrite the output file");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!vbq::cli::parse_args(args, "encode-images", "VAE.h5 --lambda L -o images.vbqi [options]", opt, pos, vm))
    return 0;
  if (vm.count("lambda") == vm.count("uniform"))
    throw vbq::Error(vbq::ErrorKind::argument, "give exactly one of --lambda and --uniform");
  if (vm.count("wide") && !vm.count("refine")) throw vbq::Error(vbq::ErrorKind::argument, "--wide needs --refine");
  const bool force = vm.count("force") > 0;
  vbq::check_can_overwrite(out, force);
  const vbq::VaeCoder coder = vbq::vae_coder(vbq::read_model(model_path, vbq::ReadOptions{{}, {}, false}), model_path);
  vbq::Dataset images = vbq::load_mnist_split(data, split);
  if (limit > 0 && limit < images.rows) {
    images.rows = limit;
    images.x.resize(limit * images.cols);
  }
  const bool vbq_method = vm.count("lambda") > 0;
  const auto method = !vbq_method ? vbq::LatentMethod::uniform
                      : !vm.count("refine")  ? vbq::LatentMethod::vbq
                      : vm.count("wide")     ? vbq::LatentMethod::vbq_wide_refine
                                             : vbq::LatentMethod::vbq_refine;
  const std::vector<uint8_t> bytes = vbq::encode_images(coder, images, method, vbq_method ? lambda : spacing);
  vbq::AtomicOutput file(out, force);
  file.write_all(bytes.data(), bytes.size());
  file.commit();
  std::printf("%zu images in %zu bytes: %.4f bits per pixel (%s)\n", images.rows, bytes.size(),
              double(bytes.size()) * 8.0 / double(images.rows * images.cols), out.c_str());
  return 0;
}

vbq::cli::CommandRegistrar reg("encode-images", "code images with a VAE and VBQ into a .vbqi file", run);

}  // namespace
