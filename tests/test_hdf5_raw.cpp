// Tests for formats/hdf5_raw.hpp: what the raw writer writes is what the
// inspection functions and read_model see.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "formats/hdf5_model.hpp"
#include "formats/hdf5_raw.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::TempDir;

TEST_CASE("hdf5 raw: datasets, groups and attributes as written") {
  TempDir d("hdf5-raw");
  const std::string path = d.file("raw.h5");
  {
    RawHdf5Writer w(path);
    w.f32("layer/w/mean", {2, 3}, {1, 2, 3, 4, 5, 6});
    w.f64("layer/w/std", {2, 3}, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5});
    w.i32("counts", {2}, {7, 9});
    w.fixed_strings("names", {"ab", "cdefgh"}, 4);
    w.compound("pairs", 3);
    w.unwritten_f32("huge", uint64_t(1) << 30, 1024);
    w.attr_i32("epochs", 12);
    w.attr_f64("lr", 0.125);
    w.attr_fixed_string("optimizer", "sgd", 8);
  }
  CHECK(hdf5_has_object(path, "layer"));  // intermediate groups are created
  CHECK(hdf5_has_object(path, "layer/w/mean"));
  CHECK_FALSE(hdf5_has_object(path, "layer/w/var"));
  size_t bytes = 0;
  CHECK(hdf5_dataset_class(path, "layer/w/mean", &bytes) == Hdf5Class::floating);
  CHECK(bytes == 4);
  CHECK(hdf5_dataset_class(path, "layer/w/std", &bytes) == Hdf5Class::floating);
  CHECK(bytes == 8);
  CHECK(hdf5_dataset_class(path, "counts", &bytes) == Hdf5Class::integer);
  CHECK(bytes == 4);
  CHECK(hdf5_dataset_class(path, "names", &bytes) == Hdf5Class::string);
  CHECK(bytes == 4);
  CHECK(hdf5_dataset_class(path, "pairs", &bytes) == Hdf5Class::other);
  CHECK(hdf5_dataset_class(path, "huge", &bytes) == Hdf5Class::floating);
  expect_error([&] { hdf5_dataset_class(path, "nothing", &bytes); }, ErrorKind::io, {"raw.h5", "'nothing'"});

  // The model reader sees the same values and attributes.
  ReadOptions o;
  o.select = {"layer/w"};
  const Model m = read_model(path, o);
  REQUIRE(m.tensors.size() == 1);
  CHECK(m.tensors[0].shape == std::vector<uint64_t>{2, 3});
  CHECK(m.tensors[0].mu == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(m.tensors[0].sigma == std::vector<double>(6, 0.5));
  CHECK(m.attributes.at("epochs") == "12");
  CHECK(m.attributes.at("lr") == "0.125");
  CHECK(m.attributes.at("optimizer") == "sgd");
}

TEST_CASE("hdf5 raw: files it cannot create or open are io errors naming them") {
  TempDir d("hdf5-raw-errors");
  const std::string missing = (d.dir / "no-such-dir" / "x.h5").string();
  expect_error([&] { RawHdf5Writer w(missing); }, ErrorKind::io, {"x.h5"});
  expect_error([&] { hdf5_has_object(missing, "a"); }, ErrorKind::io, {"x.h5"});
}
