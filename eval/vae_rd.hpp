// The R-D task of a VAE on images (paper Sec. 4.2, Figs. 4, 6, 7 at Fashion-MNIST
// scale): every method codes the whole test set into real bytes, which are decoded
// and scored.
//  - vbq:      .vbqi files, Algorithm 1 with the prior N(0, 1), one lambda per point;
//  - vbq+refine: the same with entropy-aware refinement (app/image_codec.hpp);
//  - vbq+wide+refine: vbq+refine on the code points of N(0, 2^2) (app/image_codec.hpp);
//  - uniform:  .vbqi files, the posterior means rounded to a grid of spacing delta,
//              entropy-coded with the same coder and tables from the same training
//              posteriors (the paper's baseline);
//  - jpeg:     one libjpeg-turbo file per image (eval/jpeg), quality sweep;
//  - jpeg-noheader: the same files without their headers (entropy-coded data only).
// Rate: bits_per_pixel = total bytes * 8 / (images * pixels). Quality: PSNR =
// 10 log10(1 / MSE), MSE over every pixel of every image; MS-SSIM as in
// eval/image_quality.hpp (3 scales, 5x5 window), averaged over images.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eval/vae_images.hpp"

namespace vbq {

struct VaeRdOptions {
  std::vector<double> lambdas;   // vbq
  std::vector<double> spacings;  // uniform
  std::vector<int> qualities;    // jpeg
  int threads = 1;
  // Called after each point: points done, points planned, what was done.
  std::function<void(double done, double planned, const std::string& status)> on_progress;
};
// Lambdas 1e-3..1e4 (36, log-spaced: 5 per decade), spacings 0.02..7 (33: on the default
// VAE from 1 bpp down to 0.0015 bpp, where the grid still codes a few means; past ~10
// every mean rounds to 0, the file VBQ also writes at large lambda), JPEG qualities
// 1..30 and 35..95 by 5. At lambda 1e-3 the default VAE decodes within 0.01 dB of its
// ceiling (the decoder at the posterior means); smaller lambdas only add bits.
VaeRdOptions default_vae_rd_options();

struct VaeRdRow {
  std::string method, setting;
  uint64_t bytes = 0;
  double bits_per_pixel = 0, psnr = 0, ms_ssim = 0;
};

struct VaeRdResult {
  size_t images = 0, pixels = 0;
  double reference_psnr = 0, reference_ms_ssim = 0;  // decoder mean at the posterior means (no quantization)
  std::vector<VaeRdRow> rows;
};

// Codes the test images with every method and setting.
VaeRdResult run_vae_rd(const VaeCoder& coder, const Dataset& test, const VaeRdOptions& options);

// CSV: method,setting,bytes,bits_per_pixel,psnr,ms_ssim. Atomic; refuses to overwrite without force.
void write_vae_rd_csv(const std::string& path, const VaeRdResult& result, bool force);

// The comparisons the task is judged by, as text:
//  - per vbq method, bpp(vbq) / bpp(uniform) at equal PSNR over their common PSNR
//    range without its top 5% (max and mean over 20 levels; curves are the Pareto
//    fronts, interpolated linearly);
//  - vbq against jpeg-noheader: the JPEG points below 1 bpp inside VBQ's bitrate
//    range, and how many have a lower PSNR than VBQ at the same bpp.
std::string vae_rd_summary(const VaeRdResult& result);

// bpp vs PSNR and bpp vs MS-SSIM, one line per method (SVG and PNG beside it).
void plot_vae_rd(const std::string& svg_path, const VaeRdResult& result, const std::string& title);

// Fig. 4: rows of the first `rows` test images, columns: the original, then VBQ
// reconstructions at the given lambdas (increasing: decreasing bitrate). Returns the
// bits per pixel of each lambda over the whole test set (as in the R-D sweep).
std::vector<double> write_vae_figure(const std::string& png_path, const VaeCoder& coder, const Dataset& test,
                                     const std::vector<double>& lambdas, size_t rows, bool force);

// Fig. 7: per latent dimension, KL(q(z_d) || N(0, 1)) of the aggregate posterior
// q(z_d) = mean over test images of N(mu, sigma^2) (numerically, on a grid), the mean
// per-image KL(q(z_d|x) || N(0, 1)) (closed form; 0 exactly for a collapsed dimension,
// the plot's axis: an aggregate posterior near the prior does not tell a collapsed
// dimension from a well-used one), and
// the real bytes of its stream per image, in bits, for VBQ at `lambda` and uniform
// at `spacing` (<= 0: the spacing whose file is closest in size to VBQ's). CSV (dim,
// kl_aggregate_nats, kl_posterior_nats, mean_sigma, vbq_bits, uniform_bits) and, if svg_path is not
// empty, a plot (SVG + PNG) of bits vs KL. Returns the spacing used.
double write_vae_bits(const std::string& csv_path, const std::string& svg_path, const VaeCoder& coder,
                      const Dataset& test, double lambda, double spacing, bool force);

}  // namespace vbq
