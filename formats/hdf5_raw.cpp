#include "formats/hdf5_raw.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "vbq/error.hpp"

namespace vbq {

static_assert(std::is_same_v<hid_t, int64_t>, "hid_t is held as int64_t in hdf5_raw.hpp");

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(ErrorKind::io, path + ": " + what);
}

// Opens `path` read-only for the inspection functions, closing it on scope exit.
struct ReadOnly {
  hid_t file;
  explicit ReadOnly(const std::string& path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) fail(path, "cannot open as HDF5");
  }
  ~ReadOnly() { H5Fclose(file); }
};

}  // namespace

RawHdf5Writer::RawHdf5Writer(const std::string& path) : path_(path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file_ < 0) fail(path, "cannot create the HDF5 file");
  lcpl_ = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl_, 1);
}

RawHdf5Writer::~RawHdf5Writer() {
  H5Pclose(lcpl_);
  H5Fclose(file_);
}

void RawHdf5Writer::dataset(const std::string& name, int64_t file_type, int64_t mem_type,
                            const std::vector<uint64_t>& dims, const void* data) {
  const std::vector<hsize_t> h(dims.begin(), dims.end());
  const hid_t space = h.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(h.size()), h.data(), nullptr);
  const hid_t d = H5Dcreate2(file_, name.c_str(), file_type, space, lcpl_, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(space);
  if (d < 0) fail(path_, "cannot create dataset '" + name + "'");
  const bool has_data = std::all_of(h.begin(), h.end(), [](hsize_t x) { return x > 0; });
  const bool ok = !has_data || H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
  H5Dclose(d);
  if (!ok) fail(path_, "cannot write dataset '" + name + "'");
}

void RawHdf5Writer::f32(const std::string& name, const std::vector<uint64_t>& dims, const std::vector<float>& v) {
  dataset(name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, dims, v.data());
}
void RawHdf5Writer::f64(const std::string& name, const std::vector<uint64_t>& dims, const std::vector<double>& v) {
  dataset(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, dims, v.data());
}
void RawHdf5Writer::i32(const std::string& name, const std::vector<uint64_t>& dims, const std::vector<int32_t>& v) {
  dataset(name, H5T_STD_I32LE, H5T_NATIVE_INT32, dims, v.data());
}

void RawHdf5Writer::fixed_strings(const std::string& name, const std::vector<std::string>& v, size_t width) {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, width);
  std::vector<char> buf(v.size() * width, '\0');
  for (size_t i = 0; i < v.size(); ++i) std::memcpy(&buf[i * width], v[i].data(), std::min(width, v[i].size()));
  dataset(name, t, t, {v.size()}, buf.data());
  H5Tclose(t);
}

void RawHdf5Writer::vlen_strings(const std::string& name, const std::vector<std::string>& v) {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  std::vector<const char*> p;
  for (const auto& s : v) p.push_back(s.c_str());
  dataset(name, t, t, {v.size()}, p.data());
  H5Tclose(t);
}

void RawHdf5Writer::compound(const std::string& name, uint64_t n) {
  struct Pair {
    double a;
    int32_t b;
  };
  const hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(Pair));
  H5Tinsert(t, "a", HOFFSET(Pair, a), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "b", HOFFSET(Pair, b), H5T_NATIVE_INT32);
  const std::vector<Pair> v(n, Pair{1.0, 2});
  dataset(name, t, t, {n}, v.data());
  H5Tclose(t);
}

void RawHdf5Writer::unwritten_f32(const std::string& name, uint64_t size, uint64_t chunk) {
  const hsize_t dims[1] = {size}, chunks[1] = {chunk};
  const hid_t space = H5Screate_simple(1, dims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, chunks);
  const hid_t d = H5Dcreate2(file_, name.c_str(), H5T_IEEE_F32LE, space, lcpl_, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(space);
  if (d < 0) fail(path_, "cannot create dataset '" + name + "'");
  H5Dclose(d);
}

void RawHdf5Writer::attribute(const std::string& name, int64_t type, const void* value) {
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(file_, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(space);
  const bool ok = a >= 0 && H5Awrite(a, type, value) >= 0;
  if (a >= 0) H5Aclose(a);
  if (!ok) fail(path_, "cannot write attribute '" + name + "'");
}

void RawHdf5Writer::attr_i32(const std::string& name, int32_t value) { attribute(name, H5T_NATIVE_INT32, &value); }
void RawHdf5Writer::attr_f64(const std::string& name, double value) { attribute(name, H5T_NATIVE_DOUBLE, &value); }

void RawHdf5Writer::attr_fixed_string(const std::string& name, const std::string& value, size_t width) {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, width);
  std::vector<char> buf(width, '\0');
  std::memcpy(buf.data(), value.data(), std::min(width, value.size()));
  attribute(name, t, buf.data());
  H5Tclose(t);
}

bool hdf5_has_object(const std::string& path, const std::string& object) {
  const ReadOnly f(path);
  const hid_t o = H5Oopen(f.file, object.c_str(), H5P_DEFAULT);
  if (o < 0) return false;
  H5Oclose(o);
  return true;
}

Hdf5Class hdf5_dataset_class(const std::string& path, const std::string& dataset, size_t* bytes) {
  const ReadOnly f(path);
  const hid_t d = H5Dopen2(f.file, dataset.c_str(), H5P_DEFAULT);
  if (d < 0) fail(path, "no dataset '" + dataset + "'");
  const hid_t t = H5Dget_type(d);
  const H5T_class_t c = H5Tget_class(t);
  *bytes = H5Tget_size(t);
  H5Tclose(t);
  H5Dclose(d);
  switch (c) {
    case H5T_FLOAT: return Hdf5Class::floating;
    case H5T_INTEGER: return Hdf5Class::integer;
    case H5T_STRING: return Hdf5Class::string;
    default: return Hdf5Class::other;
  }
}

}  // namespace vbq
