// Tests for formats/hdf5_model: round trips, convention detection and every
// validation error (kind + message naming file, dataset and index).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "formats/hdf5_model.hpp"
#include "tests/hdf5_fixture.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

namespace fs = std::filesystem;
using vbq::ErrorKind;
using vbq::testing::expect_error;
using vbq::testing::H5Fixture;
using vbq::testing::TempDir;

namespace {

vbq::Tensor make_tensor(const std::string& name, std::vector<uint64_t> shape, bool float32, uint32_t seed,
                        bool with_sigma = true) {
  vbq::Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.float32 = float32;
  size_t n = 1;
  for (uint64_t s : t.shape) n *= s;
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  for (size_t i = 0; i < n; ++i) {
    t.mu.push_back(normal(rng));
    if (with_sigma) t.sigma.push_back(std::exp(normal(rng) - 2.0));
  }
  return t;
}

}  // namespace

TEST_CASE("hdf5 round trip float32 and float64, ranks 1..3, vocab, counts, attributes") {
  TempDir tmp("hdf5");
  std::string path = tmp.file("model.h5");
  vbq::Model m;
  m.tensors.push_back(make_tensor("word", {50, 4}, true, 1));
  m.tensors.push_back(make_tensor("bias", {7}, false, 2));
  m.tensors.push_back(make_tensor("layer1/kernel", {2, 3, 4}, true, 3));
  m.tensors.push_back(make_tensor("context", {50, 4}, false, 4));
  for (int i = 0; i < 50; ++i) m.vocab.push_back(i == 3 ? "naïve" : std::to_string(i) + "w");
  m.vocab[7] = "";  // empty strings survive too
  for (int i = 0; i < 50; ++i) m.counts.push_back(uint64_t(1) << (i % 63));
  m.attributes["dim"] = "4";
  m.attributes["trainer"] = "vbq word2vec";
  vbq::write_model(path, m, false);
  CHECK(tmp.entries() == 1);  // no temporary left behind

  size_t width = 0;
  CHECK(vbq::hdf5_dataset_class(path, "word/mean", &width) == vbq::Hdf5Class::floating);
  CHECK(width == 4);
  CHECK(vbq::hdf5_dataset_class(path, "bias/log_std", &width) == vbq::Hdf5Class::floating);
  CHECK(width == 8);
  CHECK(vbq::hdf5_dataset_class(path, "counts", &width) == vbq::Hdf5Class::integer);
  CHECK(width == 8);

  vbq::Model r = vbq::read_model(path);
  REQUIRE(r.tensors.size() == 4);
  // Sorted by name.
  CHECK(r.tensors[0].name == "bias");
  CHECK(r.tensors[1].name == "context");
  CHECK(r.tensors[2].name == "layer1/kernel");
  CHECK(r.tensors[3].name == "word");
  for (const vbq::Tensor& got : r.tensors) {
    const vbq::Tensor* want = m.find(got.name);
    REQUIRE(want != nullptr);
    CHECK(got.shape == want->shape);
    CHECK(got.float32 == want->float32);
    CHECK(got.mean_path == got.name + "/mean");
    REQUIRE(got.mu.size() == want->mu.size());
    REQUIRE(got.sigma.size() == want->sigma.size());
    for (size_t i = 0; i < got.mu.size(); ++i) {
      if (want->float32) {
        CHECK(got.mu[i] == double(float(want->mu[i])));
        CHECK(got.sigma[i] == doctest::Approx(want->sigma[i]).epsilon(1e-6));
      } else {
        CHECK(got.mu[i] == want->mu[i]);
        CHECK(got.sigma[i] == doctest::Approx(want->sigma[i]).epsilon(1e-14));
      }
    }
  }
  CHECK(r.vocab == m.vocab);
  CHECK(r.counts == m.counts);
  CHECK(r.attributes == m.attributes);
  CHECK(r.find("word") == &r.tensors[3]);
  CHECK(r.find("nope") == nullptr);
}

TEST_CASE("hdf5 paper convention: mean_path round trip and detection") {
  TempDir tmp("hdf5");
  std::string path = tmp.file("paper.h5");
  vbq::Model m;
  m.tensors.push_back(make_tensor("u", {10, 3}, true, 5));
  m.tensors.push_back(make_tensor("v", {10, 3}, true, 6));
  m.tensors[0].mean_path = "q/mean_u";
  m.tensors[1].mean_path = "q/mean_v";
  vbq::write_model(path, m, false);
  CHECK(vbq::hdf5_has_object(path, "q/log_std_u"));
  CHECK(vbq::hdf5_has_object(path, "q/log_std_v"));
  CHECK_FALSE(vbq::hdf5_has_object(path, "u"));

  vbq::Model r = vbq::read_model(path);
  REQUIRE(r.tensors.size() == 2);
  CHECK(r.tensors[0].name == "u");
  CHECK(r.tensors[0].mean_path == "q/mean_u");
  CHECK(r.tensors[1].name == "v");
  CHECK(r.tensors[1].mu[17] == double(float(m.tensors[1].mu[17])));
  CHECK(r.tensors[1].sigma[17] == doctest::Approx(m.tensors[1].sigma[17]).epsilon(1e-6));

  SUBCASE("select keeps the named tensor") {
    vbq::ReadOptions o;
    o.select = {"v"};
    vbq::Model s = vbq::read_model(path, o);
    REQUIRE(s.tensors.size() == 1);
    CHECK(s.tensors[0].name == "v");
  }
  SUBCASE("an unknown name lists the available ones") {
    vbq::ReadOptions o;
    o.select = {"w"};
    expect_error([&] { vbq::read_model(path, o); }, ErrorKind::argument, {"paper.h5", "'w'", "'u', 'v'"});
  }
}

TEST_CASE("hdf5 paper convention without spread needs require_spread=false") {
  TempDir tmp("hdf5");
  std::string path = tmp.file("means.h5");
  {
    H5Fixture f(path);
    f.f32("q/mean_u", {2, 2}, {1, 2, 3, 4});
  }
  expect_error([&] { vbq::read_model(path); }, ErrorKind::format, {"means.h5", "no tensor", "paper", "q/mean_u"});
  vbq::ReadOptions o;
  o.require_spread = false;
  vbq::Model r = vbq::read_model(path, o);
  REQUIRE(r.tensors.size() == 1);
  CHECK(r.tensors[0].name == "u");
  CHECK(r.tensors[0].sigma.empty());
  CHECK(r.tensors[0].mu == std::vector<double>{1, 2, 3, 4});
}

TEST_CASE("hdf5 default convention: std, var, log_std at any depth, and means-only groups") {
  TempDir tmp("hdf5");
  std::string path = tmp.file("conv.h5");
  {
    H5Fixture f(path);
    f.f64("a/mean", {3}, {1, 2, 3});
    f.f64("a/std", {3}, {0.5, 1, 2});
    f.f32("deep/er/b/mean", {2}, {4, 5});
    f.f32("deep/er/b/var", {2}, {4, 0.25});
    f.f64("c/mean", {2}, {6, 7});
    f.f64("c/log_std", {2}, {0, std::log(3.0)});
    f.f64("only/mean", {1}, {8});
    f.f64("unrelated", {1}, {9});
  }
  vbq::Model r = vbq::read_model(path);
  REQUIRE(r.tensors.size() == 3);  // "only" has no spread
  CHECK(r.tensors[0].name == "a");
  CHECK(r.tensors[0].sigma == std::vector<double>{0.5, 1, 2});
  CHECK(r.tensors[1].name == "c");
  CHECK(r.tensors[1].sigma[0] == 1.0);
  CHECK(r.tensors[1].sigma[1] == doctest::Approx(3.0));
  CHECK(r.tensors[2].name == "deep/er/b");
  CHECK(r.tensors[2].float32);
  CHECK(r.tensors[2].sigma == std::vector<double>{2, 0.5});

  vbq::ReadOptions o;
  o.require_spread = false;
  vbq::Model m = vbq::read_model(path, o);
  REQUIRE(m.tensors.size() == 4);
  CHECK(m.tensors[3].name == "only");
  CHECK(m.tensors[3].sigma.empty());
}

TEST_CASE("hdf5 explicit mapping overrides detection") {
  TempDir tmp("hdf5");
  std::string path = tmp.file("explicit.h5");
  {
    H5Fixture f(path);
    f.f64("weights/W", {2, 2}, {1, 2, 3, 4});
    f.f64("weights/W_variance", {2, 2}, {1, 4, 9, 16});
    f.f64("a/mean", {1}, {1});
    f.f64("a/std", {1}, {1});
  }
  vbq::ReadOptions o;
  o.explicit_tensors = {{"W", "/weights/W", "weights/W_variance", vbq::Spread::variance}};
  vbq::Model r = vbq::read_model(path, o);
  REQUIRE(r.tensors.size() == 1);  // "a" is not detected when a mapping is given
  CHECK(r.tensors[0].name == "W");
  CHECK(r.tensors[0].mean_path == "weights/W");
  CHECK_FALSE(r.tensors[0].float32);
  CHECK(r.tensors[0].sigma == std::vector<double>{1, 2, 3, 4});

  // Written back with its mean_path, the spread goes beside it.
  std::string out = tmp.file("back.h5");
  vbq::write_model(out, r, false);
  CHECK(vbq::hdf5_has_object(out, "weights/W"));
  CHECK(vbq::hdf5_has_object(out, "weights/W_log_std"));
  o.explicit_tensors = {{"W", "weights/W", "weights/W_log_std", vbq::Spread::log_std}};
  vbq::Model back = vbq::read_model(out, o);
  CHECK(back.tensors[0].mu == r.tensors[0].mu);
  CHECK(back.tensors[0].sigma[3] == doctest::Approx(4.0).epsilon(1e-14));

  SUBCASE("missing dataset names file, tensor and dataset") {
    o.explicit_tensors = {{"W", "weights/W", "weights/nothere", vbq::Spread::std_dev}};
    expect_error([&] { vbq::read_model(path, o); }, ErrorKind::format, {"explicit.h5", "'W'", "weights/nothere", "not found"});
    o.explicit_tensors = {{"X", "no/such/group", "weights/W", vbq::Spread::std_dev}};
    expect_error([&] { vbq::read_model(path, o); }, ErrorKind::format, {"explicit.h5", "no/such/group", "not found"});
    o.explicit_tensors = {{"X", "weights", "weights/W", vbq::Spread::std_dev}};  // a group, not a dataset
    expect_error([&] { vbq::read_model(path, o); }, ErrorKind::format, {"'weights'", "is a group"});
  }
}

TEST_CASE("hdf5 validation errors name file, dataset and index") {
  TempDir tmp("hdf5");
  std::string path = tmp.file("model.h5");
  auto make = [&](auto&& fill) {
    fs::remove(path);
    H5Fixture f(path);
    fill(f);
  };
  auto read = [&] { vbq::read_model(path); };
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();

  SUBCASE("NaN mean in a matrix: flat index, row and col") {
    make([&](H5Fixture& f) {
      std::vector<double> mu(20 * 50, 0.5);
      mu[12 * 50 + 34] = nan;
      f.f64("word/mean", {20, 50}, mu);
      f.f64("word/std", {20, 50}, std::vector<double>(1000, 1.0));
    });
    expect_error(read, ErrorKind::format, {"model.h5", "tensor 'word'", "mean[634] (row 12, col 34) is NaN", "word/mean"});
  }
  SUBCASE("infinite mean in a rank-3 tensor") {
    make([&](H5Fixture& f) {
      std::vector<float> mu(24, 0.5f);
      mu[23] = -std::numeric_limits<float>::infinity();
      f.f32("t/mean", {2, 3, 4}, mu);
      f.f32("t/log_std", {2, 3, 4}, std::vector<float>(24, 0.0f));
    });
    expect_error(read, ErrorKind::format, {"model.h5", "'t'", "mean[23] (at [1, 2, 3]) is infinite"});
  }
  SUBCASE("several bad values in float32: the first is named, on any thread count") {
    make([&](H5Fixture& f) {
      std::vector<float> mu(4000 * 100, 0.5f), sd(4000 * 100, 0.1f);
      mu[399990] = std::numeric_limits<float>::quiet_NaN(), mu[250017] = std::numeric_limits<float>::infinity();
      sd[7] = -1.0f, sd[300000] = 0.0f;
      f.f32("w/mean", {4000, 100}, mu);
      f.f32("w/std", {4000, 100}, sd);
    });
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      vbq::ReadOptions o;
      o.threads = threads;
      expect_error([&] { vbq::read_model(path, o); }, ErrorKind::format, {"mean[250017] (row 2500, col 17) is infinite"});
      // Slices read the spreads after their means: the std error comes from a slice without bad means.
      const vbq::ModelSlices slices(path, o);
      std::vector<double> m(1000), sg(1000);
      expect_error([&] { slices.read(0, 0, m, sg); }, ErrorKind::format, {"std[7] (row 0, col 7) = -1 is not > 0"});
      slices.read(0, 1000, m, sg);
      CHECK(m[5] == 0.5);
      CHECK(sg[5] == double(0.1f));
    }
  }
  SUBCASE("shape mismatch shows both shapes") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {2, 3}, std::vector<double>(6, 1));
      f.f64("w/std", {3, 2}, std::vector<double>(6, 1));
    });
    expect_error(read, ErrorKind::format, {"model.h5", "'w'", "[2, 3]", "[3, 2]", "w/std"});
  }
  SUBCASE("std <= 0") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {4}, {1, 2, 3, 4});
      f.f64("w/std", {4}, {1, 1, 0, 1});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "'w'", "std[2] = 0", "w/std"});
  }
  SUBCASE("std not finite") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {4}, {1, 2, 3, 4});
      f.f64("w/std", {4}, {1, inf, 1, 1});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "std[1] = inf", "not finite"});
  }
  SUBCASE("var <= 0") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {2, 2}, {1, 2, 3, 4});
      f.f64("w/var", {2, 2}, {1, 1, 1, -2});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "var[3] (row 1, col 1) = -2", "w/var"});
  }
  SUBCASE("var NaN") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {2}, {1, 2});
      f.f64("w/var", {2}, {nan, 1});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "var[0]", "not finite"});
  }
  SUBCASE("log_std not finite, or so small that std underflows to 0") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {3}, {1, 2, 3});
      f.f64("w/log_std", {3}, {0, 0, -inf});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "log_std[2] = -inf", "w/log_std"});
    make([&](H5Fixture& f) {
      f.f64("w/mean", {3}, {1, 2, 3});
      f.f64("w/log_std", {3}, {0, -800, 0});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "log_std[1] = -800"});
  }
  SUBCASE("rho NaN, infinite, or so negative that std underflows to 0") {
    make([&](H5Fixture& f) {
      f.f64("layer/w/mean", {2, 2}, {1, 2, 3, 4});
      f.f64("layer/w/rho", {2, 2}, {0, 0, nan, 0});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "'layer/w'", "rho[2] (row 1, col 0) = nan", "not finite", "layer/w/rho"});
    make([&](H5Fixture& f) {
      f.f64("w/mean", {3}, {1, 2, 3});
      f.f64("w/rho", {3}, {0, inf, 0});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "rho[1] = inf", "not finite", "w/rho"});
    make([&](H5Fixture& f) {
      f.f64("w/mean", {3}, {1, 2, 3});
      f.f64("w/rho", {3}, {0, 0, -800});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "rho[2] = -800", "gives a std that is not finite and > 0"});
  }
  SUBCASE("empty tensor") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {0, 5}, {});
      f.f64("w/std", {0, 5}, {});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "w/mean", "empty", "[0, 5]"});
  }
  SUBCASE("integer mean") {
    make([&](H5Fixture& f) {
      f.i32("w/mean", {2}, {1, 2});
      f.f64("w/std", {2}, {1, 1});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "'w/mean'", "integer"});
  }
  SUBCASE("string spread") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {2}, {1, 2});
      f.vlen_strings("w/std", {"a", "b"});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "'w/std'", "string"});
  }
  SUBCASE("compound mean") {
    make([&](H5Fixture& f) {
      f.compound("w/mean", 2);
      f.f64("w/std", {2}, {1, 1});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "'w/mean'", "compound"});
  }
  SUBCASE("mean with two spreads is ambiguous") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {2}, {1, 2});
      f.f64("w/std", {2}, {1, 1});
      f.f64("w/var", {2}, {1, 1});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "'w'", "ambiguous", "w/std", "w/var"});
  }
  SUBCASE("no detectable tensor says which conventions were tried") {
    make([&](H5Fixture& f) {
      f.f64("weights", {2}, {1, 2});
      f.f64("g/mean", {2}, {1, 2});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "no tensor", "default", "paper", "'g'"});
  }
  SUBCASE("integer vocab is rejected; counts of any integer type are accepted") {
    make([&](H5Fixture& f) {
      f.f64("w/mean", {2}, {1, 2});
      f.f64("w/std", {2}, {1, 1});
      f.i32("vocab", {2}, {1, 2});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "'vocab'", "integer"});
    make([&](H5Fixture& f) {
      f.f64("w/mean", {2}, {1, 2});
      f.f64("w/std", {2}, {1, 1});
      f.fixed_strings("vocab", {"the", "quick"}, 8);
      f.i32("counts", {2}, {5, 7});
      f.attr_i32("epochs", -3);
      f.attr_f64("lr", 0.025);
      f.attr_fixed_string("optimizer", "adam", 8);
    });
    vbq::Model m = vbq::read_model(path);
    CHECK(m.vocab == std::vector<std::string>{"the", "quick"});
    CHECK(m.counts == std::vector<uint64_t>{5, 7});
    CHECK(m.attributes.at("epochs") == "-3");
    CHECK(m.attributes.at("lr") == "0.025");
    CHECK(m.attributes.at("optimizer") == "adam");
    make([&](H5Fixture& f) {
      f.f64("w/mean", {2}, {1, 2});
      f.f64("w/std", {2}, {1, 1});
      f.i32("counts", {2}, {5, -7});
    });
    expect_error(read, ErrorKind::format, {"model.h5", "counts[1] = -7"});
  }
}

TEST_CASE("hdf5 unreadable and non-HDF5 files") {
  TempDir tmp("hdf5");
  expect_error([&] { vbq::read_model(tmp.file("missing.h5")); }, ErrorKind::io, {"missing.h5"});
  expect_error([&] { vbq::read_model(tmp.dir.string()); }, ErrorKind::io, {"directory"});
  std::string text = tmp.file("notes.h5");
  std::ofstream(text) << "this is not an HDF5 file\n";
  expect_error([&] { vbq::read_model(text); }, ErrorKind::format, {"notes.h5", "not an HDF5 file"});
  std::string empty = tmp.file("empty.h5");
  std::ofstream{empty};
  expect_error([&] { vbq::read_model(empty); }, ErrorKind::format, {"empty.h5"});

  // A real HDF5 file cut short: the signature is there, the rest is not.
  std::string whole = tmp.file("whole.h5"), cut = tmp.file("cut.h5");
  vbq::Model m;
  m.tensors.push_back(make_tensor("w", {1000}, false, 11));
  vbq::write_model(whole, m, false);
  fs::copy_file(whole, cut);
  fs::resize_file(cut, fs::file_size(whole) / 2);
  expect_error([&] { vbq::read_model(cut); }, ErrorKind::format, {"cut.h5"});
}

TEST_CASE("hdf5 write_model refuses to overwrite without force, atomically") {
  TempDir tmp("hdf5");
  std::string path = tmp.file("out.h5");
  std::ofstream(path) << "precious";
  vbq::Model m;
  m.tensors.push_back(make_tensor("w", {3}, true, 9));
  expect_error([&] { vbq::write_model(path, m, false); }, ErrorKind::argument, {"out.h5", "exists"});
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "precious");
  CHECK(tmp.entries() == 1);

  vbq::write_model(path, m, true);
  CHECK(tmp.entries() == 1);
  CHECK(vbq::read_model(path).tensors.at(0).mu[1] == double(float(m.tensors[0].mu[1])));

  SUBCASE("invalid models are refused before anything is written") {
    std::string other = tmp.file("bad.h5");
    vbq::Model bad = m;
    bad.tensors[0].sigma[2] = 0;
    expect_error([&] { vbq::write_model(other, bad, false); }, ErrorKind::argument, {"bad.h5", "'w'", "std[2]"});
    bad = m;
    bad.tensors[0].shape = {4};
    expect_error([&] { vbq::write_model(other, bad, false); }, ErrorKind::argument, {"'w'", "[4]"});
    bad = m;
    bad.tensors[0].mu[0] = 1e300;  // does not fit float32
    expect_error([&] { vbq::write_model(other, bad, false); }, ErrorKind::argument, {"'w'", "mean[0]", "float32"});
    CHECK_FALSE(fs::exists(other));
    CHECK(tmp.entries() == 1);
  }
}

TEST_CASE("hdf5 large float32 tensor is read whole and widened exactly") {
  TempDir tmp("hdf5");
  std::string path = tmp.file("big.h5");
  vbq::Model m;
  vbq::Tensor t;
  t.name = "big";
  t.shape = {1000, 1000};
  t.mu.resize(1000000);
  t.sigma.resize(t.mu.size());
  for (size_t i = 0; i < t.mu.size(); ++i) {
    t.mu[i] = double(float(std::sin(double(i)) * 3));
    t.sigma[i] = 0.01 + double(i % 97) / 100;
  }
  m.tensors.push_back(t);
  vbq::write_model(path, m, false);
  vbq::Model r = vbq::read_model(path);
  REQUIRE(r.tensors.size() == 1);
  CHECK(r.tensors[0].mu == t.mu);  // float32 values come back bit-exact
  bool sigma_close = true;
  for (size_t i = 0; i < t.sigma.size(); ++i)
    sigma_close = sigma_close && std::fabs(r.tensors[0].sigma[i] / t.sigma[i] - 1) < 1e-6;
  CHECK(sigma_close);
}

// Contiguous datasets are read with pread on the reader's threads, chunked ones
// through HDF5: slices at odd offsets give the same values either way.
TEST_CASE("hdf5 slices of contiguous and chunked datasets read alike, on any thread count") {
  TempDir tmp("hdf5");
  for (bool float32 : {true, false}) {
    CAPTURE(float32);
    vbq::Model m;
    vbq::Tensor t;
    t.name = "w", t.shape = {3001, 700}, t.float32 = float32;
    t.mu.resize(3001 * 700);
    for (size_t i = 0; i < t.mu.size(); ++i) t.mu[i] = double(float(std::sin(double(i)) * 3)) + (float32 ? 0 : 1e-12);
    m.tensors.push_back(t);
    const std::string contiguous = tmp.file("contiguous.h5"), chunked = tmp.file("chunked.h5");
    vbq::write_model(contiguous, m, true);
    {
      vbq::ModelSliceWriter w(chunked, true);
      w.begin_tensor(t);
      w.write(0, t.mu);
      w.commit(vbq::Model{});
    }
    for (int threads : {1, 3}) {
      CAPTURE(threads);
      vbq::ReadOptions o;
      o.threads = threads, o.require_spread = false;
      const vbq::ModelSlices a(contiguous, o), b(chunked, o);
      for (uint64_t begin : {uint64_t(0), uint64_t(12345), uint64_t(3001 * 700 - 1700001)}) {
        std::vector<double> x(1700001), y(x.size());
        a.read(0, begin, x, {});
        b.read(0, begin, y, {});
        CHECK(x == y);
        CHECK(std::equal(x.begin(), x.end(), t.mu.begin() + std::ptrdiff_t(begin)));
      }
    }
  }
}

TEST_CASE("hdf5 rho: sigma = log(1 + e^rho), stable at both ends") {
  // The softplus spread of Bayes-by-Backprop libraries, against long double.
  for (double rho : {-700.0, -50.0, -30.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.0, 30.0, 50.0, 700.0, 1e300}) {
    CAPTURE(rho);
    const double expected = rho > 40 ? rho + double(std::exp(-(long double)rho))
                                     : double(std::log1p(std::exp((long double)rho)));
    CHECK(vbq::sigma_from_rho(rho) == doctest::Approx(expected).epsilon(1e-15));
  }
  CHECK(vbq::sigma_from_rho(0) == doctest::Approx(std::log(2.0)).epsilon(1e-16));
  CHECK(vbq::sigma_from_rho(-50) == doctest::Approx(std::exp(-50.0)).epsilon(1e-15));  // e^rho, not 0
  CHECK(vbq::sigma_from_rho(-700) > 0);
  CHECK(vbq::sigma_from_rho(1e300) == 1e300);  // no overflow of e^rho
  CHECK(vbq::sigma_from_rho(-800) == 0);       // e^-800 underflows: the reader rejects it

  // Read from a file written here (always runs): float32 and float64 rho.
  TempDir tmp("hdf5");
  const std::string path = tmp.file("rho.h5");
  {
    H5Fixture f(path);
    f.f32("fc1/weight/mean", {2, 2}, {0.1f, -0.2f, 0.3f, -0.4f});
    f.f32("fc1/weight/rho", {2, 2}, {-5.0f, 0.0f, 3.0f, -50.0f});
    f.f64("fc1/bias/mean", {2}, {0.5, -0.5});
    f.f64("fc1/bias/rho", {2}, {100.0, -30.0});
  }
  vbq::Model m = vbq::read_model(path);
  REQUIRE(m.tensors.size() == 2);
  CHECK(m.tensors[0].name == "fc1/bias");
  CHECK(m.tensors[0].sigma[0] == 100.0);
  CHECK(m.tensors[0].sigma[1] == doctest::Approx(std::exp(-30.0)).epsilon(1e-12));
  CHECK(m.tensors[1].name == "fc1/weight");
  CHECK(m.tensors[1].float32);
  const std::vector<double> rho = {-5, 0, 3, -50};
  for (size_t i = 0; i < rho.size(); ++i) CHECK(m.tensors[1].sigma[i] == vbq::sigma_from_rho(rho[i]));

  // rho beside another spread is ambiguous, as for std / var / log_std.
  {
    H5Fixture f(path);
    f.f64("w/mean", {1}, {1});
    f.f64("w/rho", {1}, {0});
    f.f64("w/std", {1}, {1});
  }
  expect_error([&] { vbq::read_model(path); }, ErrorKind::format, {"'w' is ambiguous", "w/rho", "w/std"});

  // An explicit mapping with Spread::softplus_rho.
  {
    H5Fixture f(path);
    f.f64("params/mu", {2}, {1, 2});
    f.f64("params/rho_raw", {2}, {-3, 2});
  }
  vbq::ReadOptions o;
  o.explicit_tensors = {{"p", "params/mu", "params/rho_raw", vbq::Spread::softplus_rho}};
  vbq::Model e = vbq::read_model(path, o);
  REQUIRE(e.tensors.size() == 1);
  CHECK(e.tensors[0].sigma == std::vector<double>{vbq::sigma_from_rho(-3), vbq::sigma_from_rho(2)});
}

TEST_CASE("hdf5 rho: a file written by h5py, as Bayes-by-Backprop code exports it") {
  // Runs only where Debian's python3-h5py is installed (scripts/setup.sh installs it);
  // the C++-written rho fixture above covers the same reader everywhere.
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: /usr/bin/python3 has no h5py (apt-get install python3-h5py)");
    return;
  }
  TempDir tmp("hdf5");
  const std::string path = tmp.file("bbb.h5"), script = tmp.file("write.py");
  std::ofstream(script) << "import sys, h5py, numpy as np\n"
                           "with h5py.File(sys.argv[1], 'w') as f:\n"
                           "    f['layer1/weight/mean'] = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], np.float32)\n"
                           "    f['layer1/weight/rho'] = np.array([[-6.0, -3.0, 0.0], [2.0, 25.0, -40.0]], np.float32)\n"
                           "    f['layer1/bias/mean'] = np.zeros(3)\n"
                           "    f['layer1/bias/rho'] = np.full(3, -4.0)\n"
                           "    f.attrs['framework'] = 'bayes-by-backprop'\n";
  REQUIRE(std::system(("/usr/bin/python3 '" + script + "' '" + path + "'").c_str()) == 0);
  vbq::Model m = vbq::read_model(path);
  REQUIRE(m.tensors.size() == 2);
  CHECK(m.tensors[1].name == "layer1/weight");
  CHECK(m.tensors[1].shape == std::vector<uint64_t>{2, 3});
  CHECK(m.tensors[1].float32);
  const std::vector<double> rho = {-6, -3, 0, 2, 25, -40};
  for (size_t i = 0; i < rho.size(); ++i) {
    CAPTURE(i);
    CHECK(m.tensors[1].sigma[i] == vbq::sigma_from_rho(rho[i]));
    CHECK(m.tensors[1].sigma[i] == doctest::Approx(std::log1p(std::exp(rho[i]))).epsilon(1e-12));
  }
  CHECK(m.tensors[0].sigma == std::vector<double>(3, vbq::sigma_from_rho(-4)));

  // A NaN rho from h5py is named like the others.
  std::ofstream(script) << "import sys, h5py, numpy as np\n"
                           "with h5py.File(sys.argv[1], 'w') as f:\n"
                           "    f['w/mean'] = np.ones(4)\n"
                           "    f['w/rho'] = np.array([0.0, 0.0, 0.0, np.nan])\n";
  REQUIRE(std::system(("/usr/bin/python3 '" + script + "' '" + path + "'").c_str()) == 0);
  expect_error([&] { vbq::read_model(path); }, ErrorKind::format, {"bbb.h5", "'w'", "rho[3] = nan", "w/rho"});
}
