// Raw HDF5 files: the layouts write_model refuses to write (wrong dtypes, NaN
// means, fixed-length strings, compound types, chunked datasets never written),
// for the tests of the readers, and a look at what a file holds. Part of the HDF5
// adapter with hdf5_model: the only files that include the HDF5 headers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vbq {

// Writes datasets and root attributes into a new file (an existing one is truncated).
// Intermediate groups are created on demand; dims {} is a scalar. Throws
// vbq::Error(ErrorKind::io) naming the file and dataset when HDF5 refuses.
class RawHdf5Writer {
 public:
  explicit RawHdf5Writer(const std::string& path);
  ~RawHdf5Writer();
  RawHdf5Writer(const RawHdf5Writer&) = delete;
  RawHdf5Writer& operator=(const RawHdf5Writer&) = delete;

  void f32(const std::string& name, const std::vector<uint64_t>& dims, const std::vector<float>& v);
  void f64(const std::string& name, const std::vector<uint64_t>& dims, const std::vector<double>& v);
  void i32(const std::string& name, const std::vector<uint64_t>& dims, const std::vector<int32_t>& v);
  void fixed_strings(const std::string& name, const std::vector<std::string>& v, size_t width);  // NUL-padded
  void vlen_strings(const std::string& name, const std::vector<std::string>& v);                 // UTF-8
  void compound(const std::string& name, uint64_t n);  // n records {double a; int32 b}
  // A chunked float32 dataset of `size` elements with no chunk written: it takes no space.
  void unwritten_f32(const std::string& name, uint64_t size, uint64_t chunk);
  void attr_i32(const std::string& name, int32_t value);
  void attr_f64(const std::string& name, double value);
  void attr_fixed_string(const std::string& name, const std::string& value, size_t width);

 private:
  void dataset(const std::string& name, int64_t file_type, int64_t mem_type, const std::vector<uint64_t>& dims,
               const void* data);
  void attribute(const std::string& name, int64_t type, const void* value);
  std::string path_;
  int64_t file_ = -1, lcpl_ = -1;
};

// True if `object` (a group or dataset path) exists in the HDF5 file `path`.
bool hdf5_has_object(const std::string& path, const std::string& object);

enum class Hdf5Class { floating, integer, string, other };
// The class of dataset `dataset`'s stored type, and its size in bytes.
Hdf5Class hdf5_dataset_class(const std::string& path, const std::string& dataset, size_t* bytes);

}  // namespace vbq
