#include "formats/idx.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "vbq/error.hpp"

namespace vbq {
namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// gzFile that closes itself; zlib reads plain (non-gzip) files transparently.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    errno = 0;
    f_ = gzopen(path.c_str(), "rb");
    if (!f_)
      throw Error(ErrorKind::io, "cannot open '" + path + "': " + (errno ? std::strerror(errno) : "out of memory"));
  }
  ~GzReader() { gzclose(f_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to `size` bytes; returns how many were read (less only at end of data).
  size_t read(uint8_t* out, size_t size) {
    size_t done = 0;
    while (done < size) {
      unsigned want = unsigned(std::min<size_t>(size - done, 1u << 20));
      int n = gzread(f_, out + done, want);
      if (n < 0) {
        int code = 0;
        const char* msg = gzerror(f_, &code);
        if (code == Z_ERRNO) throw Error(ErrorKind::io, "cannot read '" + path_ + "': " + std::strerror(errno));
        if (code == Z_BUF_ERROR) return done;  // gzip stream cut short: reported as truncation by the caller
        throw Error(ErrorKind::format, "'" + path_ + "': corrupt gzip data: " + msg);
      }
      if (n == 0) {
        // A gzip stream that ends early makes gzread return 0 with Z_BUF_ERROR set.
        return done;
      }
      done += size_t(n);
    }
    return done;
  }

 private:
  std::string path_;
  gzFile f_ = nullptr;
};

uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

std::string existing(const std::string& dir, const std::string& name) {
  struct stat st;
  for (const char* suffix : {".gz", ""}) {
    std::string p = dir + "/" + name + suffix;
    if (::stat(p.c_str(), &st) == 0) return p;
  }
  throw Error(ErrorKind::io, "cannot find '" + dir + "/" + name + "[.gz]'");
}

}  // namespace

IdxArray read_idx(const std::string& path, int rank) {
  GzReader in(path);
  uint8_t head[4];
  size_t got = in.read(head, 4);
  if (got < 4)
    throw Error(ErrorKind::format,
                "'" + path + "': truncated: expected 4 header bytes got " + std::to_string(got));
  uint32_t magic = be32(head), want_magic = 0x800u | uint32_t(rank);
  if (magic != want_magic)
    throw Error(ErrorKind::format, "'" + path + "': bad magic value " + hex32(magic) + " (expected " +
                                       hex32(want_magic) + " for an idx file of unsigned bytes with rank " +
                                       std::to_string(rank) + ")");
  IdxArray a;
  std::vector<uint8_t> dimbytes(4 * size_t(rank));
  got = in.read(dimbytes.data(), dimbytes.size());
  if (got < dimbytes.size())
    throw Error(ErrorKind::format, "'" + path + "': truncated: expected " + std::to_string(dimbytes.size()) +
                                       " bytes of dimensions got " + std::to_string(got));
  uint64_t expected = 1;
  for (int i = 0; i < rank; ++i) {
    uint32_t d = be32(&dimbytes[4 * size_t(i)]);
    a.dims.push_back(d);
    if (d != 0 && expected > std::numeric_limits<uint64_t>::max() / d)
      throw Error(ErrorKind::format, "'" + path + "': declared dimensions overflow 64 bits");
    expected *= d;
  }
  if (expected > (uint64_t(1) << 48))  // also keeps expected + 1 below from wrapping
    throw Error(ErrorKind::format, "'" + path + "': declared dimensions give an implausible " +
                                       std::to_string(expected) + " bytes");
  // Grow with the data actually present (bounded chunks), never with the declared size.
  constexpr size_t chunk = size_t(4) << 20;
  size_t have = 0;
  for (;;) {
    uint64_t left = expected + 1 - have;  // +1 detects trailing data
    size_t step = size_t(std::min<uint64_t>(left, chunk));
    a.data.resize(have + step);
    size_t n = in.read(a.data.data() + have, step);
    have += n;
    if (n < step || have == expected + 1) break;
  }
  if (have < expected)
    throw Error(ErrorKind::format, "'" + path + "': truncated: expected " + std::to_string(expected) +
                                       " bytes of data got " + std::to_string(have));
  if (have > expected)
    throw Error(ErrorKind::format, "'" + path + "': trailing data after the " + std::to_string(expected) +
                                       " bytes declared by the dimensions");
  a.data.resize(expected);
  a.data.shrink_to_fit();
  return a;
}

Dataset read_idx_dataset(const std::string& images_path, const std::string& labels_path, int num_classes) {
  IdxArray img = read_idx(images_path, 3);
  IdxArray lab = read_idx(labels_path, 1);
  if (img.dims[0] != lab.dims[0])
    throw Error(ErrorKind::format, "'" + images_path + "' holds " + std::to_string(img.dims[0]) + " images but '" +
                                       labels_path + "' holds " + std::to_string(lab.dims[0]) + " labels");
  Dataset d;
  d.rows = img.dims[0];
  d.cols = size_t(img.dims[1]) * img.dims[2];
  d.num_classes = num_classes;
  d.x.resize(img.data.size());
  for (size_t i = 0; i < img.data.size(); ++i) d.x[i] = float(img.data[i]) / 255.0f;
  for (size_t i = 0; i < lab.data.size(); ++i)
    if (lab.data[i] >= num_classes)
      throw Error(ErrorKind::format, "'" + labels_path + "': label " + std::to_string(lab.data[i]) + " at index " +
                                         std::to_string(i) + " is not < " + std::to_string(num_classes));
  d.y = std::move(lab.data);
  return d;
}

Dataset load_mnist_split(const std::string& dir, const std::string& split) {
  if (split != "train" && split != "t10k")
    throw Error(ErrorKind::argument, "unknown MNIST split '" + split + "' (expected train or t10k)");
  std::string images = existing(dir, split + "-images-idx3-ubyte");
  std::string labels = existing(dir, split + "-labels-idx1-ubyte");
  return read_idx_dataset(images, labels);
}

}  // namespace vbq
