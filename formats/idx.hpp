// IDX files (the MNIST / Fashion-MNIST layout), gzip-compressed or plain.
//
// Layout: big-endian uint32 magic 0x000008RR (0x08 = unsigned byte data, RR =
// rank), then RR big-endian uint32 dimensions, then prod(dims) bytes, nothing
// after. Only unsigned-byte data is supported (that is all MNIST-style sets use).
//
// Safety: the payload is read in bounded chunks up to the declared size (+1 byte
// to detect trailing data), so memory grows with the bytes actually present,
// never with the declared dims: a tiny file declaring huge dims fails with
// "truncated" after reading what is there.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vbq {

struct IdxArray {
  std::vector<uint32_t> dims;  // rank >= 1, each > 0 not required
  std::vector<uint8_t> data;   // prod(dims) bytes, row-major
};

// Reads an idx file of unsigned bytes whose magic must be 0x00000800 | rank
// (0x801 labels, 0x803 images). gzip input is detected and inflated by zlib.
// Throws vbq::Error naming `path`: ErrorKind::io (cannot open / read error),
// ErrorKind::format (bad magic value, rank mismatch, size overflow, truncated:
// expected N bytes got M, trailing data after the declared payload).
IdxArray read_idx(const std::string& path, int rank);

// A labelled classification set. Images are flattened rows of `cols` floats.
struct Dataset {
  size_t rows = 0;           // number of examples
  size_t cols = 0;           // features per example (784 for 28x28 images)
  int num_classes = 0;       // every label is < num_classes
  std::vector<float> x;      // rows * cols, row-major, pixel / 255 in [0, 1]
  std::vector<uint8_t> y;    // rows labels
};

// Pairs an idx3 image file with an idx1 label file. Throws ErrorKind::format if
// the counts differ or a label is >= num_classes (naming the file and index).
Dataset read_idx_dataset(const std::string& images_path, const std::string& labels_path, int num_classes = 10);

// Fashion-MNIST / MNIST directory: `split` is "train" or "t10k"; reads
// DIR/<split>-images-idx3-ubyte[.gz] and DIR/<split>-labels-idx1-ubyte[.gz]
// (the .gz name is tried first). Throws ErrorKind::io if neither exists.
Dataset load_mnist_split(const std::string& dir, const std::string& split);

}  // namespace vbq
