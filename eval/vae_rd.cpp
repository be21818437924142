#include "eval/vae_rd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <numbers>
#include <sstream>

#include "eval/image_quality.hpp"
#include "eval/jpeg.hpp"
#include "eval/mlp.hpp"
#include "eval/plot.hpp"
#include "formats/atomic_file.hpp"
#include "formats/png.hpp"
#include "vbq/error.hpp"

namespace vbq {
namespace {

constexpr size_t kSide = 28;

std::vector<double> log_spaced(double lo, double hi, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(lo * std::pow(hi / lo, double(i) / double(n - 1)));
  return v;
}

std::string setting_text(const char* name, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s=%.4g", name, v);
  return buf;
}

double mean_ms_ssim_parallel(const std::vector<float>& ref, const std::vector<float>& dist, size_t n, int threads) {
  std::vector<double> per(n);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (long k = 0; k < long(n); ++k)
    per[size_t(k)] = ms_ssim(std::span(ref).subspan(size_t(k) * kSide * kSide, kSide * kSide),
                             std::span(dist).subspan(size_t(k) * kSide * kSide, kSide * kSide), kSide, kSide);
  double sum = 0;
  for (double v : per) sum += v;
  return sum / double(n);
}

// A .vbqi file of the test posteriors, decoded from its bytes.
struct Coded {
  std::vector<uint8_t> bytes;
  DecodedImages decoded;
  std::vector<size_t> dim_bytes;
};
Coded code(const VaeCoder& coder, const std::vector<double>& mu, const std::vector<double>& sigma, size_t n,
           LatentMethod method, double parameter) {
  Coded c;
  const LatentTables tables = coder.tables(method, parameter);
  VbqiHeader h{method, parameter, coder.model_crc, n, coder.net.latent, kSide, kSide};
  c.bytes = write_vbqi(h, tables, quantize_latents(tables, mu, sigma), &c.dim_bytes);
  c.decoded = decode_images(coder, c.bytes, std::string(latent_method_name(method)) + " file");
  return c;
}

// Pareto front of (bpp, quality): ascending bpp, strictly rising quality.
std::vector<std::pair<double, double>> front(const VaeRdResult& r, const std::string& method) {
  std::vector<std::pair<double, double>> pts;
  for (const auto& row : r.rows)
    if (row.method == method) pts.push_back({row.bits_per_pixel, row.psnr});
  std::sort(pts.begin(), pts.end());
  std::vector<std::pair<double, double>> f;
  for (const auto& p : pts)
    if (f.empty() || p.second > f.back().second) f.push_back(p);
  return f;
}

// Linear interpolation on a front: bpp at a PSNR (by_psnr) or PSNR at a bpp. NaN outside.
double interpolate(const std::vector<std::pair<double, double>>& f, double x, bool by_psnr) {
  for (size_t i = 1; i < f.size(); ++i) {
    const double x0 = by_psnr ? f[i - 1].second : f[i - 1].first, x1 = by_psnr ? f[i].second : f[i].first;
    const double y0 = by_psnr ? f[i - 1].first : f[i - 1].second, y1 = by_psnr ? f[i].first : f[i].second;
    if (x >= x0 && x <= x1) return x1 > x0 ? y0 + (y1 - y0) * (x - x0) / (x1 - x0) : y0;
  }
  return NAN;
}

}  // namespace

VaeRdOptions default_vae_rd_options() {
  VaeRdOptions o;
  o.lambdas = log_spaced(1e-3, 1e4, 36);
  o.spacings = log_spaced(0.02, 7, 33);
  for (int q = 1; q <= 30; ++q) o.qualities.push_back(q);
  for (int q = 35; q <= 95; q += 5) o.qualities.push_back(q);
  return o;
}

VaeRdResult run_vae_rd(const VaeCoder& coder, const Dataset& test, const VaeRdOptions& o) {
  if (test.rows == 0 || test.cols != kSide * kSide || coder.net.pixels != test.cols)
    throw Error(ErrorKind::argument, "the VAE R-D task needs 28 x 28 test images and a VAE of 784 pixels");
  set_blas_threads(o.threads);
  VaeRdResult r;
  r.images = test.rows, r.pixels = test.cols;
  const double pixels = double(test.rows * test.cols);
  std::vector<double> mu, sigma;
  vae_encode(coder.net, test.x.data(), test.rows, mu, sigma);
  std::vector<float> recon;
  vae_decode(coder.net, mu.data(), test.rows, recon);
  r.reference_psnr = psnr_db(test.x, recon);
  r.reference_ms_ssim = mean_ms_ssim_parallel(test.x, recon, test.rows, o.threads);

  const LatentMethod vbq_methods[] = {LatentMethod::vbq, LatentMethod::vbq_refine, LatentMethod::vbq_wide_refine};
  const double planned = double(std::size(vbq_methods) * o.lambdas.size() + o.spacings.size() + o.qualities.size());
  double done = 0;
  auto report = [&](const std::string& status) {
    if (o.on_progress) o.on_progress(++done, planned, status);
  };
  auto add = [&](const char* method, std::string setting, uint64_t bytes, const std::vector<float>& px) {
    r.rows.push_back({method, std::move(setting), bytes, double(bytes) * 8.0 / pixels, psnr_db(test.x, px),
                      mean_ms_ssim_parallel(test.x, px, test.rows, o.threads)});
  };
  for (LatentMethod method : vbq_methods)
    for (double lambda : o.lambdas) {
      Coded c = code(coder, mu, sigma, test.rows, method, lambda);
      add(latent_method_name(method), setting_text("lambda", lambda), c.bytes.size(), c.decoded.pixels);
      report(std::string(latent_method_name(method)) + " " + setting_text("lambda", lambda));
    }
  for (double delta : o.spacings) {
    Coded c = code(coder, mu, sigma, test.rows, LatentMethod::uniform, delta);
    add("uniform", setting_text("spacing", delta), c.bytes.size(), c.decoded.pixels);
    report("uniform " + setting_text("spacing", delta));
  }
  for (int q : o.qualities) {
    std::vector<float> px(test.x.size());
    std::vector<uint64_t> file_bytes(test.rows), payload(test.rows);
#pragma omp parallel for num_threads(o.threads) schedule(static)
    for (long k = 0; k < long(test.rows); ++k) {
      const size_t i = size_t(k);
      const std::vector<uint8_t> f = jpeg_encode(std::span(test.x).subspan(i * test.cols, test.cols), kSide, kSide, q);
      file_bytes[i] = f.size();
      payload[i] = jpeg_payload_bytes(f);
      const std::vector<float> d = jpeg_decode(f, kSide, kSide);
      std::copy(d.begin(), d.end(), px.begin() + ptrdiff_t(i * test.cols));
    }
    uint64_t total = 0, total_payload = 0;
    for (size_t i = 0; i < test.rows; ++i) total += file_bytes[i], total_payload += payload[i];
    add("jpeg", "quality=" + std::to_string(q), total, px);
    VaeRdRow stripped = r.rows.back();
    stripped.method = "jpeg-noheader";
    stripped.bytes = total_payload;
    stripped.bits_per_pixel = double(total_payload) * 8.0 / pixels;
    r.rows.push_back(stripped);
    report("jpeg quality=" + std::to_string(q));
  }
  return r;
}

void write_vae_rd_csv(const std::string& path, const VaeRdResult& r, bool force) {
  std::ostringstream s;
  s << "method,setting,bytes,bits_per_pixel,psnr,ms_ssim\n";
  char line[256];
  for (const auto& row : r.rows) {
    std::snprintf(line, sizeof line, "%s,%s,%llu,%.6f,%.4f,%.5f\n", row.method.c_str(), row.setting.c_str(),
                  (unsigned long long)row.bytes, row.bits_per_pixel, row.psnr, row.ms_ssim);
    s << line;
  }
  const std::string text = s.str();
  AtomicOutput out(path, force);
  out.write_all(text.data(), text.size());
  out.commit();
}

std::string vae_rd_summary(const VaeRdResult& r) {
  std::ostringstream s;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "VAE R-D on %zu test images (%zu pixels each); unquantized posterior means: PSNR %.2f dB, MS-SSIM "
                "%.4f\n",
                r.images, r.pixels, r.reference_psnr, r.reference_ms_ssim);
  s << buf;
  std::vector<std::string> methods;
  for (const auto& row : r.rows)
    if (row.method.rfind("vbq", 0) == 0 && std::find(methods.begin(), methods.end(), row.method) == methods.end())
      methods.push_back(row.method);
  const auto uniform = front(r, "uniform");
  for (const std::string& m : methods) {
    const auto f = front(r, m);
    if (f.size() < 2 || uniform.size() < 2) continue;
    const double lo = std::max(f.front().second, uniform.front().second);
    const double hi = std::min(f.back().second, uniform.back().second);
    if (!(hi > lo)) {
      s << m << " vs uniform: no common PSNR range\n";
      continue;
    }
    const double top = hi - 0.05 * (hi - lo);
    double worst = 0, sum = 0;
    int n = 0;
    for (int i = 0; i <= 20; ++i) {
      const double p = lo + (top - lo) * i / 20.0;
      const double ratio = interpolate(f, p, true) / interpolate(uniform, p, true);
      if (std::isfinite(ratio)) worst = std::max(worst, ratio), sum += ratio, ++n;
    }
    std::snprintf(buf, sizeof buf,
                  "%s vs uniform at equal PSNR (%.2f..%.2f dB, the common range without its top 5%%): bpp ratio "
                  "max %.3f, mean %.3f (goal: max <= 0.8)\n",
                  m.c_str(), lo, top, worst, sum / std::max(n, 1));
    s << buf;
    const double bmin = f.front().first, bmax = f.back().first;
    int inside = 0, wins = 0;
    double margin = INFINITY;
    for (const auto& row : r.rows) {
      if (row.method != "jpeg-noheader" || row.bits_per_pixel >= 1 || row.bits_per_pixel < bmin ||
          row.bits_per_pixel > bmax)
        continue;
      ++inside;
      const double v = interpolate(f, row.bits_per_pixel, false) - row.psnr;
      wins += v > 0;
      margin = std::min(margin, v);
    }
    std::snprintf(buf, sizeof buf,
                  "%s vs jpeg-noheader: %d of %d JPEG points below 1 bpp inside %s's range (%.3f..%.3f bpp) have a "
                  "lower PSNR than %s at equal bpp (smallest margin %.2f dB; goal: all, >= 3 points)\n",
                  m.c_str(), wins, inside, m.c_str(), bmin, bmax, m.c_str(), inside ? margin : 0.0);
    s << buf;
    // At equal PSNR: what JPEG without headers needs, over the PSNRs both reach.
    const auto jpeg = front(r, "jpeg-noheader");
    if (jpeg.size() >= 2) {
      const double jlo = std::max(f.front().second, jpeg.front().second), jhi = std::min(f.back().second, jpeg.back().second);
      if (jhi > jlo) {
        std::snprintf(buf, sizeof buf,
                      "%s vs jpeg-noheader at equal PSNR: jpeg-noheader needs %.2fx the bpp at %.2f dB and %.2fx at "
                      "%.2f dB (the PSNRs both reach)\n",
                      m.c_str(), interpolate(jpeg, jlo, true) / interpolate(f, jlo, true), jlo,
                      interpolate(jpeg, jhi, true) / interpolate(f, jhi, true), jhi);
        s << buf;
      }
    }
  }
  return s.str();
}

void plot_vae_rd(const std::string& svg_path, const VaeRdResult& r, const std::string& title) {
  ScratchDir dir;
  std::map<std::string, std::ofstream> files;
  std::vector<std::string> order;
  for (const auto& row : r.rows) {
    if (!files.count(row.method)) {
      files.emplace(row.method, std::ofstream(dir.file(row.method + ".dat")));
      order.push_back(row.method);
    }
    files[row.method] << row.bits_per_pixel << " " << row.psnr << " " << row.ms_ssim << "\n";
  }
  for (auto& [name, f] : files) f.close();
  auto panel = [&](int column, const char* label) {
    std::ostringstream p;
    p << "set ylabel '" << label << "'\nplot ";
    for (size_t i = 0; i < order.size(); ++i)
      p << (i ? ", " : "") << "'" << dir.file(order[i] + ".dat") << "' using 1:" << column << " with linespoints "
        << series_style(i) << " pt 7 ps 0.5 title '" << order[i] << "'";
    return p.str() + "\n";
  };
  std::ostringstream gp;
  gp << "set grid\nset key bottom right noenhanced\nset xlabel 'bits per pixel (log scale)'\nset logscale x\n"
     << "set xrange [0.003:*]\n"
     << "set multiplot layout 1,2 title \"" << title << "\" noenhanced\n"
     << panel(2, "PSNR (dB)") << panel(3, "MS-SSIM (3 scales, 5x5 window)") << "unset multiplot\n";
  render_plot(svg_path, gp.str(), dir, 1400, 600);
}

std::vector<double> write_vae_figure(const std::string& png_path, const VaeCoder& coder, const Dataset& test,
                                     const std::vector<double>& lambdas, size_t rows, bool force) {
  rows = std::min(rows, test.rows);
  if (rows == 0 || lambdas.empty()) throw Error(ErrorKind::argument, "figure: no images or no lambdas");
  const size_t P = test.cols, cols = lambdas.size() + 1;
  std::vector<double> mu, sigma, bpp;
  vae_encode(coder.net, test.x.data(), test.rows, mu, sigma);
  std::vector<float> grid(rows * cols * P);
  for (size_t i = 0; i < rows; ++i) std::copy_n(test.x.begin() + ptrdiff_t(i * P), P, grid.begin() + ptrdiff_t(i * cols * P));
  for (size_t c = 0; c < lambdas.size(); ++c) {
    // The whole test set is coded, so that the bits per pixel are those of the R-D sweep.
    Coded k = code(coder, mu, sigma, test.rows, LatentMethod::vbq, lambdas[c]);
    bpp.push_back(double(k.bytes.size()) * 8.0 / double(test.rows * P));
    for (size_t i = 0; i < rows; ++i)
      std::copy_n(k.decoded.pixels.begin() + ptrdiff_t(i * P), P, grid.begin() + ptrdiff_t((i * cols + c + 1) * P));
  }
  write_png_grid(png_path, grid, rows * cols, kSide, kSide, cols, force);
  return bpp;
}

double write_vae_bits(const std::string& csv_path, const std::string& svg_path, const VaeCoder& coder,
                      const Dataset& test, double lambda, double spacing, bool force) {
  std::vector<double> mu, sigma;
  vae_encode(coder.net, test.x.data(), test.rows, mu, sigma);
  const size_t L = coder.net.latent, n = test.rows;
  const Coded v = code(coder, mu, sigma, n, LatentMethod::vbq, lambda);
  if (!(spacing > 0)) {  // the spacing whose file comes closest in size to VBQ's (bisection in log spacing)
    double a = std::log(1e-3), b = std::log(100.0);
    for (int it = 0; it < 30; ++it) {
      const double mid = 0.5 * (a + b);
      (code(coder, mu, sigma, n, LatentMethod::uniform, std::exp(mid)).bytes.size() > v.bytes.size() ? a : b) = mid;
    }
    spacing = std::exp(0.5 * (a + b));
  }
  const Coded u = code(coder, mu, sigma, n, LatentMethod::uniform, spacing);
  // KL(q_d || N(0, 1)) = integral q log(q / p) on a grid over [-8, 8] (step 0.005),
  // q_d the mixture of the first 2000 test posteriors.
  const size_t m = std::min<size_t>(n, 2000), steps = 3200;
  const double lo = -8, step = 16.0 / double(steps);
  std::vector<double> kl(L), mean_sigma(L), kl_post(L, 0.0);
  // Mean KL(q(z_d|x) || N(0, 1)) over the test images: 0 exactly when the dimension is
  // collapsed (every posterior is the prior), the information it carries otherwise.
  for (size_t i = 0; i < n; ++i)
    for (size_t d = 0; d < L; ++d) {
      const double m = mu[i * L + d], sd = sigma[i * L + d];
      kl_post[d] += 0.5 * (m * m + sd * sd - 1 - 2 * std::log(sd)) / double(n);
    }
#pragma omp parallel for schedule(dynamic)
  for (long dl = 0; dl < long(L); ++dl) {
    const size_t d = size_t(dl);
    double total = 0, ssum = 0;
    for (size_t i = 0; i < m; ++i) ssum += sigma[i * L + d];
    for (size_t g = 0; g <= steps; ++g) {
      const double z = lo + double(g) * step;
      double q = 0;
      for (size_t i = 0; i < m; ++i) {
        const double s = sigma[i * L + d], t = (z - mu[i * L + d]) / s;
        q += std::exp(-0.5 * t * t) / s;
      }
      q /= double(m) * std::sqrt(2 * std::numbers::pi);
      const double p = std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
      if (q > 1e-300) total += q * std::log(q / p) * step;
    }
    kl[d] = total, mean_sigma[d] = ssum / double(m);
  }
  std::ostringstream s;
  s << "dim,kl_aggregate_nats,kl_posterior_nats,mean_sigma,vbq_bits,uniform_bits\n";
  char line[200];
  for (size_t d = 0; d < L; ++d) {
    std::snprintf(line, sizeof line, "%zu,%.5f,%.5f,%.5f,%.5f,%.5f\n", d, kl[d], kl_post[d], mean_sigma[d],
                  double(v.dim_bytes[d]) * 8.0 / double(n), double(u.dim_bytes[d]) * 8.0 / double(n));
    s << line;
  }
  const std::string text = s.str();
  {
    AtomicOutput out(csv_path, force);
    out.write_all(text.data(), text.size());
    out.commit();
  }
  if (svg_path.empty()) return spacing;
  ScratchDir dir;
  std::ofstream(dir.file("bits.csv")) << text;
  std::ostringstream gp;
  char t[200];
  std::snprintf(t, sizeof t, "bits per latent dimension vs posterior collapse (VBQ lambda %g, uniform spacing %g)",
                lambda, spacing);
  gp << "set datafile separator ','\nset grid\nset key top left noenhanced\nset title '" << t << "' noenhanced\n"
     << "set xlabel 'mean KL(q(z_d|x) || N(0,1)) over test images, nats (0 = collapsed)' noenhanced\n"
     << "set ylabel 'bits per image in dimension d (real stream bytes)'\n"
     << "plot '" << dir.file("bits.csv") << "' every ::1 using 3:5 with points pt 7 ps 1.2 lc rgb '#d62728' title 'VBQ', "
     << "'' every ::1 using 3:6 with points pt 5 ps 1.0 lc rgb '#000000' title 'uniform'\n";
  render_plot(svg_path, gp.str(), dir, 900, 620);
  return spacing;
}

}  // namespace vbq
