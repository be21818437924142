// app/stream_compress: a model streamed from HDF5 in slices gives the bytes of
// the in-memory encoder, over several blocks, slices smaller than the model
// and rows longer than a block.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "app/stream_compress.hpp"
#include "formats/atomic_file.hpp"
#include "hdf5_fixture.hpp"
#include "support.hpp"
#include "vbq/error.hpp"
#include "vbq/random.hpp"

using namespace vbq;
using vbq::testing::H5Fixture;
using vbq::testing::TempDir;

namespace {

// Heavy-tailed means (a few far out, so that some escape) and stds log-uniform
// over two decades, as `convert` stores them (std, log_std or var).
struct Posterior {
  std::vector<double> mu, spread;
};
Posterior posterior(size_t n, uint64_t seed, double (*convert)(double)) {
  Xoshiro256Plus rng(seed);
  Posterior p;
  for (size_t i = 0; i < n; ++i) {
    const double u = rng.uniform() - 0.5, w = rng.uniform();
    p.mu.push_back(0.1 * std::tan(3.0 * u) + (i % 100003 == 7 ? 40.0 : 0.0));
    p.spread.push_back(convert(0.01 * std::pow(100.0, w)));
  }
  return p;
}

void write_model_file(const std::string& path) {
  H5Fixture h(path);
  // word: 2 blocks of whole rows; deep: rank 3, 2 blocks; long: rows longer than a block.
  Posterior word = posterior(20000 * 60, 1, [](double s) { return s; });
  std::vector<float> mu32(word.mu.begin(), word.mu.end()), sd32(word.spread.begin(), word.spread.end());
  h.f32("word/mean", {20000, 60}, mu32);
  h.f32("word/std", {20000, 60}, sd32);
  Posterior deep = posterior(3 * 5 * 80000, 2, [](double s) { return std::log(s); });
  h.f64("deep/mean", {3, 5, 80000}, deep.mu);
  h.f64("deep/log_std", {3, 5, 80000}, deep.spread);
  Posterior lng = posterior(2 * 1100000, 3, [](double s) { return s * s; });
  h.f64("long/mean", {2, 1100000}, lng.mu);
  h.f64("long/var", {2, 1100000}, lng.spread);
  std::vector<std::string> vocab;
  for (int i = 0; i < 20000; ++i) vocab.push_back("w" + std::to_string(i));
  h.vlen_strings("vocab", vocab);
}

}  // namespace

TEST_CASE("stream_compress: the same bytes as compress_model, in slices of one block and of several") {
  TempDir d("stream");
  const std::string in = d.file("model.h5");
  write_model_file(in);
  const Model model = read_model(in);
  for (const bool one_table : {false, true})
    for (const EntropyCoder coder : {EntropyCoder::rans, EntropyCoder::context}) {
      if (one_table && coder == EntropyCoder::context) continue;
      CompressSettings settings;
      settings.vbq.lambda = 0.5;
      settings.vbq.block_tables = !one_table;
      settings.vbq.coder = coder;
      settings.vbq.threads = 2;
      const std::string expected = serialize_container(compress_model(model, settings));
      for (const uint64_t slice : {uint64_t(1), uint64_t(3) << 20}) {
        const std::string coder_name = entropy_coder_name(coder);
        CAPTURE(one_table);
        CAPTURE(coder_name);
        CAPTURE(slice);
        const std::string out = d.file("out.vbq");
        StreamedFile f = compress_file_streaming(in, {}, out, true, settings, StreamOptions{slice});
        const std::string bytes = read_file_bytes(out);
        CHECK(bytes.size() == f.layout.total_bytes);
        CHECK(bytes == expected);
        REQUIRE(f.headers.tensors.size() == 3);
        CHECK(f.headers.tensors[0].name == "deep");
      }
    }
  // The model escapes (the far means) and has several blocks per tensor.
  const Container c = read_container(d.file("out.vbq"));
  for (const EncodedTensor& t : c.tensors) {
    CAPTURE(t.name);
    CHECK(t.symbols.blocks.size() >= 2);
    CHECK(has_escape(t));
  }
  CHECK(c.tensors[1].name == "long");
  CHECK(c.tensors[1].symbols.block_symbols == uint64_t(1) << 20);  // "long": rows longer than a block
}

TEST_CASE("stream_compress: the other streamable priors fit the same prior, so the bytes are the same") {
  TempDir d("stream");
  const std::string in = d.file("model.h5");
  write_model_file(in);  // every tensor is larger than the 2^20-mean subsample
  const Model model = read_model(in);
  for (const char* prior : {"gauss-fit", "wide:8", "student", "empirical:8"}) {  // mixture: as empirical
    CAPTURE(prior);
    CompressSettings settings;
    settings.vbq.lambda = 0.5;
    settings.vbq.prior = prior;
    settings.vbq.threads = 2;
    REQUIRE(can_stream(settings));
    const std::string out = d.file("out.vbq");
    compress_file_streaming(in, {}, out, true, settings, StreamOptions{1});
    CHECK(read_file_bytes(out) == serialize_container(compress_model(model, settings)));
  }
  CompressSettings settings;
  for (const char* prior : {"laplace", "auto"}) {
    settings.vbq.prior = prior;
    CHECK_FALSE(can_stream(settings));
  }
  settings.vbq.prior = "gauss";
  settings.vbq.refine_passes = 1;
  CHECK_FALSE(can_stream(settings));
  settings.vbq.refine_passes = 0;
  settings.vbq.spread_power = 0.6;  // needs the geometric mean of a tensor's spreads first
  CHECK_FALSE(can_stream(settings));
}

TEST_CASE("stream_compress: a bad mean in a later slice gets read_model's error and leaves no output") {
  TempDir d("stream-bad");
  const std::string in = d.file("bad.h5");
  {
    H5Fixture h(in);
    std::vector<float> mu(1 << 21, 0.5f), sd(1 << 21, 0.1f);
    mu[1500000] = NAN;
    h.f32("w/mean", {2048, 1024}, mu);
    h.f32("w/std", {2048, 1024}, sd);
  }
  std::string expected;
  try {
    read_model(in);
  } catch (const Error& e) {
    expected = e.what();
  }
  REQUIRE(expected.find("mean[1500000] (row 1464, col 864) is NaN") != std::string::npos);
  CompressSettings settings;
  CHECK_THROWS_WITH_AS(compress_file_streaming(in, {}, d.file("out.vbq"), false, settings, StreamOptions{1}),
                       expected.c_str(), Error);
  CHECK(d.entries() == 1);  // the input alone: no output, no temporary, no scratch file
  settings.vbq.prior = "laplace";
  CHECK_THROWS_AS(compress_file_streaming(in, {}, d.file("out.vbq"), false, settings), Error);
}

TEST_CASE("stream_compress: decompress_file_streaming writes restore_model's means, chunked") {
  TempDir d("stream-restore");
  const std::string in = d.file("model.h5"), packed = d.file("model.vbq"), out = d.file("restored.h5");
  write_model_file(in);
  CompressSettings settings;
  settings.vbq.threads = 2;
  compress_file_streaming(in, {}, packed, false, settings);
  const Model expected = restore_model(read_container(packed), 2);
  const Container headers = decompress_file_streaming(packed, out, false, 2);
  CHECK(headers.tensors.size() == 3);
  const Model restored = read_model(out, ReadOptions{{}, {}, false});
  REQUIRE(restored.tensors.size() == expected.tensors.size());
  for (size_t i = 0; i < expected.tensors.size(); ++i) {
    CAPTURE(expected.tensors[i].name);
    CHECK(restored.tensors[i].shape == expected.tensors[i].shape);
    CHECK(restored.tensors[i].float32 == expected.tensors[i].float32);
    CHECK(restored.tensors[i].mu == expected.tensors[i].mu);
  }
  CHECK(restored.vocab == expected.vocab);
  CHECK_THROWS_AS(decompress_file_streaming(packed, out, false, 2), Error);  // exists, no force
  CHECK(d.entries() == 3);
}

TEST_CASE("stream_compress: centroid levels take the in-memory path") {
  CompressSettings s;
  CHECK(can_stream(s));
  s.vbq.levels = LevelRule::centroid;
  CHECK_FALSE(can_stream(s));  // the plan's levels are fixed before its first block is coded
}
