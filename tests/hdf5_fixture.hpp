// A raw HDF5 writer shared by the HDF5 model tests and the CLI tests.
// Kept apart from support.hpp so that only the tests that need HDF5 include it.
#pragma once
#include <doctest/doctest.h>
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace vbq::testing {

// Writes arbitrary HDF5 layouts (wrong dtypes, NaNs, ...) that write_model refuses
// to produce, to the file `path` (truncated). Intermediate groups are created on demand.
class H5Fixture {
 public:
  explicit H5Fixture(const std::string& path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(file_ >= 0);
    lcpl_ = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl_, 1);
  }
  ~H5Fixture() {
    H5Pclose(lcpl_);
    H5Fclose(file_);
  }
  H5Fixture(const H5Fixture&) = delete;
  H5Fixture& operator=(const H5Fixture&) = delete;

  void raw(const std::string& name, hid_t file_type, hid_t mem_type, std::vector<hsize_t> dims, const void* data) {
    hid_t space = dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr);
    hid_t d = H5Dcreate2(file_, name.c_str(), file_type, space, lcpl_, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(d >= 0);
    bool has_data = true;
    for (hsize_t x : dims) has_data = has_data && x > 0;
    if (has_data) REQUIRE(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Sclose(space);
  }
  void f32(const std::string& name, std::vector<hsize_t> dims, const std::vector<float>& v) {
    raw(name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, std::move(dims), v.data());
  }
  void f64(const std::string& name, std::vector<hsize_t> dims, const std::vector<double>& v) {
    raw(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, std::move(dims), v.data());
  }
  void i32(const std::string& name, std::vector<hsize_t> dims, const std::vector<int32_t>& v) {
    raw(name, H5T_STD_I32LE, H5T_NATIVE_INT32, std::move(dims), v.data());
  }
  void fixed_strings(const std::string& name, const std::vector<std::string>& v, size_t width) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, width);
    std::vector<char> buf(v.size() * width, '\0');
    for (size_t i = 0; i < v.size(); ++i) std::memcpy(&buf[i * width], v[i].data(), std::min(width, v[i].size()));
    raw(name, t, t, {v.size()}, buf.data());
    H5Tclose(t);
  }
  void vlen_strings(const std::string& name, const std::vector<std::string>& v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    std::vector<const char*> p;
    for (const auto& s : v) p.push_back(s.c_str());
    raw(name, t, t, {v.size()}, p.data());
    H5Tclose(t);
  }
  void compound(const std::string& name, hsize_t n) {
    struct Pair {
      double a;
      int32_t b;
    };
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(Pair));
    H5Tinsert(t, "a", HOFFSET(Pair, a), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "b", HOFFSET(Pair, b), H5T_NATIVE_INT32);
    std::vector<Pair> v(n, Pair{1.0, 2});
    raw(name, t, t, {n}, v.data());
    H5Tclose(t);
  }
  template <class T>
  void attr(const std::string& name, hid_t type, const T& value) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(file_, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(a >= 0);
    REQUIRE(H5Awrite(a, type, &value) >= 0);
    H5Aclose(a);
    H5Sclose(space);
  }

 private:
  hid_t file_ = -1, lcpl_ = -1;
};

}  // namespace vbq::testing
