// formats/reference_decoder.py, written from formats/SPEC.md alone, against the
// C++ reader: every tensor of every file must come back bit for bit as
// `vbq decompress` restores it (read back from its HDF5 output). Needs
// /usr/bin/python3 with numpy; without them the cases say so and pass.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "formats/atomic_file.hpp"
#include "formats/container.hpp"
#include "formats/hdf5_model.hpp"
#include "tests/support.hpp"
#include "vbq/codec.hpp"
#include "vbq/symbol_stream.hpp"

using namespace vbq;

namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kDecoder = std::string(VBQ_SOURCE_DIR) + "/formats/reference_decoder.py";

bool python_with_numpy() {
  static const bool ok = std::system((kPython + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0;
  if (!ok) vbq::testing::skip_for_missing_data(kPython + " with numpy is missing (apt-get install python3-numpy)");
  return ok;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

int run(const std::string& command) { return std::system(command.c_str()); }

// A container's float32 / float64 bytes per tensor, as `vbq decompress` writes
// them to HDF5 and read_model reads them back.
std::vector<std::string> decompressed_bytes(const std::string& vbq_path, vbq::testing::TempDir& tmp) {
  const std::string h5 = tmp.file("restored.h5");
  REQUIRE(run(quoted(VBQ_BINARY) + " decompress " + quoted(vbq_path) + " -o " + quoted(h5) + " -f 2>/dev/null") == 0);
  ReadOptions options;
  options.require_spread = false;
  Model m = read_model(h5, options);
  Container c = read_container(vbq_path);
  std::vector<std::string> out;
  for (const EncodedTensor& e : c.tensors) {
    const Tensor* t = m.find(e.name);
    REQUIRE(t != nullptr);
    REQUIRE(t->float32 == e.float32);
    std::string bytes;
    for (double v : t->mu) {
      if (e.float32) {
        const uint32_t u = std::bit_cast<uint32_t>(float(v));
        bytes.append(reinterpret_cast<const char*>(&u), 4);
      } else {
        const uint64_t u = std::bit_cast<uint64_t>(v);
        bytes.append(reinterpret_cast<const char*>(&u), 8);
      }
    }
    out.push_back(std::move(bytes));
  }
  return out;
}

// Decodes vbq_path with the reference decoder and compares every tensor with
// `vbq decompress`, byte for byte (the comparison runs in numpy).
void check_bit_identical(const std::string& vbq_path) {
  vbq::testing::TempDir tmp("refdec");
  const std::vector<std::string> expected = decompressed_bytes(vbq_path, tmp);
  const Container c = read_container(vbq_path);
  const std::string npz = tmp.file("out.npz");
  REQUIRE(run(kPython + " " + quoted(kDecoder) + " " + quoted(vbq_path) + " " + quoted(npz) + " 2>/dev/null") == 0);
  std::string args;
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const std::string raw = tmp.file("t" + std::to_string(i) + ".raw");
    std::ofstream(raw, std::ios::binary) << expected[i];
    args += " " + quoted(c.tensors[i].name) + " " + quoted(raw);
  }
  const std::string compare =
      "import sys, numpy as np\n"
      "d = np.load(sys.argv[1])\n"
      "pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))\n"
      "bad = [n for n, f in pairs if d[n].tobytes() != open(f, 'rb').read()]\n"
      "sys.exit('differ: ' + ' '.join(bad) if bad or len(d.files) != len(pairs) else 0)\n";
  std::ofstream(tmp.file("compare.py")) << compare;
  CHECK(run(kPython + " " + quoted(tmp.file("compare.py")) + " " + quoted(npz) + args) == 0);
}

// Student-t(5) means (with outliers beyond every prior's reach), sigma log-uniform.
void posterior(size_t n, uint64_t seed, std::vector<double>& mu, std::vector<double>& sigma) {
  std::mt19937_64 rng(seed);
  std::student_t_distribution<double> t5(5.0);
  std::uniform_real_distribution<double> ls(std::log(0.01), std::log(1.0));
  mu.resize(n), sigma.resize(n);
  for (size_t i = 0; i < n; ++i) mu[i] = 0.3 * t5(rng), sigma[i] = std::exp(ls(rng));
  for (size_t i = 11; i < n; i += 997) mu[i] = i % 2 ? 1e3 : -1e3;
}

// t re-coded by `coder` in blocks of `block_symbols` (many blocks, block tables,
// escapes in several blocks, all in a few thousand symbols the Python decoder
// gets through fast); the context coder takes its rows from t.shape.
EncodedTensor reblocked(EncodedTensor t, uint64_t block_symbols, EntropyCoder coder = EntropyCoder::rans) {
  std::vector<uint32_t> indices(t.symbols.count);
  decode_symbol_indices(t.symbols, indices, 1);
  std::vector<uint64_t> symbols(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) symbols[i] = t.symbols.alphabet[indices[i]];
  t.symbols = encode_symbols(symbols, 1, block_symbols, true, coder, row_length(t));
  if (has_escape(t)) {
    t.block_escapes.assign(t.symbols.blocks.size(), 0);
    for (size_t i = 0; i < symbols.size(); ++i) t.block_escapes[i / block_symbols] += symbols[i] == kEscapeSymbol;
  }
  return t;
}

EncodedTensor named(EncodedTensor t, const std::string& name, bool float32, std::vector<uint64_t> shape) {
  t.name = name, t.float32 = float32, t.shape = std::move(shape);
  return t;
}

// One tensor per prior family: a small lambda for gauss (so that means escape), 1 otherwise.
VbqSettings per_prior_settings(const std::string& prior, EntropyCoder coder = EntropyCoder::rans) {
  VbqSettings s;
  s.lambda = prior == "gauss" ? 0.05 : 1.0;
  s.prior = prior;
  s.threads = 1;
  s.coder = coder;
  return s;
}

}  // namespace

TEST_CASE("reference decoder: bit-identical to vbq decompress for every quantizer and prior") {
  if (!python_with_numpy()) return;
  vbq::testing::TempDir tmp("refdec-files");
  std::vector<double> mu, sigma;
  posterior(6000, 3, mu, sigma);
  Container c;
  for (const std::string& prior : auto_prior_candidates()) {
    EncodedTensor t = reblocked(encode_vbq(mu, sigma, per_prior_settings(prior)), 700);
    CAPTURE(prior);
    CHECK(t.symbols.blocks.size() == 9);
    if (prior == "gauss") CHECK(t.escapes.size() >= 6);
    const bool float32 = prior != "student";  // one float64 vbq tensor
    c.tensors.push_back(named(std::move(t), "vbq-" + prior, float32, {60, 100}));
  }
  VbqSettings centroid = per_prior_settings("gauss");
  centroid.levels = LevelRule::centroid;
  c.tensors.push_back(named(reblocked(encode_vbq(mu, sigma, centroid), 700), "vbq-centroid", true, {60, 100}));
  for (const bool float32 : {true, false}) {  // row gains, set on the final shape
    EncodedTensor t = named(reblocked(encode_vbq(mu, sigma, centroid), 700), float32 ? "vbq-gain" : "vbq-gain64",
                            float32, {600, 10});
    std::vector<uint32_t> index(mu.size());
    decode_symbol_indices(t.symbols, index, 1);
    std::vector<uint64_t> symbols(mu.size());
    for (size_t i = 0; i < mu.size(); ++i) symbols[i] = t.symbols.alphabet[index[i]];
    set_row_gains(t, symbols, mu, 1);
    REQUIRE(t.gains.size() == 2);  // groups of 410 rows
    c.tensors.push_back(std::move(t));
  }
  for (const bool float32 : {true, false}) {  // column means, with gains and escapes
    VbqSettings centered = per_prior_settings("gauss");
    centered.center_columns = true, centered.row_gains = true;
    const std::vector<uint64_t> shape = {600, 10};
    EncodedTensor t = named(reblocked(encode_vbq(mu, sigma, centered, shape), 700),
                            float32 ? "vbq-center" : "vbq-center64", float32, shape);
    REQUIRE(t.column_means.size() == 10);
    REQUIRE(has_escape(t));
    c.tensors.push_back(std::move(t));
  }
  c.tensors.push_back(named(encode_grid(mu, 31), "grid32", true, {6000}));
  c.tensors.push_back(named(reblocked(encode_grid(mu, 1000), 1024), "grid64", false, {3, 2000}));
  c.tensors.push_back(named(encode_codebook(mu, {-1.0, -0.2, 0.0, 0.1 / 3, 0.5}), "layer/codebook", true, {6000}));
  for (size_t i = 0; i < 60; ++i) c.vocab.push_back("word" + std::to_string(i) + (i % 5 ? "" : "\xc3\xa9"));
  const std::string path = tmp.file("many.vbq");
  write_container(path, c, true);
  check_bit_identical(path);

  // The vocabulary, too.
  const std::string words = tmp.file("words.txt");
  REQUIRE(run(kPython + " " + quoted(kDecoder) + " " + quoted(path) + " " + quoted(tmp.file("o.npz")) + " --vocab " +
              quoted(words) + " 2>/dev/null") == 0);
  std::string expected;
  for (const std::string& w : c.vocab) expected += w + "\n";
  CHECK(read_file_bytes(words) == expected);
}

// Every layout the context coder's SPEC describes: blocks of whole rows and
// blocks that start mid-row, rank 1 (rows of one element), escapes, alphabets
// of 1 symbol, of <= 5 (unary flags only) and of thousands (suffixes past the
// context tree, coded as bypass bits), float32 and float64.
TEST_CASE("reference decoder: context-coded tensors are bit-identical to vbq decompress") {
  if (!python_with_numpy()) return;
  vbq::testing::TempDir tmp("refdec-ctx");
  std::vector<double> mu, sigma;
  posterior(6000, 5, mu, sigma);
  Container c;
  for (const std::string& prior : auto_prior_candidates()) {
    const VbqSettings s = per_prior_settings(prior, EntropyCoder::context);
    const bool float32 = prior != "laplace";
    const uint64_t shape[] = {60, 100};
    EncodedTensor t = named(encode_vbq(mu, sigma, s, shape), "vbq-" + prior, float32, {60, 100});
    if (prior == "gauss") t = reblocked(std::move(t), 1024, EntropyCoder::context);  // blocks start mid-row
    if (prior == "student") {  // rank 1: rows of one element
      t = named(std::move(t), "vbq-student", true, {6000});
      t = reblocked(std::move(t), 700, EntropyCoder::context);
    }
    CAPTURE(prior);
    CHECK(t.symbols.coder == EntropyCoder::context);
    if (prior == "gauss") CHECK((t.symbols.blocks.size() == 6 && t.escapes.size() >= 6));
    c.tensors.push_back(std::move(t));
  }
  std::vector<double> wide(6000);
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (double& x : wide) x = u(rng);
  c.tensors.push_back(named(encode_grid(wide, 4000, 1, {}, EntropyCoder::context), "grid-wide", false, {6000}));
  CHECK(c.tensors.back().symbols.alphabet.size() > 2052);  // suffixes of > 10 bits
  c.tensors.push_back(named(encode_grid(mu, 2, 1, {}, EntropyCoder::context), "grid5", true, {6000}));
  c.tensors.push_back(named(encode_codebook(mu, {0.0}, 1, {}, EntropyCoder::context), "one", true, {6000}));
  CHECK(c.tensors.back().symbols.alphabet.size() == 1);
  const uint64_t shape[] = {3, 2000};
  c.tensors.push_back(named(encode_codebook(mu, {-1.0, -0.2, 0.0, 0.1 / 3, 0.5}, 1, shape, EntropyCoder::context),
                            "layer/codebook", true, {3, 2000}));
  c.tensors.push_back(named(encode_grid(mu, 31), "rans-too", true, {6000}));  // the coders mix in one file
  const std::string path = tmp.file("ctx.vbq");
  write_container(path, c, true);
  check_bit_identical(path);
}

TEST_CASE("reference decoder: golden files") {
  if (!python_with_numpy()) return;
  const std::string dir = std::string(VBQ_SOURCE_DIR) + "/tests/golden/";
  check_bit_identical(dir + "small-v4.0.vbq");
  // Before 4.0 the values are F^{-1} of the prior, which the reference decoder leaves to vbq.
  vbq::testing::TempDir tmp("refdec-old");
  for (const char* name : {"small-v1.0.vbq", "small-v2.0.vbq", "small-v3.0.vbq"}) {
    CAPTURE(name);
    const std::string err = tmp.file("err.txt");
    CHECK(run(kPython + " " + quoted(kDecoder) + " " + quoted(dir + name) + " " + quoted(tmp.file("o.npz")) + " 2>" +
              quoted(err)) != 0);
    CHECK(read_file_bytes(err).find("is not 4.x") != std::string::npos);
  }
}

TEST_CASE("reference decoder: damaged files are rejected") {
  if (!python_with_numpy()) return;
  vbq::testing::TempDir tmp("refdec-bad");
  std::string bytes = read_file_bytes(std::string(VBQ_SOURCE_DIR) + "/tests/golden/small-v4.0.vbq");
  for (size_t at : {size_t(2), size_t(13), size_t(40), bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(at);
    std::string bad = bytes;
    bad[at] ^= 0x04;
    std::ofstream(tmp.file("bad.vbq"), std::ios::binary) << bad;
    CHECK(run(kPython + " " + quoted(kDecoder) + " " + quoted(tmp.file("bad.vbq")) + " " + quoted(tmp.file("o.npz")) +
              " 2>/dev/null") != 0);
  }
  std::ofstream(tmp.file("cut.vbq"), std::ios::binary) << bytes.substr(0, bytes.size() - 5);
  CHECK(run(kPython + " " + quoted(kDecoder) + " " + quoted(tmp.file("cut.vbq")) + " " + quoted(tmp.file("o.npz")) +
            " 2>/dev/null") != 0);
}
