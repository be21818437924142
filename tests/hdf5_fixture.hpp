// The raw HDF5 writer (formats/hdf5_raw.hpp) under the name the HDF5 model tests
// and the CLI tests use for it.
#pragma once
#include "formats/hdf5_raw.hpp"

namespace vbq::testing {
using H5Fixture = vbq::RawHdf5Writer;
}  // namespace vbq::testing
