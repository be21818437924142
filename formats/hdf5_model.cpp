// HDF5 model files (contract in hdf5_model.hpp). Uses the HDF5 C API with the
// automatic error printer switched off: every failure becomes a vbq::Error that
// names the file and the dataset, with HDF5's own innermost reason appended.
#include "formats/hdf5_model.hpp"
#include "formats/memory_budget.hpp"

#include <hdf5.h>
#include <omp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <fcntl.h>
#include <set>
#include <unistd.h>

#include "formats/atomic_file.hpp"
#include "vbq/buffer.hpp"
#include "vbq/error.hpp"

namespace vbq {

namespace {

constexpr uint64_t kMaxElements = uint64_t(1) << 48;  // as in the .vbq container

// Owns one HDF5 identifier; the close function depends on the kind of object.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer close) : id_(id), close_(close) {}
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  ~Id() { reset(); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports whether the close succeeded (matters for files).
  bool close() {
    herr_t r = id_ >= 0 ? close_(id_) : 0;
    id_ = H5I_INVALID_HID;
    return r >= 0;
  }

 private:
  void reset() {
    if (id_ >= 0) close_(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// The innermost description on HDF5's error stack, e.g. "unable to open file",
// as "(hdf5: ...)", or "" when the stack is empty. Clears the stack.
std::string hdf5_reason() {
  std::string reason;
  auto walk = [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
    auto* out = static_cast<std::string*>(data);
    if (out->empty() && e->desc && *e->desc) *out = e->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason.empty() ? std::string() : " (hdf5: " + reason + ")";
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// "(row r, col c)" for matrices, "(at [i, j, k])" for higher ranks, "" for vectors.
std::string position_text(uint64_t flat, const std::vector<uint64_t>& shape) {
  if (shape.size() < 2) return "";
  std::vector<uint64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  if (shape.size() == 2) return " (row " + std::to_string(idx[0]) + ", col " + std::to_string(idx[1]) + ")";
  return " (at " + shape_text(idx) + ")";
}

std::string number_text(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string strip_slashes(std::string p) {
  while (!p.empty() && p.front() == '/') p.erase(p.begin());
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

const char* type_class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_TIME: return "time";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "unknown";
  }
}

}  // namespace

double sigma_from_rho(double rho) {
  // log(1 + e^rho) = max(rho, 0) + log1p(e^-|rho|): e^-|rho| <= 1 never overflows,
  // and log1p keeps e^rho's precision when it is tiny.
  return std::max(rho, 0.0) + std::log1p(std::exp(-std::fabs(rho)));
}

namespace {

// Adds the flat row-major range [b, e) of the sub-array at `at` (indices of
// the dims before `dim`) to the selection, as at most 2 rank boxes.
bool select_flat(hid_t space, const std::vector<uint64_t>& shape, size_t dim, std::vector<hsize_t>& at,
                        uint64_t b, uint64_t e) {
  if (b >= e) return true;
  uint64_t inner = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
  const uint64_t first = b / inner, last = (e - 1) / inner;
  auto box = [&](uint64_t from, uint64_t rows) {  // rows [from, from + rows) of dim, whole inside
    std::vector<hsize_t> start(at), cnt(shape.size(), 1);
    start[dim] = from, cnt[dim] = rows;
    for (size_t d = dim + 1; d < shape.size(); ++d) start[d] = 0, cnt[d] = shape[d];
    return H5Sselect_hyperslab(space, H5S_SELECT_OR, start.data(), nullptr, cnt.data(), nullptr) >= 0;
  };
  auto part = [&](uint64_t row, uint64_t lo, uint64_t hi) {  // [lo, hi) within row
    if (lo == 0 && hi == inner) return box(row, 1);
    at[dim] = row;
    return select_flat(space, shape, dim + 1, at, lo, hi);
  };
  if (first == last) return part(first, b - first * inner, e - first * inner);
  uint64_t whole_from = first, whole_to = last + 1;  // rows wholly inside [b, e)
  if (b % inner) {
    if (!part(first, b % inner, inner)) return false;
    whole_from = first + 1;
  }
  if (e % inner) {
    if (!part(last, 0, e % inner)) return false;
    whole_to = last;
  }
  return whole_to <= whole_from || box(whole_from, whole_to - whole_from);
}


// The memory dataspace of `count` elements from flat index `begin` of a dataset
// of `shape`: whole rows keep the dataset's shape (HDF5 then copies runs; a 1-D
// memory space against a 2-D selection goes element by element, 3x slower).
hid_t memory_space(const std::vector<uint64_t>& shape, uint64_t begin, uint64_t count) {
  uint64_t row = 1;
  for (size_t d = 1; d < shape.size(); ++d) row *= shape[d];
  std::vector<hsize_t> dims{count};
  if (shape.size() > 1 && begin % row == 0 && count % row == 0) {
    dims.assign(shape.begin(), shape.end());
    dims[0] = count / row;
  }
  return H5Screate_simple(int(dims.size()), dims.data(), nullptr);
}

// Selects the flat row-major range [begin, end) of a dataspace of `shape`.
bool select_range(hid_t space, const std::vector<uint64_t>& shape, uint64_t begin, uint64_t end) {
  if (H5Sselect_none(space) < 0) return false;
  std::vector<hsize_t> at(shape.size(), 0);
  return select_flat(space, shape, 0, at, begin, end);
}

const char* spread_name(Spread s) {
  switch (s) {
    case Spread::std_dev: return "std";
    case Spread::variance: return "var";
    case Spread::log_std: return "log_std";
    case Spread::softplus_rho: return "rho";
  }
  return "spread";
}

// One open file being read; carries the path for messages.
class Reader {
 public:
  // threads: for widening and checking values (0 = all cores); results do not depend on it.
  explicit Reader(const std::string& path, int threads = 0) : path_(path), threads_(threads) {
    // Distinguish "cannot read" (io) from "not HDF5" (format) before HDF5 does.
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw Error(ErrorKind::io, "cannot open '" + path + "': " + std::strerror(errno));
    struct stat st;
    bool is_dir = ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    file_bytes_ = is_dir ? 0 : uint64_t(st.st_size);
    ::close(fd);
    if (is_dir) throw Error(ErrorKind::io, "cannot read '" + path + "': is a directory");
    htri_t is_h5 = H5Fis_hdf5(path.c_str());
    if (is_h5 < 0) throw Error(ErrorKind::io, "cannot read '" + path + "'" + hdf5_reason());
    if (is_h5 == 0) throw Error(ErrorKind::format, path + ": not an HDF5 file");
    file_ = Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file_.valid())
      throw Error(ErrorKind::format, path + ": cannot open HDF5 file (damaged?)" + hdf5_reason());
  }

  ~Reader() {
    if (raw_fd_ >= 0) ::close(raw_fd_);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const std::string& path() const { return path_; }
  hid_t file() const { return file_.get(); }

  [[noreturn]] void fail(ErrorKind kind, const std::string& msg) const { throw Error(kind, path_ + ": " + msg); }

  // Every dataset reachable by hard links, as paths without the leading '/'.
  std::set<std::string> all_datasets() const {
    struct Ctx {
      hid_t file;
      std::set<std::string> out;
    } ctx{file_.get(), {}};
    auto visit = [](hid_t group, const char* name, const H5L_info_t* info, void* data) -> herr_t {
      auto* c = static_cast<Ctx*>(data);
      if (info->type != H5L_TYPE_HARD) return 0;
      Id obj(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
      if (obj.valid() && H5Iget_type(obj.get()) == H5I_DATASET) c->out.insert(name);
      return 0;
    };
    if (H5Lvisit(file_.get(), H5_INDEX_NAME, H5_ITER_INC, visit, &ctx) < 0)
      fail(ErrorKind::format, "cannot list the datasets" + hdf5_reason());
    H5Eclear2(H5E_DEFAULT);  // failed opens of dangling links are not errors
    return std::move(ctx.out);
  }

  // Empty if `dpath` names a dataset, else why not ("not found", "is a group").
  std::string why_not_dataset(const std::string& dpath) const {
    std::string p = strip_slashes(dpath), prefix;
    if (p.empty()) return "not found (empty path)";
    size_t pos = 0;
    while (true) {
      size_t slash = p.find('/', pos);
      prefix = p.substr(0, slash);
      if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return "not found";
      }
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
    Id obj(H5Oopen(file_.get(), p.c_str(), H5P_DEFAULT), H5Oclose);
    H5I_type_t type = obj.valid() ? H5Iget_type(obj.get()) : H5I_BADID;
    H5Eclear2(H5E_DEFAULT);
    if (type == H5I_DATASET) return "";
    if (type == H5I_GROUP) return "is a group, not a dataset";
    return obj.valid() ? "is not a dataset" : "cannot be opened (dangling link?)";
  }

  Id open_dataset(const std::string& dpath, const std::string& tensor) const {
    std::string why = why_not_dataset(dpath);
    if (!why.empty()) fail(ErrorKind::format, "tensor '" + tensor + "': dataset '" + dpath + "' " + why);
    Id d(H5Dopen2(file_.get(), dpath.c_str(), H5P_DEFAULT), H5Dclose);
    if (!d.valid()) fail(ErrorKind::format, "cannot open dataset '" + dpath + "'" + hdf5_reason());
    return d;
  }

  std::vector<uint64_t> shape_of(hid_t dset, const std::string& dpath) const {
    Id space(H5Dget_space(dset), H5Sclose);
    int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) fail(ErrorKind::format, "dataset '" + dpath + "': cannot read its shape" + hdf5_reason());
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return std::vector<uint64_t>(dims.begin(), dims.end());
  }

  // A float dataset opened for reading, its shape checked (rank >= 1, 1 to 2^48 elements).
  struct Floats {
    Id dataset;
    std::string path;
    std::vector<uint64_t> shape;
    uint64_t elements = 0;
    bool float32 = true;  // the stored type is at most 4 bytes wide
    // Where the values lie in the file when they are stored in one piece, in the
    // native float32 or float64 layout, wholly inside the file: read_slice then
    // reads them with pread on the reader's threads instead of through HDF5.
    std::optional<uint64_t> raw_offset;
  };
  Floats open_floats(const std::string& dpath, const std::string& tensor) const {
    Floats f{open_dataset(dpath, tensor), dpath, {}, 0, true, std::nullopt};
    Id type(H5Dget_type(f.dataset.get()), H5Tclose);
    H5T_class_t cls = type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
    if (cls != H5T_FLOAT)
      fail(ErrorKind::format, "tensor '" + tensor + "': dataset '" + dpath + "' has " + type_class_name(cls) +
                                  " type, expected float32 or float64");
    f.float32 = H5Tget_size(type.get()) <= 4;
    f.shape = shape_of(f.dataset.get(), dpath);
    if (f.shape.empty()) fail(ErrorKind::format, "tensor '" + tensor + "': dataset '" + dpath + "' is a scalar, expected rank >= 1");
    uint64_t n = 1;
    for (uint64_t s : f.shape) n = s != 0 && n > kMaxElements / s ? kMaxElements + 1 : n * s;
    const std::string where = "tensor '" + tensor + "': dataset '" + dpath + "' (shape " + shape_text(f.shape) + ")";
    if (n == 0) fail(ErrorKind::format, where + " is empty");
    if (n > kMaxElements) fail(ErrorKind::unsupported, where + " has more than 2^48 elements");
    // The declared size, not the file size, decides: a chunked dataset that was
    // never written takes no space in the file. Checked for slice readers too,
    // so that such a file gets the same error before any work.
    check_memory_budget(n * sizeof(double), path_ + ": " + where, file_bytes_);
    f.elements = n;
    f.raw_offset = raw_offset(f, type.get());
    return f;
  }

  std::optional<uint64_t> raw_offset(const Floats& f, hid_t type) const {
    Id dcpl(H5Dget_create_plist(f.dataset.get()), H5Pclose), fcpl(H5Fget_create_plist(file_.get()), H5Pclose);
    hsize_t userblock = 1;
    if (!dcpl.valid() || !fcpl.valid() || H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS ||
        H5Pget_userblock(fcpl.get(), &userblock) < 0 || userblock != 0 ||
        H5Tequal(type, f.float32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return std::nullopt;
    }
    const haddr_t offset = H5Dget_offset(f.dataset.get());
    H5Eclear2(H5E_DEFAULT);
    const uint64_t bytes = f.elements * (f.float32 ? 4 : 8);
    if (offset == HADDR_UNDEF || offset > file_bytes_ || bytes > file_bytes_ - offset) return std::nullopt;
    return uint64_t(offset);
  }

  // Bytes [offset, offset + size) of the file into `out`, in pieces on the reader's threads.
  void pread_parallel(const Floats& f, const std::string& tensor, uint64_t offset, size_t size, char* out) const {
    if (raw_fd_ < 0) {
      raw_fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (raw_fd_ < 0) fail(ErrorKind::io, std::string("cannot open: ") + std::strerror(errno));
    }
    const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(threads(), int64_t(size >> 20)));
    int error = 0;
#pragma omp parallel for schedule(static) num_threads(threads()) reduction(max : error)
    for (int64_t k = 0; k < pieces; ++k) {
      size_t at = size * size_t(k) / size_t(pieces);
      const size_t end = size * size_t(k + 1) / size_t(pieces);
      int why = 0;
      while (at < end && why == 0) {
        const ssize_t got = ::pread(raw_fd_, out + at, end - at, off_t(offset + at));
        if (got > 0) at += size_t(got);
        else if (got == 0) why = EIO;  // the file shrank under us
        else if (errno != EINTR) why = errno;
      }
      error = std::max(error, why);
    }
    if (error != 0)
      fail(ErrorKind::io, "tensor '" + tensor + "': cannot read dataset '" + f.path + "': " + std::strerror(error));
  }

  // Reads elements [begin, begin + out.size()) of a dataset in row-major order.
  // Doubles go straight into `out`; datasets of at most 4-byte floats are read
  // as float32 (what HDF5 does alone, a copy) into a buffer that is returned, for
  // check_means or to_sigma to widen into `out` while they check each value.
  // Returns null when `out` already holds the values.
  const float* read_slice(const Floats& f, const std::string& tensor, uint64_t begin, std::span<double> out) const {
    if (begin > f.elements || out.size() > f.elements - begin)
      fail(ErrorKind::argument, "tensor '" + tensor + "': elements " + std::to_string(begin) + ".." +
                                    std::to_string(begin + out.size()) + " outside dataset '" + f.path + "'");
    if (out.empty()) return nullptr;
    if (f.float32) narrow_.resize(out.size());
    if (f.raw_offset) {
      const size_t width = f.float32 ? 4 : 8;
      pread_parallel(f, tensor, *f.raw_offset + begin * width, out.size() * width,
                     f.float32 ? reinterpret_cast<char*>(narrow_.data()) : reinterpret_cast<char*>(out.data()));
      return f.float32 ? narrow_.data() : nullptr;
    }
    Id file_space(H5Dget_space(f.dataset.get()), H5Sclose);
    Id mem_space(memory_space(f.shape, begin, out.size()), H5Sclose);
    bool ok = file_space.valid() && mem_space.valid();
    if (ok && (begin != 0 || out.size() != f.elements))
      ok = select_range(file_space.get(), f.shape, begin, begin + out.size());
    herr_t r = ok ? H5Dread(f.dataset.get(), f.float32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE, mem_space.get(),
                            file_space.get(), H5P_DEFAULT, f.float32 ? static_cast<void*>(narrow_.data()) : out.data())
                  : -1;
    if (r < 0) fail(ErrorKind::format, "tensor '" + tensor + "': cannot read dataset '" + f.path + "'" + hdf5_reason());
    return f.float32 ? narrow_.data() : nullptr;
  }

  static constexpr double kMaxDouble = std::numeric_limits<double>::max();

  // The smallest k in [0, v.size()) for which bad(k) holds, or v.size(): chunks
  // of 4096 on the reader's threads, each first widened from `narrow` (unless
  // null) and checked whole by all_good(k0, k1) (branch-free loops), element by
  // element only if that fails. The same index whatever the thread count.
  template <class AllGood, class Bad>
  int64_t first_bad(std::span<double> v, const float* narrow, AllGood all_good, Bad bad) const {
    constexpr int64_t kChunk = 4096;
    double* x = v.data();
    const int64_t n = int64_t(v.size());
    int64_t first = n;
#pragma omp parallel for schedule(static) num_threads(threads()) reduction(min : first)
    for (int64_t c = 0; c < (n + kChunk - 1) / kChunk; ++c) {
      const int64_t k0 = c * kChunk, k1 = std::min(n, k0 + kChunk);
      if (narrow)
        for (int64_t k = k0; k < k1; ++k) x[k] = narrow[k];
      if (all_good(k0, k1)) continue;
      for (int64_t k = k0; k < k1; ++k)
        if (bad(k)) {
          first = std::min(first, k);
          break;
        }
    }
    return first;
  }

  // Checks means [begin, begin + mu.size()) of tensor t, first widening them
  // from `narrow` unless it is null: all finite. The error names the first bad
  // one, whatever the thread count.
  void check_means(const Tensor& t, uint64_t begin, std::span<double> mu, const float* narrow) const {
    const double* m = mu.data();
    const int64_t n = int64_t(mu.size());
    const int64_t first = first_bad(
        mu, narrow,
        [m](int64_t k0, int64_t k1) {
          int64_t bad = 0;
          for (int64_t k = k0; k < k1; ++k) bad |= !(std::fabs(m[k]) <= kMaxDouble);  // inf or NaN
          return bad == 0;
        },
        [&](int64_t k) { return !std::isfinite(m[k]); });
    if (first == n) return;
    const double bad = mu[size_t(first)];
    const uint64_t i = begin + uint64_t(first);
    fail(ErrorKind::format, "tensor '" + t.name + "': mean[" + std::to_string(i) + "]" + position_text(i, t.shape) +
                                " is " + (std::isnan(bad) ? "NaN" : "infinite") + " (dataset '" + t.mean_path + "')");
  }

  // Converts spreads [begin, begin + v.size()) of tensor t, in place or from
  // `narrow` unless it is null, to posterior stds, each checked finite and > 0.
  // The error names the first bad one (left unconverted), whatever the thread count.
  void to_sigma(const Tensor& t, const TensorSpec& spec, const std::string& spath, uint64_t begin,
                std::span<double> v, const float* narrow) const {
    // Why a raw spread gives no std, or null; *sigma set when it does.
    auto convert = [&spec](double raw, double* sigma) -> const char* {
      if (!std::isfinite(raw)) return "is not finite";
      if ((spec.spread == Spread::std_dev || spec.spread == Spread::variance) && raw <= 0) return "is not > 0";
      double s = raw;
      if (spec.spread == Spread::variance) s = std::sqrt(raw);
      else if (spec.spread == Spread::log_std) s = std::exp(raw);
      else if (spec.spread == Spread::softplus_rho) s = sigma_from_rho(raw);
      // Conversion can still underflow to 0 or overflow to inf (e.g. log_std = -800).
      if (!(std::isfinite(s) && s > 0)) return "gives a std that is not finite and > 0";
      *sigma = s;
      return nullptr;
    };
    double* x = v.data();
    const int64_t n = int64_t(v.size());
    const bool stds = spec.spread == Spread::std_dev;  // kept as they are: checked in bulk
    const int64_t first = first_bad(
        v, narrow,
        [x, stds](int64_t k0, int64_t k1) {
          if (!stds) return false;
          int64_t bad = 0;
          for (int64_t k = k0; k < k1; ++k) bad |= !(x[k] > 0) | !(x[k] <= kMaxDouble);  // <= 0, inf or NaN
          return bad == 0;
        },
        [&](int64_t k) {  // converts in place up to the first bad one
          double s;
          if (convert(x[k], &s)) return true;
          x[k] = s;
          return false;
        });
    if (first == n) return;
    const double raw = v[size_t(first)];
    double unused;
    const uint64_t i = begin + uint64_t(first);
    fail(ErrorKind::format, "tensor '" + t.name + "': " + spread_name(spec.spread) + "[" + std::to_string(i) + "]" +
                                position_text(i, t.shape) + " = " + number_text(raw) + " " + convert(raw, &unused) +
                                " (dataset '" + spath + "')");
  }

  // A tensor's datasets opened and its shapes checked; `t` gets name, mean path,
  // shape and dtype (mu and sigma stay empty).
  struct OpenTensor {
    TensorSpec spec;
    Tensor t;
    Floats mean;
    std::optional<Floats> spread;
  };
  OpenTensor open_tensor(const TensorSpec& spec, bool require_spread) const {
    OpenTensor o{spec, {}, {}, std::nullopt};
    o.t.name = spec.name;
    o.t.mean_path = strip_slashes(spec.mean_path);
    o.mean = open_floats(o.t.mean_path, o.t.name);
    o.t.shape = o.mean.shape, o.t.float32 = o.mean.float32;
    if (spec.spread_path.empty()) {
      // Only an explicit mapping can get here with require_spread set.
      if (require_spread) fail(ErrorKind::argument, "tensor '" + o.t.name + "': the mapping names no spread dataset");
      return o;
    }
    o.spread = open_floats(strip_slashes(spec.spread_path), o.t.name);
    if (o.spread->shape != o.t.shape)
      fail(ErrorKind::format, "tensor '" + o.t.name + "': shape mismatch: mean '" + o.t.mean_path + "' is " +
                                  shape_text(o.t.shape) + " but " + spread_name(spec.spread) + " '" +
                                  o.spread->path + "' is " + shape_text(o.spread->shape));
    return o;
  }

  // Elements [begin, begin + mu.size()) of an open tensor, checked; sigma empty
  // or of mu's size (then the tensor needs a spread).
  void read_tensor_slice(const OpenTensor& o, uint64_t begin, std::span<double> mu, std::span<double> sigma) const {
    check_means(o.t, begin, mu, read_slice(o.mean, o.t.name, begin, mu));
    if (sigma.empty()) return;
    if (!o.spread || sigma.size() != mu.size())
      fail(ErrorKind::argument, "tensor '" + o.t.name + "': no spread to read, or not as many as means");
    to_sigma(o.t, o.spec, o.spread->path, begin, sigma, read_slice(*o.spread, o.t.name, begin, sigma));
  }

  Tensor read_tensor(const TensorSpec& spec, bool require_spread) const {
    OpenTensor o = open_tensor(spec, require_spread);
    Tensor t = o.t;
    t.mu.resize(o.mean.elements);
    check_means(t, 0, t.mu, read_slice(o.mean, t.name, 0, t.mu));
    if (!o.spread) return t;
    t.sigma.resize(o.spread->elements);
    to_sigma(t, spec, o.spread->path, 0, t.sigma, read_slice(*o.spread, t.name, 0, t.sigma));
    return t;
  }

  // A rank-1 dataset of the given type class (vocab, counts): the dataset, its type, its length.
  struct List {
    Id dataset, type;
    size_t size;
  };
  List open_list(const std::string& dpath, H5T_class_t expected, const char* expected_name) const {
    Id d = open_dataset(dpath, dpath);
    Id type(H5Dget_type(d.get()), H5Tclose);
    H5T_class_t cls = type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
    if (cls != expected)
      fail(ErrorKind::format,
           "dataset '" + dpath + "' has " + type_class_name(cls) + " type, expected " + expected_name);
    std::vector<uint64_t> shape = shape_of(d.get(), dpath);
    if (shape.size() != 1) fail(ErrorKind::format, "dataset '" + dpath + "' has shape " + shape_text(shape) + ", expected rank 1");
    return {std::move(d), std::move(type), size_t(shape[0])};
  }

  // Root `vocab`: variable- or fixed-length strings, rank 1.
  std::vector<std::string> read_strings(const std::string& dpath) const {
    auto [d, type, n] = open_list(dpath, H5T_STRING, "strings");
    std::vector<std::string> out(n);
    if (n == 0) return out;
    Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    if (H5Tis_variable_str(type.get()) > 0) {
      H5Tset_size(mem.get(), H5T_VARIABLE);
      std::vector<char*> ptrs(n, nullptr);
      if (H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
        fail(ErrorKind::format, "cannot read dataset '" + dpath + "'" + hdf5_reason());
      for (size_t i = 0; i < n; ++i) {
        if (ptrs[i]) out[i] = ptrs[i];
        H5free_memory(ptrs[i]);
      }
    } else {
      size_t width = H5Tget_size(type.get());
      H5Tset_size(mem.get(), width);
      H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
      std::vector<char> buf(n * width);
      if (H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
        fail(ErrorKind::format, "cannot read dataset '" + dpath + "'" + hdf5_reason());
      bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
      for (size_t i = 0; i < n; ++i) {
        const char* s = buf.data() + i * width;
        size_t len = strnlen(s, width);
        if (space_padded)
          while (len > 0 && s[len - 1] == ' ') --len;
        out[i].assign(s, len);
      }
    }
    return out;
  }

  // Root `counts`: any integer type, rank 1, no negative values.
  std::vector<uint64_t> read_counts(const std::string& dpath) const {
    auto [d, type, n] = open_list(dpath, H5T_INTEGER, "integers");
    std::vector<uint64_t> out(n);
    if (out.empty()) return out;
    herr_t r;
    if (H5Tget_sign(type.get()) == H5T_SGN_2) {
      std::vector<int64_t> s(out.size());
      r = H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data());
      for (size_t i = 0; r >= 0 && i < s.size(); ++i) {
        if (s[i] < 0) fail(ErrorKind::format, "dataset '" + dpath + "': counts[" + std::to_string(i) + "] = " + std::to_string(s[i]) + " is negative");
        out[i] = uint64_t(s[i]);
      }
    } else {
      r = H5Dread(d.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    }
    if (r < 0) fail(ErrorKind::format, "cannot read dataset '" + dpath + "'" + hdf5_reason());
    return out;
  }

  // Root attributes that are strings or numbers (scalar or 1-D), as text; arrays
  // are joined with ", ". Other attribute types are skipped.
  std::map<std::string, std::string> read_attributes() const {
    struct Ctx {
      const Reader* self;
      std::map<std::string, std::string> out;
    } ctx{this, {}};
    auto visit = [](hid_t loc, const char* name, const H5A_info_t*, void* data) -> herr_t {
      auto* c = static_cast<Ctx*>(data);
      Id a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
      if (!a.valid()) return 0;
      std::string text;
      if (attribute_text(a.get(), text)) c->out[name] = std::move(text);
      return 0;
    };
    hsize_t idx = 0;
    if (H5Aiterate2(file_.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, visit, &ctx) < 0)
      fail(ErrorKind::format, "cannot read the root attributes" + hdf5_reason());
    H5Eclear2(H5E_DEFAULT);
    return std::move(ctx.out);
  }

 private:
  static bool attribute_text(hid_t attr, std::string& text) {
    Id type(H5Aget_type(attr), H5Tclose);
    Id space(H5Aget_space(attr), H5Sclose);
    if (!type.valid() || !space.valid()) return false;
    hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n < 0) return false;
    H5T_class_t cls = H5Tget_class(type.get());
    std::vector<std::string> items;
    if (cls == H5T_STRING) {
      Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
      if (H5Tis_variable_str(type.get()) > 0) {
        H5Tset_size(mem.get(), H5T_VARIABLE);
        std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
        if (H5Aread(attr, mem.get(), ptrs.data()) < 0) return false;
        for (char* p : ptrs) {
          items.emplace_back(p ? p : "");
          H5free_memory(p);
        }
      } else {
        size_t width = H5Tget_size(type.get());
        H5Tset_size(mem.get(), width);
        H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
        std::vector<char> buf(static_cast<size_t>(n) * width);
        if (H5Aread(attr, mem.get(), buf.data()) < 0) return false;
        for (hssize_t i = 0; i < n; ++i) items.emplace_back(buf.data() + i * width, strnlen(buf.data() + i * width, width));
      }
    } else if (cls == H5T_INTEGER && H5Tget_sign(type.get()) == H5T_SGN_2) {
      std::vector<int64_t> v(static_cast<size_t>(n));
      if (H5Aread(attr, H5T_NATIVE_INT64, v.data()) < 0) return false;
      for (int64_t x : v) items.push_back(std::to_string(x));
    } else if (cls == H5T_INTEGER) {
      std::vector<uint64_t> v(static_cast<size_t>(n));
      if (H5Aread(attr, H5T_NATIVE_UINT64, v.data()) < 0) return false;
      for (uint64_t x : v) items.push_back(std::to_string(x));
    } else if (cls == H5T_FLOAT) {
      std::vector<double> v(static_cast<size_t>(n));
      if (H5Aread(attr, H5T_NATIVE_DOUBLE, v.data()) < 0) return false;
      for (double x : v) items.push_back(number_text(x));
    } else {
      return false;
    }
    text.clear();
    for (size_t i = 0; i < items.size(); ++i) text += (i ? ", " : "") + items[i];
    return true;
  }

  int threads() const { return threads_ > 0 ? threads_ : omp_get_num_procs(); }

  std::string path_;
  int threads_ = 0;
  mutable UninitializedVector<float> narrow_;  // read_slice's float32 values before widening
  uint64_t file_bytes_ = 0;
  Id file_;
  mutable int raw_fd_ = -1;  // for Floats::raw_offset; closed by the destructor
};

// Auto-detection over the file's dataset list (see hdf5_model.hpp).
std::vector<TensorSpec> detect(const Reader& r, const std::set<std::string>& datasets, bool require_spread) {
  std::vector<TensorSpec> found;
  std::vector<std::string> means_only;  // groups with `mean` but no spread, for the message
  static const std::pair<const char*, Spread> kSpreads[] = {
      {"std", Spread::std_dev}, {"var", Spread::variance}, {"log_std", Spread::log_std}, {"rho", Spread::softplus_rho}};
  // 1. default: <group>/mean + exactly one of std / var / log_std / rho.
  for (const std::string& d : datasets) {
    if (basename_of(d) != "mean") continue;
    std::string group = dirname_of(d);
    if (group.empty()) continue;  // a root-level `mean` has no tensor name
    std::vector<std::pair<std::string, Spread>> spreads;
    for (const auto& [name, kind] : kSpreads)
      if (datasets.count(group + "/" + name)) spreads.emplace_back(group + "/" + name, kind);
    if (spreads.size() > 1) {
      std::string list;
      for (const auto& s : spreads) list += (list.empty() ? "'" : ", '") + s.first + "'";
      r.fail(ErrorKind::format, "tensor '" + group + "' is ambiguous: '" + d + "' has several spread datasets (" +
                                    list + "); keep one or map it explicitly");
    }
    if (spreads.empty()) {
      if (require_spread) {
        means_only.push_back(group);
        continue;
      }
      found.push_back({group, d, "", Spread::log_std});
    } else {
      found.push_back({group, d, spreads[0].first, spreads[0].second});
    }
  }
  // 2. paper: q/mean_u + q/log_std_u, q/mean_v + q/log_std_v. A name already taken
  // by the default convention wins (it is tried first).
  for (const char* uv : {"u", "v"}) {
    std::string mean = std::string("q/mean_") + uv, spread = std::string("q/log_std_") + uv;
    if (!datasets.count(mean)) continue;
    if (std::any_of(found.begin(), found.end(), [&](const TensorSpec& s) { return s.name == uv; })) continue;
    if (datasets.count(spread))
      found.push_back({uv, mean, spread, Spread::log_std});
    else if (!require_spread)
      found.push_back({uv, mean, "", Spread::log_std});
    else
      means_only.push_back(mean);
  }
  if (found.empty()) {
    std::string msg =
        "no tensor found; tried the default convention (a group holding 'mean' plus one of 'std', 'var', "
        "'log_std', 'rho') and the paper convention ('q/mean_u' + 'q/log_std_u', 'q/mean_v' + 'q/log_std_v')";
    if (!means_only.empty()) {
      msg += "; means without a spread: ";
      for (size_t i = 0; i < means_only.size(); ++i) msg += (i ? ", '" : "'") + means_only[i] + "'";
    }
    r.fail(ErrorKind::format, msg + "; use an explicit tensor mapping");
  }
  return found;
}

// "<dir>/mean_u" -> "<dir>/log_std_u", "<dir>/mean" -> "<dir>/log_std";
// a basename without "mean" gets "_log_std" appended.
std::string log_std_path_for(const std::string& mean_path) {
  std::string dir = dirname_of(mean_path), base = basename_of(mean_path);
  size_t at = base.find("mean");
  base = at == std::string::npos ? base + "_log_std" : base.replace(at, 4, "log_std");
  return dir.empty() ? base : dir + "/" + base;
}

class Writer {
 public:
  Writer(const std::string& path, const std::string& temp) : path_(path) {
    file_ = Id(H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file_.valid()) throw Error(ErrorKind::io, "cannot create '" + path + "'" + hdf5_reason());
    lcpl_ = Id(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl_.get(), 1);
    // No modification times in the file: the same model gives the same bytes.
    dcpl_ = Id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_obj_track_times(dcpl_.get(), false);
  }

  [[noreturn]] void fail(const std::string& msg) const { throw Error(ErrorKind::io, path_ + ": " + msg + hdf5_reason()); }

  // Writes `data` (given in `mem_type`) as a dataset of `file_type` and `shape`.
  void write(const std::string& dpath, hid_t file_type, hid_t mem_type, const std::vector<uint64_t>& shape,
             const void* data) {
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
    if (!space.valid()) fail("cannot create the dataspace of '" + dpath + "'");
    Id d(H5Dcreate2(file_.get(), dpath.c_str(), file_type, space.get(), lcpl_.get(), dcpl_.get(), H5P_DEFAULT),
         H5Dclose);
    if (!d.valid()) fail("cannot create dataset '" + dpath + "'");
    if (H5Dwrite(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) fail("cannot write dataset '" + dpath + "'");
  }

  // A float dataset of `shape`, chunked in pieces of about 2^20 elements (whole
  // trailing dims where they fit), to be written in slices by write_slice.
  Id create_chunked(const std::string& dpath, const std::vector<uint64_t>& shape, bool float32) {
    std::vector<hsize_t> dims(shape.begin(), shape.end()), chunk(dims.size());
    uint64_t room = uint64_t(1) << 20;
    for (size_t d = dims.size(); d-- > 0;) chunk[d] = std::max<uint64_t>(1, std::min<uint64_t>(dims[d], room)),
                                           room = std::max<uint64_t>(1, room / chunk[d]);
    Id dcpl(H5Pcopy(dcpl_.get()), H5Pclose);
    Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
    if (!dcpl.valid() || !space.valid() || H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data()) < 0)
      fail("cannot lay out dataset '" + dpath + "'");
    Id d(H5Dcreate2(file_.get(), dpath.c_str(), float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, space.get(), lcpl_.get(),
                    dcpl.get(), H5P_DEFAULT), H5Dclose);
    if (!d.valid()) fail("cannot create dataset '" + dpath + "'");
    return d;
  }
  // Elements [begin, begin + v.size()) of a dataset of create_chunked. float32
  // values are narrowed here: HDF5 converts through a 1 MiB buffer, 3x slower.
  void write_slice(hid_t d, const std::string& dpath, const std::vector<uint64_t>& shape, uint64_t begin,
                   std::span<const double> v, bool float32) {
    Id file_space(H5Dget_space(d), H5Sclose);
    Id mem_space(memory_space(shape, begin, v.size()), H5Sclose);
    std::vector<float> narrow(float32 ? v.size() : 0);
    std::copy(v.begin(), v.begin() + std::ptrdiff_t(narrow.size()), narrow.begin());
    if (!file_space.valid() || !mem_space.valid() || !select_range(file_space.get(), shape, begin, begin + v.size()) ||
        H5Dwrite(d, float32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), H5P_DEFAULT,
                 float32 ? static_cast<const void*>(narrow.data()) : v.data()) < 0)
      fail("cannot write dataset '" + dpath + "'");
  }

  void write_reals(const std::string& dpath, const std::vector<double>& v, const std::vector<uint64_t>& shape,
                   bool float32) {
    if (float32) {
      std::vector<float> f(v.begin(), v.end());
      write(dpath, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, shape, f.data());
    } else {
      write(dpath, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, shape, v.data());
    }
  }

  void write_strings(const std::string& dpath, const std::vector<std::string>& strings) {
    Id type = utf8_type();
    std::vector<const char*> ptrs;
    ptrs.reserve(strings.size());
    for (const std::string& s : strings) ptrs.push_back(s.c_str());
    write(dpath, type.get(), type.get(), {uint64_t(strings.size())}, ptrs.data());
  }

  void write_attribute(const std::string& name, const std::string& value) {
    Id type = utf8_type();
    Id space(H5Screate(H5S_SCALAR), H5Sclose);
    Id a(H5Acreate2(file_.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (!a.valid()) fail("cannot create attribute '" + name + "'");
    const char* p = value.c_str();
    if (H5Awrite(a.get(), type.get(), &p) < 0) fail("cannot write attribute '" + name + "'");
  }

  void close() {
    if (!file_.close()) fail("cannot finish writing");
  }

 private:
  static Id utf8_type() {
    Id t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t.get(), H5T_VARIABLE);
    H5Tset_cset(t.get(), H5T_CSET_UTF8);
    return t;
  }

  std::string path_;
  Id file_, lcpl_, dcpl_;
};

void check_writable(const std::string& path, const Tensor& t) {
  auto bad = [&](const std::string& msg) { throw Error(ErrorKind::argument, path + ": tensor '" + t.name + "': " + msg); };
  if (t.name.empty() && t.mean_path.empty()) throw Error(ErrorKind::argument, path + ": a tensor has neither a name nor a mean_path");
  if (t.shape.empty()) bad("rank 0 (shape must have at least one dimension)");
  uint64_t n = 1;
  for (uint64_t s : t.shape) n *= s;
  if (n != t.mu.size() || n == 0)
    bad("shape " + shape_text(t.shape) + " does not match " + std::to_string(t.mu.size()) + " mean values");
  if (!t.sigma.empty() && t.sigma.size() != t.mu.size())
    bad(std::to_string(t.sigma.size()) + " std values for " + std::to_string(t.mu.size()) + " means");
  for (size_t i = 0; i < t.mu.size(); ++i)
    if (!std::isfinite(t.mu[i]) || (t.float32 && std::fabs(t.mu[i]) > double(std::numeric_limits<float>::max())))
      bad("mean[" + std::to_string(i) + "] = " + number_text(t.mu[i]) + (t.float32 ? " does not fit in float32" : " is not finite"));
  for (size_t i = 0; i < t.sigma.size(); ++i)
    if (!(std::isfinite(t.sigma[i]) && t.sigma[i] > 0))
      bad("std[" + std::to_string(i) + "] = " + number_text(t.sigma[i]) + " is not finite and > 0");
}

}  // namespace

namespace {

// The tensors to read: detected or given, selected, sorted by name.
std::vector<TensorSpec> tensor_specs(const Reader& r, const std::set<std::string>& datasets,
                                     const ReadOptions& options) {
  const std::string& path = r.path();
  std::vector<TensorSpec> specs = options.explicit_tensors;
  if (specs.empty()) specs = detect(r, datasets, options.require_spread);
  std::sort(specs.begin(), specs.end(), [](const TensorSpec& a, const TensorSpec& b) { return a.name < b.name; });
  for (size_t i = 1; i < specs.size(); ++i)
    if (specs[i].name == specs[i - 1].name)
      throw Error(ErrorKind::argument, path + ": tensor name '" + specs[i].name + "' is given twice");

  if (!options.select.empty()) {
    std::vector<TensorSpec> kept;
    for (const std::string& want : options.select) {
      auto it = std::find_if(specs.begin(), specs.end(), [&](const TensorSpec& s) { return s.name == want; });
      if (it == specs.end()) {
        std::string names;
        for (const TensorSpec& s : specs) names += (names.empty() ? "'" : ", '") + s.name + "'";
        throw Error(ErrorKind::argument, path + ": no tensor named '" + want + "'; available: " + names);
      }
      if (std::none_of(kept.begin(), kept.end(), [&](const TensorSpec& s) { return s.name == want; })) kept.push_back(*it);
    }
    std::sort(kept.begin(), kept.end(), [](const TensorSpec& a, const TensorSpec& b) { return a.name < b.name; });
    specs = std::move(kept);
  }
  return specs;
}

// The root datasets and attributes besides the tensors: vocab, counts, attributes.
void read_extras(const Reader& r, const std::set<std::string>& datasets, Model& m) {
  if (datasets.count("vocab")) m.vocab = r.read_strings("vocab");
  if (datasets.count("counts")) m.counts = r.read_counts("counts");
  if (!m.vocab.empty() && !m.counts.empty() && m.vocab.size() != m.counts.size())
    r.fail(ErrorKind::format, "'vocab' has " + std::to_string(m.vocab.size()) + " entries but 'counts' has " +
                                  std::to_string(m.counts.size()));
  m.attributes = r.read_attributes();
}

}  // namespace

Model read_model(const std::string& path, const ReadOptions& options) {
  silence_hdf5();
  Reader r(path, options.threads);
  std::set<std::string> datasets = r.all_datasets();
  Model m;
  for (const TensorSpec& s : tensor_specs(r, datasets, options)) m.tensors.push_back(r.read_tensor(s, options.require_spread));
  read_extras(r, datasets, m);
  return m;
}

struct ModelSlices::Impl {
  Reader reader;
  std::vector<Reader::OpenTensor> tensors;
  Model layout;
  Impl(const std::string& path, int threads) : reader(path, threads) {}
};

ModelSlices::ModelSlices(const std::string& path, const ReadOptions& options) {
  silence_hdf5();
  impl_ = std::make_unique<Impl>(path, options.threads);
  const Reader& r = impl_->reader;
  std::set<std::string> datasets = r.all_datasets();
  for (const TensorSpec& s : tensor_specs(r, datasets, options)) {
    impl_->tensors.push_back(r.open_tensor(s, options.require_spread));
    impl_->layout.tensors.push_back(impl_->tensors.back().t);
  }
  read_extras(r, datasets, impl_->layout);
}

ModelSlices::~ModelSlices() = default;

const Model& ModelSlices::layout() const { return impl_->layout; }

void ModelSlices::read(size_t tensor, uint64_t begin, std::span<double> mu, std::span<double> sigma) const {
  if (tensor >= impl_->tensors.size()) throw Error(ErrorKind::argument, "ModelSlices::read: no tensor " + std::to_string(tensor));
  impl_->reader.read_tensor_slice(impl_->tensors[tensor], begin, mu, sigma);
}

namespace {

// Everything of a model file but its tensors: vocab, counts, attributes.
void write_extras(Writer& w, const Model& model) {
  if (!model.vocab.empty()) w.write_strings("vocab", model.vocab);
  if (!model.counts.empty())
    w.write("counts", H5T_STD_U64LE, H5T_NATIVE_UINT64, {uint64_t(model.counts.size())}, model.counts.data());
  for (const auto& [k, v] : model.attributes) w.write_attribute(k, v);
}

}  // namespace

void write_model(const std::string& path, const Model& model, bool force) {
  silence_hdf5();
  std::set<std::string> used;
  for (const Tensor& t : model.tensors) {
    check_writable(path, t);
    std::string mean = strip_slashes(t.mean_path.empty() ? t.name + "/mean" : t.mean_path);
    if (!used.insert(mean).second) throw Error(ErrorKind::argument, path + ": two tensors write to '" + mean + "'");
  }
  if (!model.counts.empty() && !model.vocab.empty() && model.counts.size() != model.vocab.size())
    throw Error(ErrorKind::argument, path + ": " + std::to_string(model.vocab.size()) + " vocab entries but " +
                                         std::to_string(model.counts.size()) + " counts");

  AtomicOutput out(path, force);
  Writer w(path, out.temp_path());
  for (const Tensor& t : model.tensors) {
    std::string mean = strip_slashes(t.mean_path.empty() ? t.name + "/mean" : t.mean_path);
    w.write_reals(mean, t.mu, t.shape, t.float32);
    if (!t.sigma.empty()) {
      std::vector<double> log_std(t.sigma.size());
      for (size_t i = 0; i < log_std.size(); ++i) log_std[i] = std::log(t.sigma[i]);
      w.write_reals(log_std_path_for(mean), log_std, t.shape, t.float32);
    }
  }
  write_extras(w, model);
  w.close();
  out.commit();
}

struct ModelSliceWriter::Impl {
  AtomicOutput out;
  Writer w;
  std::set<std::string> used;
  Id dataset;
  std::string dpath;
  std::vector<uint64_t> shape;
  bool float32 = true;
  Impl(const std::string& path, bool force) : out(path, force), w(path, out.temp_path()) {}
};

ModelSliceWriter::ModelSliceWriter(const std::string& path, bool force) {
  silence_hdf5();
  impl_ = std::make_unique<Impl>(path, force);
}

ModelSliceWriter::~ModelSliceWriter() = default;

void ModelSliceWriter::begin_tensor(const Tensor& t) {
  Impl& m = *impl_;
  if (t.shape.empty()) throw Error(ErrorKind::argument, m.out.path() + ": tensor '" + t.name + "': rank 0");
  m.dpath = strip_slashes(t.mean_path.empty() ? t.name + "/mean" : t.mean_path);
  if (!m.used.insert(m.dpath).second)
    throw Error(ErrorKind::argument, m.out.path() + ": two tensors write to '" + m.dpath + "'");
  m.shape = t.shape, m.float32 = t.float32;
  m.dataset = m.w.create_chunked(m.dpath, t.shape, t.float32);
}

void ModelSliceWriter::write(uint64_t begin, std::span<const double> mu) {
  Impl& m = *impl_;
  if (!m.dataset.valid()) throw Error(ErrorKind::argument, m.out.path() + ": write before begin_tensor");
  m.w.write_slice(m.dataset.get(), m.dpath, m.shape, begin, mu, m.float32);
}

void ModelSliceWriter::commit(const Model& extras) {
  Impl& m = *impl_;
  m.dataset = Id();
  write_extras(m.w, extras);
  m.w.close();
  m.out.commit();
}

}  // namespace vbq
