// The JPEG baseline of paper Sec. 4.2, by libjpeg-turbo (Debian's libjpeg62-turbo):
// greyscale baseline JPEG with the library's default settings (standard Huffman
// tables, no optimisation), quality 1..100.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vbq {

// The JPEG file of a w x h greyscale image (pixels in [0, 1], rounded to 8 bits).
std::vector<uint8_t> jpeg_encode(std::span<const float> pixels, size_t w, size_t h, int quality);
// Pixels in [0, 1] of a JPEG file of a w x h greyscale image. Throws
// ErrorKind::corrupt if libjpeg fails or the size differs.
std::vector<float> jpeg_decode(std::span<const uint8_t> file, size_t w, size_t h);
// Bytes of the entropy-coded data alone: what lies between the end of the SOS
// segment and the EOI marker (the "jpeg-noheader" rate: headers and tables are
// fixed for a given quality and size, so a decoder could know them).
size_t jpeg_payload_bytes(std::span<const uint8_t> file);

}  // namespace vbq
