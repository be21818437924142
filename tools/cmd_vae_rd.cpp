// vbq vae-rd (also `vbq rd VAE.h5 --task vae`): the image R-D task of a VAE, paper Sec. 4.2.
#include <cstdio>
#include <filesystem>

#include "eval/rd_options.hpp"
#include "eval/vae_rd.hpp"
#include "formats/atomic_file.hpp"
#include "formats/hdf5_model.hpp"
#include "tools/command.hpp"
#include "tools/progress.hpp"
#include "vbq/error.hpp"

namespace {

// Fig. 4's columns: lambdas from near-lossless to the prior's median (bitrate 0).
const std::vector<double> kFigureLambdas{0.01, 0.3, 1, 2, 4, 6.3, 10, 25, 1e9};

int run(const std::vector<std::string>& args) {
  namespace po = vbq::cli::po;
  std::string input, data, output, plot, figure, bits, lambdas, spacings, task;
  int threads = 0;
  size_t count = 0;
  double bits_lambda = 1;
  po::options_description opt("options");
  opt.add_options()
      ("input", po::value(&input)->required(), "VAE model (vbq train-vae)")
      ("task", po::value(&task)->default_value("vae"), "vae (the only task of this command)")
      ("data", po::value(&data)->default_value(vbq::cli::kFashionMnistDir), "idx directory (t10k = test)")
      ("output,o", po::value(&output)->required(), "CSV: method,setting,bytes,bits_per_pixel,psnr,ms_ssim")
      ("plot", po::value(&plot), "R-D plot (SVG; a PNG beside it)")
      ("figure", po::value(&figure), "Fig. 4-style PNG: test images by decreasing VBQ bitrate")
      ("bits", po::value(&bits), "Fig. 7 CSV: bits per latent dimension vs its collapse (a plot .svg beside it)")
      ("bits-lambda", po::value(&bits_lambda)->default_value(1), "lambda of --bits (uniform: the same file size)")
      ("lambdas", po::value(&lambdas), "VBQ lambdas: a,b,c or lo:hi:n (default 1e-3:1e4:36)")
      ("spacings", po::value(&spacings), "uniform grid spacings: a,b,c or lo:hi:n (default 0.02:7:33)")
      ("count", po::value(&count)->default_value(0), "use the first N test images (0 = all)")
      ("threads,T", po::value(&threads)->default_value(0), "threads (0 = all cores)")
      ("force,f", "overwrite outputs")
      ("quiet,q", "no progress bar");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!vbq::cli::parse_args(args, "vae-rd", "VAE.h5 --data DIR -o rd.csv [--plot rd.svg] [--figure f.png]", opt, pos,
                            vm))
    return 0;
  if (task != "vae") throw vbq::Error(vbq::ErrorKind::argument, "vae-rd: --task must be vae");
  const bool force = vm.count("force") > 0;
  for (const std::string& p : {output, plot, figure, bits})
    if (!p.empty()) vbq::check_can_overwrite(p, force);
  vbq::VaeRdOptions o = vbq::default_vae_rd_options();
  if (!lambdas.empty()) o.lambdas = vbq::parse_number_list(lambdas, "--lambdas");
  if (!spacings.empty()) o.spacings = vbq::parse_number_list(spacings, "--spacings");
  o.threads = vbq::cli::thread_count(threads);
  std::unique_ptr<vbq::ProgressBar> bar;  // finishes its line before the summary
  if (!vm.count("quiet")) o.on_progress = vbq::progress_callback(bar, "vae-rd");
  const vbq::VaeCoder coder = vbq::vae_coder(vbq::read_model(input, vbq::ReadOptions{{}, {}, false}), input);
  vbq::Dataset test = vbq::load_mnist_split(data, "t10k");
  if (count > 0 && count < test.rows) test.rows = count, test.x.resize(count * test.cols);
  const vbq::VaeRdResult r = vbq::run_vae_rd(coder, test, o);
  bar.reset();
  vbq::write_vae_rd_csv(output, r, force);
  std::printf("%s", vbq::vae_rd_summary(r).c_str());
  std::printf("wrote %s (%zu points)\n", output.c_str(), r.rows.size());
  if (!plot.empty()) {
    vbq::plot_vae_rd(plot, r, "VAE on Fashion-MNIST: " + std::filesystem::path(input).filename().string());
    std::printf("wrote %s and its .png\n", plot.c_str());
  }
  if (!figure.empty()) {
    const std::vector<double> bpp = vbq::write_vae_figure(figure, coder, test, kFigureLambdas, 8, force);
    std::printf("wrote %s: originals, then lambda 0.01 .. 1e9 (generic: every xi = 1/2) at", figure.c_str());
    for (double b : bpp) std::printf(" %.3f", b);
    std::printf(" bits per pixel\n");
  }
  if (!bits.empty()) {
    const std::string svg = std::filesystem::path(bits).replace_extension(".svg").string();
    const double spacing = vbq::write_vae_bits(bits, svg, coder, test, bits_lambda, 0, force);
    std::printf("wrote %s and %s (VBQ lambda %g, uniform spacing %.4g)\n", bits.c_str(), svg.c_str(), bits_lambda, spacing);
  }
  return 0;
}

vbq::cli::CommandRegistrar reg("vae-rd", "image R-D of a VAE: VBQ vs uniform vs JPEG (PSNR, MS-SSIM), CSV + plots", run);

}  // namespace
