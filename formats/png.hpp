// PNG writing (8-bit greyscale, one IDAT chunk, zlib), for pictures of images.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vbq {

// The PNG bytes of a width x height greyscale image (row-major, one byte per pixel).
// Throws ErrorKind::argument if pixels.size() != width * height or a side is 0.
std::vector<uint8_t> png_grey(const std::vector<uint8_t>& pixels, size_t width, size_t height);

// Tiles images (each w x h, values in [0, 1], row-major, one after another) into a
// grid of `columns` columns with a 1-pixel white border, and writes it as PNG
// atomically (temp file + rename; an existing file only with force).
void write_png_grid(const std::string& path, const std::vector<float>& images, size_t count, size_t w, size_t h,
                    size_t columns, bool force);

}  // namespace vbq
