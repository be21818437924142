#include "eval/image_quality.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "vbq/error.hpp"

namespace vbq {
namespace {

constexpr int kWindow = 5, kScales = 3;
constexpr double kWeights[kScales] = {0.0448 / 0.6305, 0.2856 / 0.6305, 0.3001 / 0.6305};
constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;

// Mean luminance term and mean contrast-structure term of SSIM over valid window positions.
void ssim_terms(const std::vector<double>& a, const std::vector<double>& b, size_t w, size_t h, double& lum,
                double& cs) {
  double g[kWindow], gsum = 0;
  for (int i = 0; i < kWindow; ++i) g[i] = std::exp(-0.5 * (i - kWindow / 2) * (i - kWindow / 2)), gsum += g[i];
  for (double& v : g) v /= gsum;
  double lsum = 0, csum = 0;
  size_t n = 0;
  for (size_t y = 0; y + kWindow <= h; ++y)
    for (size_t x = 0; x + kWindow <= w; ++x) {
      double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
      for (int dy = 0; dy < kWindow; ++dy)
        for (int dx = 0; dx < kWindow; ++dx) {
          const double wt = g[dy] * g[dx], va = a[(y + dy) * w + x + dx], vb = b[(y + dy) * w + x + dx];
          ma += wt * va, mb += wt * vb, saa += wt * va * va, sbb += wt * vb * vb, sab += wt * va * vb;
        }
      const double va = saa - ma * ma, vb = sbb - mb * mb, cov = sab - ma * mb;
      lsum += (2 * ma * mb + kC1) / (ma * ma + mb * mb + kC1);
      csum += (2 * cov + kC2) / (va + vb + kC2);
      ++n;
    }
  lum = lsum / double(n), cs = csum / double(n);
}

std::vector<double> halve(const std::vector<double>& a, size_t& w, size_t& h) {
  const size_t w2 = w / 2, h2 = h / 2;
  std::vector<double> out(w2 * h2);
  for (size_t y = 0; y < h2; ++y)
    for (size_t x = 0; x < w2; ++x)
      out[y * w2 + x] = 0.25 * (a[2 * y * w + 2 * x] + a[2 * y * w + 2 * x + 1] + a[(2 * y + 1) * w + 2 * x] +
                                a[(2 * y + 1) * w + 2 * x + 1]);
  w = w2, h = h2;
  return out;
}

}  // namespace

double psnr_db(std::span<const float> ref, std::span<const float> dist) {
  if (ref.empty() || ref.size() != dist.size())
    throw Error(ErrorKind::argument, "PSNR: the image sets differ in size or are empty");
  double se = 0;
  for (size_t i = 0; i < ref.size(); ++i) se += (double(ref[i]) - double(dist[i])) * (double(ref[i]) - double(dist[i]));
  return 10.0 * std::log10(double(ref.size()) / se);
}

double ms_ssim(std::span<const float> ref, std::span<const float> dist, size_t w, size_t h) {
  if (w < 20 || h < 20 || ref.size() != w * h || dist.size() != w * h)
    throw Error(ErrorKind::argument, "MS-SSIM needs two images of w x h >= 20 x 20 pixels");
  std::vector<double> a(ref.begin(), ref.end()), b(dist.begin(), dist.end());
  double result = 1;
  for (int s = 0; s < kScales; ++s) {
    double lum, cs;
    ssim_terms(a, b, w, h, lum, cs);
    result *= std::pow(std::max(cs, 0.0), kWeights[s]);
    if (s == kScales - 1) result *= std::pow(std::max(lum, 0.0), kWeights[s]);
    else {
      size_t w2 = w, h2 = h;
      a = halve(a, w2, h2);
      b = halve(b, w, h);
    }
  }
  return result;
}

double mean_ms_ssim(std::span<const float> ref, std::span<const float> dist, size_t count, size_t w, size_t h) {
  if (count == 0 || ref.size() != count * w * h || dist.size() != ref.size())
    throw Error(ErrorKind::argument, "MS-SSIM: the image sets differ in size or are empty");
  double sum = 0;
  for (size_t k = 0; k < count; ++k) sum += ms_ssim(ref.subspan(k * w * h, w * h), dist.subspan(k * w * h, w * h), w, h);
  return sum / double(count);
}

}  // namespace vbq
