// Writes the seed corpora of the fuzz targets: make_seeds OUT_DIR SOURCE_DIR.
// Seeds are small real files produced by the project's own writers, the golden
// container, the head of the real questions file ($VBQ_DATA) and truncated
// Fashion-MNIST idx files (when the dataset package is installed).
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "formats/atomic_file.hpp"
#include "formats/container.hpp"
#include "formats/word2vec.hpp"
#include "vbq/codec.hpp"
#include "vbq/error.hpp"

namespace fs = std::filesystem;

static void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

static std::string gzip(const std::string& raw) {
  std::string path = fs::temp_directory_path() / ("vbq-seed-" + std::to_string(::getpid()) + ".gz");
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, raw.data(), unsigned(raw.size()));
  gzclose(f);
  std::string out = vbq::read_file_bytes(path);
  fs::remove(path);
  return out;
}

static std::string gunzip_head(const std::string& path, size_t bytes) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return {};
  std::string out(bytes, '\0');
  int n = gzread(f, out.data(), unsigned(bytes));
  gzclose(f);
  out.resize(n > 0 ? size_t(n) : 0);
  return out;
}

static void be32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = char(v >> (24 - 8 * i));
}

static void container_seeds(const fs::path& dir, const fs::path& src) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0.0, 0.5);
  auto tensor = [&](size_t n, std::vector<double>& mu, std::vector<double>& sigma) {
    mu.resize(n), sigma.resize(n);
    for (size_t i = 0; i < n; ++i) mu[i] = z(rng), sigma[i] = 0.02 + 0.1 * std::fabs(z(rng));
  };
  std::vector<double> mu, sigma;
  for (double lambda : {0.05, 1.0, 20.0}) {
    tensor(64, mu, sigma);
    vbq::VbqSettings s;
    s.lambda = lambda;
    vbq::Container c;
    c.tensors.push_back(vbq::encode_vbq(mu, sigma, s));
    c.tensors[0].name = "w";
    c.tensors[0].shape = {8, 8};
    put(dir, "vbq-lambda" + std::to_string(lambda), vbq::serialize_container(c));
  }
  {  // Escapes (4.0): two means beyond the prior's reach.
    tensor(64, mu, sigma);
    mu[5] = 1e4, mu[60] = -1e4;
    vbq::Container c;
    c.tensors.push_back(vbq::encode_vbq(mu, sigma, vbq::VbqSettings{}));
    c.tensors[0].name = "e";
    c.tensors[0].shape = {8, 8};
    put(dir, "vbq-escapes", vbq::serialize_container(c));
  }
  tensor(40, mu, sigma);
  vbq::Container c;
  c.tensors.push_back(vbq::encode_grid(mu, 3));
  c.tensors[0].name = "g";
  c.tensors.push_back(vbq::encode_codebook(mu, {-0.5, 0.0, 0.5}));
  c.tensors[1].name = "k";
  c.tensors[1].float32 = false;
  put(dir, "grid-codebook", vbq::serialize_container(c));
  // Small blocks: several jump table entries.
  c.tensors[0].symbols = vbq::encode_symbols(std::vector<uint64_t>{1, 2, 3, 1, 1, 4, 2, 1, 1, 9}, 1, 3);
  c.tensors[0].shape = {10};
  c.vocab = {"alpha", "beta", "gamma", "\xc3\xa9t\xc3\xa9"};
  put(dir, "blocks-vocab", vbq::serialize_container(c));
  // Block tables (3.0): four blocks, the statistics change halfway, two tables.
  std::vector<uint64_t> drift;
  for (int i = 0; i < 256; ++i) drift.push_back(i < 128 ? 1 + i % 2 : 5 + (i % 3 == 0));
  c.tensors[0].symbols = vbq::encode_symbols(drift, 1, 64);
  c.tensors[0].shape = {256};
  put(dir, "block-tables", vbq::serialize_container(c));
  std::error_code ec;
  for (const char* golden : {"small-v1.0.vbq", "small-v2.0.vbq", "small-v3.0.vbq", "small-v4.0.vbq"})
    fs::copy_file(src / "tests/golden" / golden, dir / ("golden-" + std::string(golden)),
                  fs::copy_options::overwrite_existing, ec);
}

static void word2vec_seeds(const fs::path& dir) {
  vbq::WordVectors wv;
  wv.dim = 3;
  wv.vocab = {"king", "queen", "man", "woman", "\xc3\xa9t\xc3\xa9"};
  wv.vectors = {0.5f, -1.25f, 3e-3f, 1e10f, 0.f, -0.f, 1.f, 2.f, 3.f, -7.5f, 1e-30f, 4.f, 0.1f, 0.2f, 0.3f};
  put(dir, "text.vec", vbq::format_word2vec(wv, vbq::Word2VecFormat::text));
  put(dir, "binary.bin", vbq::format_word2vec(wv, vbq::Word2VecFormat::binary));
  put(dir, "crlf.vec", "2 2\r\na 1 2\r\nb 3 4\r\n");
  put(dir, "empty-vocab.vec", "0 4\n");
}

static void question_seeds(const fs::path& dir) {
  put(dir, "synthetic.txt",
      ": capital-common-countries\nAthens Greece Baghdad Iraq\n\n  Bern Switzerland Cairo Egypt  \n"
      ": gram1-adjective-to-adverb\namazing amazingly apparent apparently\n");
  const char* data = std::getenv("VBQ_DATA");
  if (!data) return;
  std::ifstream in(std::string(data) + "/questions-words.txt");
  std::string line, head, tail;
  for (int i = 0; i < 40 && std::getline(in, line); ++i) head += line + "\n";
  put(dir, "real-head.txt", head);
}

static void idx_seeds(const fs::path& dir) {
  const std::string fm = "/usr/share/datasets/fashion-mnist/";
  std::string labels = gunzip_head(fm + "t10k-labels-idx1-ubyte.gz", 8 + 32);
  if (labels.size() == 40) {
    be32(labels, 4, 32);
    put(dir, "labels32", labels);
    put(dir, "labels32.gz", gzip(labels));
  }
  std::string images = gunzip_head(fm + "t10k-images-idx3-ubyte.gz", 16 + 2 * 784);
  if (images.size() == 16 + 2 * 784) {
    be32(images, 4, 2);
    put(dir, "images2", images);
    // A 2x4x4 crop keeps the seed small.
    std::string small = images.substr(0, 16) + images.substr(16 + 300, 32);
    be32(small, 8, 4), be32(small, 12, 4);
    put(dir, "images2x4x4", small);
    put(dir, "images2x4x4.gz", gzip(small));
  }
  put(dir, "synthetic-labels", std::string("\0\0\x08\x01\0\0\0\x03\x01\x02\x03", 11));
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR SOURCE_DIR\n");
    return 1;
  }
  fs::path out = argv[1], src = argv[2];
  try {
    container_seeds(out / "fuzz_container", src);
    word2vec_seeds(out / "fuzz_word2vec");
    question_seeds(out / "fuzz_questions");
    idx_seeds(out / "fuzz_idx");
  } catch (const vbq::Error& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
