#include "formats/png.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>

#include "formats/atomic_file.hpp"
#include "vbq/error.hpp"

namespace vbq {
namespace {

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
}

void chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
  put_be32(out, uint32_t(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_be32(out, uint32_t(crc32(0L, out.data() + start, uInt(out.size() - start))));
}

}  // namespace

std::vector<uint8_t> png_grey(const std::vector<uint8_t>& pixels, size_t width, size_t height) {
  if (width == 0 || height == 0 || pixels.size() != width * height || width > (1u << 24) || height > (1u << 24))
    throw Error(ErrorKind::argument, "png: pixels must hold width x height values, both > 0");
  std::vector<uint8_t> raw;  // each row: filter byte 0 (none), then the row
  raw.reserve((width + 1) * height);
  for (size_t r = 0; r < height; ++r) {
    raw.push_back(0);
    raw.insert(raw.end(), pixels.begin() + ptrdiff_t(r * width), pixels.begin() + ptrdiff_t((r + 1) * width));
  }
  uLongf size = compressBound(uLong(raw.size()));
  std::vector<uint8_t> z(size);
  if (compress2(z.data(), &size, raw.data(), uLong(raw.size()), 9) != Z_OK)
    throw Error(ErrorKind::io, "png: zlib compression failed");
  z.resize(size);
  std::vector<uint8_t> out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, uint32_t(width));
  put_be32(ihdr, uint32_t(height));
  ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});  // 8 bits, greyscale, deflate, adaptive filters, no interlace
  chunk(out, "IHDR", ihdr);
  chunk(out, "IDAT", z);
  chunk(out, "IEND", {});
  return out;
}

void write_png_grid(const std::string& path, const std::vector<float>& images, size_t count, size_t w, size_t h,
                    size_t columns, bool force) {
  if (count == 0 || columns == 0 || images.size() != count * w * h)
    throw Error(ErrorKind::argument, "png grid: images must hold count x w x h values, count >= 1");
  const size_t rows = (count + columns - 1) / columns, W = columns * (w + 1) + 1, H = rows * (h + 1) + 1;
  std::vector<uint8_t> grid(W * H, 255);
  for (size_t k = 0; k < count; ++k) {
    const size_t x0 = 1 + (k % columns) * (w + 1), y0 = 1 + (k / columns) * (h + 1);
    for (size_t y = 0; y < h; ++y)
      for (size_t x = 0; x < w; ++x) {
        const float v = std::clamp(images[k * w * h + y * w + x], 0.0f, 1.0f);
        grid[(y0 + y) * W + x0 + x] = uint8_t(std::lround(v * 255.0f));
      }
  }
  const std::vector<uint8_t> png = png_grey(grid, W, H);
  AtomicOutput out(path, force);
  out.write_all(png.data(), png.size());
  out.commit();
}

}  // namespace vbq
