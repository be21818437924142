// Image quality of reconstructions, pixels in [0, 1] (paper Sec. 4.2: PSNR and MS-SSIM).
#pragma once
#include <cstddef>
#include <span>

namespace vbq {

// PSNR of a set of images, dB: 10 log10(1 / MSE), the MSE averaged over every pixel
// of every image (peak 1). Requires equal, nonzero sizes; infinite when equal.
double psnr_db(std::span<const float> reference, std::span<const float> distorted);

// MS-SSIM (Wang, Simoncelli & Bovik 2003) of one w x h image, adapted to 28 x 28:
// 3 scales (w, w/2, w/4 by 2x2 averaging) instead of 5, a 5 x 5 Gaussian window with
// sigma 1 (valid positions only) instead of 11 x 11 with sigma 1.5, and the first
// three of the standard exponents 0.0448, 0.2856, 0.3001 renormalised to sum to 1.
// C1 = (0.01)^2, C2 = (0.03)^2 for the dynamic range 1; negative contrast-structure
// terms are clamped to 0. Requires w, h >= 20 (the coarsest scale must hold the window).
double ms_ssim(std::span<const float> reference, std::span<const float> distorted, size_t w, size_t h);

// Mean MS-SSIM over `count` consecutive images.
double mean_ms_ssim(std::span<const float> reference, std::span<const float> distorted, size_t count, size_t w,
                    size_t h);

}  // namespace vbq
