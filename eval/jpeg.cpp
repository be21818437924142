#include "eval/jpeg.hpp"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <cstdlib>

#include <jpeglib.h>
#include <string>

#include "vbq/error.hpp"

namespace vbq {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

extern "C" void quiet(j_common_ptr) {}  // libjpeg's warnings would go to stderr

extern "C" void on_jpeg_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

}  // namespace

std::vector<uint8_t> jpeg_encode(std::span<const float> pixels, size_t w, size_t h, int quality) {
  if (pixels.size() != w * h || w == 0 || h == 0 || quality < 1 || quality > 100)
    throw Error(ErrorKind::argument, "jpeg: need w x h pixels and a quality in 1..100");
  std::vector<uint8_t> bytes(pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) bytes[i] = uint8_t(std::lround(std::clamp(pixels[i], 0.0f, 1.0f) * 255));
  jpeg_compress_struct c{};
  ErrorManager err{};
  c.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_jpeg_error;
  err.pub.output_message = quiet;
  unsigned char* out = nullptr;
  unsigned long size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&c);
    std::free(out);
    throw Error(ErrorKind::io, std::string("libjpeg: ") + err.message);
  }
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = JDIMENSION(w), c.image_height = JDIMENSION(h), c.input_components = 1, c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  for (size_t r = 0; r < h; ++r) {
    JSAMPROW row = bytes.data() + r * w;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<uint8_t> file(out, out + size);
  std::free(out);
  return file;
}

std::vector<float> jpeg_decode(std::span<const uint8_t> file, size_t w, size_t h) {
  jpeg_decompress_struct d{};
  ErrorManager err{};
  d.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_jpeg_error;
  err.pub.output_message = quiet;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&d);
    throw Error(ErrorKind::corrupt, std::string("libjpeg: ") + err.message);
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, file.data(), (unsigned long)file.size());
  jpeg_read_header(&d, TRUE);
  d.out_color_space = JCS_GRAYSCALE;
  jpeg_start_decompress(&d);
  if (d.output_width != w || d.output_height != h || d.output_components != 1) {
    jpeg_destroy_decompress(&d);
    throw Error(ErrorKind::corrupt, "jpeg: unexpected image size");
  }
  std::vector<uint8_t> bytes(w * h);
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = bytes.data() + size_t(d.output_scanline) * w;
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  std::vector<float> px(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) px[i] = float(bytes[i]) / 255.0f;
  return px;
}

size_t jpeg_payload_bytes(std::span<const uint8_t> f) {
  // Walk the marker segments up to SOS (0xFFDA); the scan data runs to EOI (0xFFD9).
  size_t p = 2;
  while (p + 4 <= f.size()) {
    if (f[p] != 0xFF) throw Error(ErrorKind::corrupt, "jpeg: no marker at byte " + std::to_string(p));
    const uint8_t marker = f[p + 1];
    const size_t len = size_t(f[p + 2]) << 8 | f[p + 3];
    if (marker == 0xDA) {
      const size_t start = p + 2 + len;
      if (f.size() < start + 2 || f[f.size() - 2] != 0xFF || f.back() != 0xD9)
        throw Error(ErrorKind::corrupt, "jpeg: no EOI after the scan");
      return f.size() - 2 - start;
    }
    p += 2 + len;
  }
  throw Error(ErrorKind::corrupt, "jpeg: no SOS marker");
}

}  // namespace vbq
