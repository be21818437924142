// The bad-input table: the real `vbq` binary (VBQ_BINARY) against hostile inputs.
// Each row makes its input, runs one command line, and checks the exit code, a
// fragment of the message on stderr, and that no output file and no "*.tmp.*"
// temporary is left behind.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "formats/atomic_file.hpp"
#include "formats/container.hpp"
#include "formats/hdf5_model.hpp"
#include "app/model_codec.hpp"
#include "tests/hdf5_fixture.hpp"
#include "tests/support.hpp"
#include "train/attributes.hpp"
#include "train/corpus.hpp"
#include "train/skipgram.hpp"
#include "vbq/codec.hpp"

namespace fs = std::filesystem;
using vbq::testing::H5Fixture;

namespace {

// The working directory of one vbq command line.
struct CliDir : vbq::testing::TempDir {
  CliDir() : TempDir("cli") {}
  // Names of every temporary AtomicOutput could have left.
  std::vector<std::string> temporaries() const {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().string());
    return out;
  }
};

struct RunResult {
  int code = -1;  // exit status, or 128 + signal number
  std::string err;
};

// Runs `shell_prefix exec vbq args` in bash inside `dir`; stderr is captured.
RunResult run_vbq(const CliDir& d, const std::string& args, const std::string& shell_prefix = "") {
  std::string script = d.file("run.sh"), err = d.file("stderr.txt");
  std::ofstream(script) << "cd '" << d.dir.string() << "' || exit 99\n"
                        << shell_prefix << "\nexec '" << VBQ_BINARY << "' " << args << " 2>'" << err
                        << "' >/dev/null\n";
  int status = std::system(("bash '" + script + "'").c_str());
  RunResult r;
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.code = 128 + WTERMSIG(status);
  r.err = vbq::read_file_bytes(err);
  fs::remove(script);
  fs::remove(err);
  return r;
}

// Means of a 4 x 3 tensor "w" (rows spoil single values).
std::vector<float> means(size_t n = 12) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = 0.1f * float(i) - 0.5f;
  return v;
}

void good_model(const std::string& path, size_t rows = 4, size_t cols = 3) {
  std::mt19937 rng(3);
  std::normal_distribution<float> z(0.f, 1.f);
  std::vector<float> mu(rows * cols), ls(rows * cols);
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = z(rng), ls[i] = -3.f + 0.1f * z(rng);
  H5Fixture f(path);
  f.f32("w/mean", {rows, cols}, mu);
  f.f32("w/log_std", {rows, cols}, ls);
}

std::string container_bytes() {
  std::vector<double> mu(300), sigma(300, 0.05);
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = std::sin(double(i));
  vbq::Container c;
  c.tensors.push_back(vbq::encode_vbq(mu, sigma, vbq::VbqSettings{}));
  c.tensors[0].name = "w";
  return vbq::serialize_container(c);
}

void put(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

struct Row {
  const char* name;
  std::function<void(const CliDir&)> make;  // writes in.h5 / in.vbq / ...
  std::string args;                         // relative paths resolve in the row's directory
  int code;
  std::vector<std::string> fragments;
  std::string output = "out.vbq";  // must not exist afterwards ("" = not checked)
  std::string shell_prefix = "";
};

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

std::vector<Row> bad_input_table() {
  std::vector<Row> rows;
  rows.push_back({"NaN mean",
                  [](const CliDir& d) {
                    auto mu = means();
                    mu[4] = kNaN;
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {4, 3}, mu);
                    f.f32("w/std", {4, 3}, std::vector<float>(12, 0.1f));
                  },
                  "compress in.h5 -o out.vbq", 3, {"tensor 'w'", "mean[4]", "NaN", "in.h5"}});
  rows.push_back({"inf mean",
                  [](const CliDir& d) {
                    auto mu = means();
                    mu[2] = -kInf;
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {4, 3}, mu);
                    f.f32("w/std", {4, 3}, std::vector<float>(12, 0.1f));
                  },
                  "compress in.h5 -o out.vbq", 3, {"tensor 'w'", "mean[2]", "infinite"}});
  rows.push_back({"std = 0",
                  [](const CliDir& d) {
                    std::vector<float> s(12, 0.1f);
                    s[5] = 0.f;
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {4, 3}, means());
                    f.f32("w/std", {4, 3}, s);
                  },
                  "compress in.h5 -o out.vbq", 3, {"tensor 'w'", "std[5]", "is not > 0"}});
  rows.push_back({"std < 0",
                  [](const CliDir& d) {
                    std::vector<float> s(12, 0.1f);
                    s[11] = -0.5f;
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {4, 3}, means());
                    f.f32("w/std", {4, 3}, s);
                  },
                  "compress in.h5 -o out.vbq", 3, {"tensor 'w'", "std[11]", "is not > 0"}});
  rows.push_back({"log_std inf",
                  [](const CliDir& d) {
                    std::vector<float> s(12, -2.f);
                    s[1] = kInf;
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {4, 3}, means());
                    f.f32("w/log_std", {4, 3}, s);
                  },
                  "compress in.h5 -o out.vbq", 3, {"tensor 'w'", "log_std[1]", "not finite"}});
  rows.push_back({"shape mismatch",
                  [](const CliDir& d) {
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {4, 3}, means());
                    f.f32("w/log_std", {3, 4}, std::vector<float>(12, -2.f));
                  },
                  "compress in.h5 -o out.vbq", 3, {"tensor 'w'", "shape mismatch"}});
  rows.push_back({"missing spread dataset",
                  [](const CliDir& d) {
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {4, 3}, means());
                  },
                  "compress in.h5 -o out.vbq", 3, {"no tensor found", "means without a spread: 'w'"}});
  rows.push_back({"missing explicit dataset",
                  [](const CliDir& d) {
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {4, 3}, means());
                  },
                  "compress in.h5 --mean w/mean --log-std w/nope -o out.vbq", 3, {"'w/nope' not found"}});
  rows.push_back({"ambiguous spread datasets",
                  [](const CliDir& d) {
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {4, 3}, means());
                    f.f32("w/std", {4, 3}, std::vector<float>(12, 0.1f));
                    f.f32("w/log_std", {4, 3}, std::vector<float>(12, -2.f));
                  },
                  "compress in.h5 -o out.vbq", 3, {"tensor 'w' is ambiguous", "w/log_std", "w/std"}});
  rows.push_back({"empty file", [](const CliDir& d) { put(d.file("in.h5"), ""); }, "compress in.h5 -o out.vbq", 3,
                  {"in.h5", "not an HDF5 file"}});
  rows.push_back({"non-HDF5 file", [](const CliDir& d) { put(d.file("in.h5"), "2 3\nking 1 2 3\nqueen 4 5 6\n"); },
                  "compress in.h5 -o out.vbq", 3, {"in.h5", "not an HDF5 file"}});
  rows.push_back({"missing input", [](const CliDir&) {}, "compress nope.h5 -o out.vbq", 2, {"nope.h5"}});
  rows.push_back({"int mean",
                  [](const CliDir& d) {
                    H5Fixture f(d.file("in.h5"));
                    f.i32("w/mean", {4, 3}, std::vector<int32_t>(12, 1));
                    f.f32("w/std", {4, 3}, std::vector<float>(12, 0.1f));
                  },
                  "compress in.h5 -o out.vbq", 3, {"'w/mean' has integer type, expected float"}});
  rows.push_back({"string spread",
                  [](const CliDir& d) {
                    H5Fixture f(d.file("in.h5"));
                    f.f32("w/mean", {12}, means());
                    f.fixed_strings("w/log_std", std::vector<std::string>(12, "xxxxxxxx"), 8);
                  },
                  "compress in.h5 -o out.vbq", 3, {"'w/log_std' has string type, expected float"}});
  rows.push_back({"compound mean",
                  [](const CliDir& d) {
                    H5Fixture f(d.file("in.h5"));
                    f.compound("w/mean", 12);
                    f.f32("w/std", {12}, std::vector<float>(12, 0.1f));
                  },
                  "compress in.h5 -o out.vbq", 3, {"'w/mean' has compound type, expected float"}});
  rows.push_back({"output in a missing directory", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "compress in.h5 -o nodir/out.vbq", 2, {"cannot create output file", "nodir/out.vbq"},
                  "nodir/out.vbq"});
  rows.push_back({"output below a regular file",
                  [](const CliDir& d) {
                    good_model(d.file("in.h5"));
                    put(d.file("afile"), "x");
                  },
                  "compress in.h5 -o afile/out.vbq", 2, {"cannot create output file", "Not a directory"},
                  ""});
  rows.push_back({"output in /proc (not writable, even for root)",
                  [](const CliDir& d) { good_model(d.file("in.h5")); }, "compress in.h5 -o /proc/vbq-cli-test.vbq",
                  2, {"cannot create output file", "/proc/vbq-cli-test.vbq"}, ""});
  // Full disk: a 1 KiB file size limit and a ~6 KB container. SIGXFSZ is ignored
  // (inherited through exec) so that write() fails with EFBIG, as on a full disk.
  rows.push_back({"full disk (ulimit -f 1, SIGXFSZ ignored)",
                  [](const CliDir& d) { good_model(d.file("in.h5"), 100, 30); },
                  "compress in.h5 --lambda 0.01 -o out.vbq", 2, {"cannot write", "out.vbq", "File too large"},
                  "out.vbq", "trap '' XFSZ; ulimit -f 1"});
  rows.push_back({"spread power out of range", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "compress in.h5 -o out.vbq --spread-power 1.5", 1, {"spread power 1.5 is not in [0, 1]"}, "out.vbq"});
  rows.push_back({"existing output without -f",
                  [](const CliDir& d) {
                    good_model(d.file("in.h5"));
                    put(d.file("exists.vbq"), "keep me");
                  },
                  "compress in.h5 -o exists.vbq", 1, {"exists.vbq", "already exists", "-f"}, ""});
  rows.push_back({"truncated .vbq",
                  [](const CliDir& d) {
                    std::string b = container_bytes();
                    put(d.file("in.vbq"), b.substr(0, b.size() - 7));
                  },
                  "decompress in.vbq -o out.h5", 4, {"in.vbq", "truncated"}, "out.h5"});
  rows.push_back({"bit flip in .vbq",
                  [](const CliDir& d) {
                    std::string b = container_bytes();
                    b[b.size() / 2] ^= 0x10;
                    put(d.file("in.vbq"), b);
                  },
                  "decompress in.vbq -o out.h5", 4, {"in.vbq", "CRC-32C mismatch"}, "out.h5"});
  rows.push_back({"future major version",
                  [](const CliDir& d) {
                    std::string b = container_bytes();
                    b[4] = 5;
                    put(d.file("in.vbq"), b);
                  },
                  "decompress in.vbq -o out.h5", 5, {"in.vbq", "version 5."}, "out.h5"});
  rows.push_back({"get: unknown tensor", [](const CliDir& d) { put(d.file("in.vbq"), container_bytes()); },
                  "get in.vbq 3 --tensor nope", 1, {"in.vbq", "no tensor 'nope'"}, ""});
  rows.push_back({"get: row out of range", [](const CliDir& d) { put(d.file("in.vbq"), container_bytes()); },
                  "get in.vbq 300", 1, {"in.vbq", "tensor 'w' has 300 rows", "row 300"}, ""});
  rows.push_back({"get: not a row number", [](const CliDir& d) { put(d.file("in.vbq"), container_bytes()); },
                  "get in.vbq king", 1, {"'king' is not a row number"}, ""});
  rows.push_back({"memory budget (VBQ_MEMORY_LIMIT)", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "compress in.h5 -o out.vbq", 5, {"in.h5", "tensor 'w'", "more than the budget", "VBQ_MEMORY_LIMIT"},
                  "out.vbq", "export VBQ_MEMORY_LIMIT=64"});
  rows.push_back({"bad VBQ_MEMORY_LIMIT", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "compress in.h5 -o out.vbq", 1, {"VBQ_MEMORY_LIMIT='lots'"}, "out.vbq",
                  "export VBQ_MEMORY_LIMIT=lots"});
  rows.push_back({"word2vec file without --sigma",
                  [](const CliDir& d) { put(d.file("in.txt"), "2 3\nking 0.1 0.2 0.3\nqueen 0.1 0.2 0.4\n"); },
                  "compress in.txt -o out.vbq", 3, {"in.txt: not an HDF5 file", "--sigma"}});
  rows.push_back({"--sigma-from-counts without counts",
                  [](const CliDir& d) { put(d.file("in.txt"), "2 3\nking 0.1 0.2 0.3\nqueen 0.1 0.2 0.4\n"); },
                  "compress in.txt -o out.vbq --sigma 0.1 --sigma-from-counts", 1, {"one count per vocabulary word"}});
  rows.push_back({"vocab file lacking a word",
                  [](const CliDir& d) {
                    put(d.file("in.txt"), "2 3\nking 0.1 0.2 0.3\nqueen 0.1 0.2 0.4\n");
                    put(d.file("vocab.txt"), "king 12\n");
                  },
                  "compress in.txt -o out.vbq --sigma 0.1 --sigma-from-counts vocab.txt", 1,
                  {"vocab.txt has no count for the word 'queen'"}});
  rows.push_back({"HDF5 given to decompress", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "decompress in.h5 -o out.h5", 3, {"in.h5", "not a .vbq container"}, "out.h5"});
  rows.push_back({"elbo: model without a vocabulary",
                  [](const CliDir& d) {
                    good_model(d.file("in.h5"));
                    put(d.file("text.txt"), "king queen\n");
                  },
                  "elbo in.h5 text.txt", 3, {"in.h5", "no vocab dataset"}, ""});
  rows.push_back({"elbo: missing corpus", [](const CliDir& d) { good_model(d.file("in.h5")); }, "elbo in.h5", 1,
                  {"input"}, ""});
  rows.push_back({"eval-bnn: a text file names the formats tried",
                  [](const CliDir& d) { put(d.file("notes.txt"), "not a model\n"); }, "eval-bnn notes.txt", 3,
                  {"notes.txt", "not a .vbq container, not an HDF5 file, and not a word2vec"}, ""});
  rows.push_back({"get: several tensors and no --tensor",
                  [](const CliDir& d) {
                    {
                      H5Fixture f(d.file("in.h5"));
                      std::vector<float> mu(12, 0.25f), ls(12, -3.f);
                      for (const char* t : {"a", "b"})
                        f.f32(std::string(t) + "/mean", {4, 3}, mu), f.f32(std::string(t) + "/log_std", {4, 3}, ls);
                    }
                    REQUIRE(run_vbq(d, "compress in.h5 -o m.vbq").code == 0);
                  },
                  "get m.vbq 0 --row", 1, {"m.vbq", "--tensor", "a, b"}, ""});
  rows.push_back({"unreachable size target", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "compress in.h5 --target-size 10 -o out.vbq", 1,
                  {"the target of 10 bytes cannot be met at any lambda", "the smallest file found is"}});
  rows.push_back({"two size targets", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "compress in.h5 --target-size 1KB --target-bits-per-dim 2 -o out.vbq", 1,
                  {"give one of --target-size, --target-bits-per-dim and --target-quality"}});
  rows.push_back({"quality target without a task", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "compress in.h5 --target-quality accuracy=0.9x -o out.vbq", 1, {"--target-quality needs"}});
  rows.push_back({"malformed quality target", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "compress in.h5 --target-quality accuracy=0.9 -o out.vbq", 1, {"METRIC=Fx", "accuracy=0.9"}});
  rows.push_back({"argument errors name the command once", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "compress in.h5 --lambda abc", 1, {"vbq compress: argument error: the argument ('abc')"}, ""});
  rows.push_back({"encode-images with a model that is no VAE", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "encode-images in.h5 --lambda 1 -o out.vbqi", 3, {"in.h5: not a VAE model", "latent_dim"}});
  rows.push_back({"encode-images with lambda and a grid", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "encode-images in.h5 --lambda 1 --uniform 0.5 -o out.vbqi", 1, {"exactly one of --lambda"}});
  rows.push_back({"encode-images --wide without --refine", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "encode-images in.h5 --lambda 1 --wide -o out.vbqi", 1, {"--wide needs --refine"}});
  rows.push_back({"decode-images with a model that is no VAE",
                  [](const CliDir& d) { good_model(d.file("in.h5")), put(d.file("in.vbqi"), "VBQI"); },
                  "decode-images in.vbqi in.h5 -o out.png", 3, {"not a VAE model"}});
  rows.push_back({"rd --task vae with a model that is no VAE", [](const CliDir& d) { good_model(d.file("in.h5")); },
                  "rd in.h5 --task vae -o out.csv -q", 3, {"vbq rd: format error", "not a VAE model"}});
  return rows;
}

}  // namespace

TEST_CASE("cli: bad-input table (exit code, message, no partial output)") {
  for (const Row& row : bad_input_table()) {
    std::string name = row.name;
    CAPTURE(name);
    CliDir d;
    row.make(d);
    const size_t before = d.entries();
    RunResult r = run_vbq(d, row.args, row.shell_prefix);
    CAPTURE(r.err);
    if (std::getenv("VBQ_CLI_TABLE"))  // prints the table for reports
      MESSAGE("| " << name << " | " << r.code << " | " << r.err.substr(0, r.err.find('\n')) << " |");
    CHECK(r.code == row.code);
    for (const auto& f : row.fragments) CHECK_MESSAGE(r.err.find(f) != std::string::npos, "missing: " << f);
    if (!row.output.empty()) CHECK_FALSE(fs::exists(d.dir / row.output));
    CHECK(d.temporaries().empty());
    CHECK(d.entries() == before);
  }
}

TEST_CASE("cli: an existing output without -f is left untouched") {
  CliDir d;
  good_model(d.file("in.h5"));
  put(d.file("out.vbq"), "keep me");
  CHECK(run_vbq(d, "compress in.h5 -o out.vbq").code == 1);
  CHECK(vbq::read_file_bytes(d.file("out.vbq")) == "keep me");
  CHECK(run_vbq(d, "compress in.h5 -o out.vbq -f").code == 0);
  CHECK(vbq::looks_like_container(vbq::read_file_bytes(d.file("out.vbq"))));
  CHECK(d.temporaries().empty());
}

// No trap: vbq starts with SIGXFSZ at its default action, which would kill it inside
// write() before AtomicOutput's destructor removes the temporary. tools/main.cpp ignores
// SIGXFSZ, so write() fails with EFBIG instead: exit 2, no output, no temporary.
TEST_CASE("cli: file size limit with default SIGXFSZ leaves no partial output") {
  CliDir d;
  good_model(d.file("in.h5"), 100, 30);
  RunResult r = run_vbq(d, "compress in.h5 --lambda 0.01 -o out.vbq", "ulimit -f 1");
  CAPTURE(r.err);
  CHECK(r.code == 2);
  CHECK_FALSE(fs::exists(d.dir / "out.vbq"));
  CHECK(d.temporaries().empty());
}

// Full disk while HDF5 writes: write_model reports the error and removes the temporary,
// and vbq exits 2. H5Fclose fails here; HDF5's exit-time cleanup (H5_term_library ->
// H5F__close_cb) would then segfault (exit 139), so tools/main.cpp calls H5dont_atexit()
// and leaves through _Exit.
TEST_CASE("cli: full disk during the HDF5 write of decompress exits 2") {
  CliDir d;
  put(d.file("in.vbq"), container_bytes());
  RunResult r = run_vbq(d, "decompress in.vbq -o out.h5", "trap '' XFSZ; ulimit -f 1");
  CAPTURE(r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("File too large") != std::string::npos);
  CHECK_FALSE(fs::exists(d.dir / "out.h5"));
  CHECK(d.temporaries().empty());
}

// A 10 KB HDF5 file whose chunked, never-written datasets declare 2^36 elements:
// Unwritten chunked datasets take no space: the file declares 512 GB of doubles.
// read_model checks the declared size against the memory budget first.
TEST_CASE("cli: a tiny HDF5 file declaring a huge dataset is a clean error") {
  CliDir d;
  {
    H5Fixture f(d.file("in.h5"));
    for (const char* name : {"w/mean", "w/log_std"}) f.unwritten_f32(name, uint64_t(1) << 36, 1024);
  }
  CHECK(fs::file_size(d.dir / "in.h5") < 100000);
  RunResult r = run_vbq(d, "compress in.h5 -o out.vbq", "ulimit -v 4000000");
  CAPTURE(r.err);
  CHECK(r.code == 5);
  CHECK(r.err.find("in.h5: tensor 'w': dataset 'w/mean'") != std::string::npos);
  CHECK(r.err.find("512.0 GiB of memory") != std::string::npos);
  CHECK_FALSE(fs::exists(d.dir / "out.vbq"));
  CHECK(d.temporaries().empty());
}

// compress has its own repeatable --tensor; the analogy task options must not
// clash with it (regression: "option '--tensor' is ambiguous").
TEST_CASE("cli: compress --tensor picks tensors") {
  CliDir d;
  {
    H5Fixture f(d.file("in.h5"));
    std::vector<float> mu(12, 0.25f), ls(12, -3.f);
    for (const char* t : {"a", "b"}) f.f32(std::string(t) + "/mean", {4, 3}, mu), f.f32(std::string(t) + "/log_std", {4, 3}, ls);
  }
  RunResult r = run_vbq(d, "compress in.h5 -o out.vbq --tensor b");
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  vbq::Container c = vbq::read_container(d.file("out.vbq"));
  REQUIRE(c.tensors.size() == 1);
  CHECK(c.tensors[0].name == "b");
}

TEST_CASE("cli: compress --coder ctx writes a 4.1 file that decodes and reads rows as rans does") {
  CliDir d;
  good_model(d.file("in.h5"), 40, 6);
  REQUIRE(run_vbq(d, "compress in.h5 -o rans.vbq").code == 0);
  RunResult r = run_vbq(d, "compress in.h5 -o ctx.vbq --coder ctx");
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  vbq::ContainerLayout lay;
  const vbq::Container ctx = vbq::read_container(d.file("ctx.vbq"), &lay);
  CHECK((lay.major == 4 && lay.minor == 1));
  CHECK(ctx.tensors[0].symbols.coder == vbq::EntropyCoder::context);
  const vbq::Container rans = vbq::read_container(d.file("rans.vbq"), &lay);
  CHECK((lay.major == 4 && lay.minor == 0));
  CHECK(vbq::decode_tensor(ctx.tensors[0]) == vbq::decode_tensor(rans.tensors[0]));  // same code points
  CHECK(vbq::get_row(ctx, "17").values == vbq::get_row(rans, "17").values);
  r = run_vbq(d, "compress in.h5 -o bad.vbq --coder huffman");
  CHECK(r.code == 1);
  CHECK(r.err.find("expected rans or ctx") != std::string::npos);
}

TEST_CASE("cli: compress --levels centroid keeps the bytes of the code points and moves the levels towards the means") {
  CliDir d;
  good_model(d.file("in.h5"), 400, 25);
  REQUIRE(run_vbq(d, "compress in.h5 -o f.vbq").code == 0);
  RunResult r = run_vbq(d, "compress in.h5 -o c.vbq --levels centroid");
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  CHECK(fs::file_size(d.file("c.vbq")) == fs::file_size(d.file("f.vbq")));
  const vbq::Container f = vbq::read_container(d.file("f.vbq")), c = vbq::read_container(d.file("c.vbq"));
  REQUIRE((c.tensors.size() == 1 && f.tensors.size() == 1));
  CHECK(c.tensors[0].symbols.blocks == f.tensors[0].symbols.blocks);
  CHECK(c.tensors[0].levels != f.tensors[0].levels);
  const std::vector<double> mu = vbq::read_model(d.file("in.h5")).tensors[0].mu;  // a copy: the Model is a temporary
  auto squared_error = [&](const vbq::EncodedTensor& t) {
    const std::vector<double> x = vbq::decode_tensor(t);
    double e = 0;
    for (size_t i = 0; i < x.size(); ++i) e += (x[i] - mu[i]) * (x[i] - mu[i]);
    return e;
  };
  CHECK(squared_error(c.tensors[0]) < squared_error(f.tensors[0]));
  REQUIRE(run_vbq(d, "compress in.h5 -o w.vbq --levels wcentroid").code == 0);
  CHECK(vbq::read_container(d.file("w.vbq")).tensors[0].levels != c.tensors[0].levels);
  r = run_vbq(d, "compress in.h5 -o bad.vbq --levels median");
  CHECK(r.code == 1);
  CHECK(r.err.find("expected inverse-cdf, centroid or wcentroid") != std::string::npos);
}

TEST_CASE("cli: compress -q and decompress -q print nothing on success, and errors still") {
  CliDir d;
  good_model(d.file("in.h5"), 40, 6);
  RunResult r = run_vbq(d, "compress in.h5 -o out.vbq -q");
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  r = run_vbq(d, "decompress out.vbq -o out.h5 --quiet");
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(fs::exists(d.dir / "out.h5"));
  r = run_vbq(d, "compress in.h5 -o out.vbq -q");  // exists, no -f
  CHECK(r.code != 0);
  CHECK(r.err.find("out.vbq") != std::string::npos);
}

TEST_CASE("cli: compress --row-gains writes a 4.2 file whose row groups keep the norm of their means") {
  CliDir d;
  good_model(d.file("in.h5"), 400, 25);
  REQUIRE(run_vbq(d, "compress in.h5 -o f.vbq --lambda 100").code == 0);
  RunResult r = run_vbq(d, "compress in.h5 -o g.vbq --lambda 100 --row-gains");
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  vbq::ContainerLayout lay;
  const vbq::Container g = vbq::read_container(d.file("g.vbq"), &lay), f = vbq::read_container(d.file("f.vbq"));
  CHECK((lay.major == 4 && lay.minor == 2));
  REQUIRE((g.tensors.size() == 1 && f.tensors.size() == 1));
  CHECK(g.tensors[0].symbols.blocks == f.tensors[0].symbols.blocks);
  CHECK(g.tensors[0].gain_rows == 164);  // 164 rows of 25 hold >= 4096 elements
  CHECK(g.tensors[0].gains.size() == 3);
  CHECK(fs::file_size(d.file("g.vbq")) == fs::file_size(d.file("f.vbq")) + 2 + 3 * 4);  // varint 164, 3 float32
  const std::vector<double> mu = vbq::read_model(d.file("in.h5")).tensors[0].mu;
  auto norm = [](const std::vector<double>& x) {
    double s = 0;
    for (double v : x) s += v * v;
    return std::sqrt(s);
  };
  const std::vector<double> restored = vbq::decode_tensor(g.tensors[0]);
  CHECK(norm(restored) == doctest::Approx(norm(mu)).epsilon(1e-3));
  CHECK(norm(vbq::decode_tensor(f.tensors[0])) < 0.99 * norm(mu));
  // decompress and get restore the same values
  REQUIRE(run_vbq(d, "decompress g.vbq -o g.h5").code == 0);
  vbq::ReadOptions means_only;
  means_only.require_spread = false;
  CHECK(vbq::read_model(d.file("g.h5"), means_only).tensors[0].mu == restored);
  CHECK(vbq::get_row(g, "17").values == std::vector<double>(restored.begin() + 17 * 25, restored.begin() + 18 * 25));
}

TEST_CASE("cli: compress --center-columns writes a 4.3 file that decompress and get restore") {
  CliDir d;
  good_model(d.file("in.h5"), 400, 25);
  RunResult r = run_vbq(d, "compress in.h5 -o c.vbq --lambda 100 --center-columns --row-gains");
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  vbq::ContainerLayout lay;
  const vbq::Container c = vbq::read_container(d.file("c.vbq"), &lay);
  CHECK((lay.major == 4 && lay.minor == 3));
  REQUIRE(c.tensors.size() == 1);
  CHECK(c.tensors[0].column_means.size() == 25);
  CHECK_FALSE(c.tensors[0].gains.empty());
  const std::vector<double> restored = vbq::decode_tensor(c.tensors[0]);
  REQUIRE(run_vbq(d, "decompress c.vbq -o c.h5").code == 0);
  vbq::ReadOptions means_only;
  means_only.require_spread = false;
  CHECK(vbq::read_model(d.file("c.h5"), means_only).tensors[0].mu == restored);
  CHECK(vbq::get_row(c, "17").values == std::vector<double>(restored.begin() + 17 * 25, restored.begin() + 18 * 25));
}

// Lines of `words` uniformly random words w0..w{vocab-1}: text to train on.
static void write_random_text(const std::string& path, int lines, int words, int vocab, uint32_t seed) {
  std::ofstream text(path);
  std::mt19937 rng(seed);
  for (int line = 0; line < lines; ++line) {
    for (int w = 0; w < words; ++w) text << "w" << rng() % uint32_t(vocab) << ' ';
    text << '\n';
  }
}

TEST_CASE("cli: laplace-std writes the model with stds 1/sqrt(Laplace precision), and refuses to overwrite") {
  CliDir d;
  write_random_text(d.file("corpus.txt"), 300, 10, 40, 9);
  REQUIRE(run_vbq(d, "train-embeddings corpus.txt -o m.h5 --dim 8 --epochs 1 --window 3 --negatives 2 --threads 1").code == 0);
  RunResult r = run_vbq(d, "laplace-std m.h5 corpus.txt -o lap.h5 -T 2");
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  const vbq::Model model = vbq::read_model(d.file("m.h5")), lap = vbq::read_model(d.file("lap.h5"));
  vbq::CorpusOptions co;
  const vbq::Vocabulary vocab{model.vocab, model.counts};
  co.vocabulary = &vocab;
  vbq::SkipGramElboOptions eo;
  eo.window = 3, eo.negatives = 2, eo.max_tokens = 1u << 30;
  const vbq::RecordedSkipGram trained = vbq::read_skipgram_options(model);
  eo.data_tokens = trained.train_tokens.value_or(0);
  const vbq::LaplacePrecision p = vbq::skipgram_laplace_precision(vbq::load_corpus({d.file("corpus.txt")}, co), model, eo);
  REQUIRE(lap.find("word"));
  const std::vector<double>& sigma = lap.find("word")->sigma;
  REQUIRE(sigma.size() == p.word.size());
  for (size_t i : {size_t(0), size_t(5), sigma.size() - 1})
    CHECK(sigma[i] == doctest::Approx(1 / std::sqrt(p.word[i])).epsilon(1e-6));  // float32 on disk
  CHECK(lap.find("context")->sigma[3] == doctest::Approx(1 / std::sqrt(p.context[3])).epsilon(1e-6));
  CHECK(lap.find("word")->mu == model.find("word")->mu);
  CHECK(lap.attributes.at("posterior_std").find("Laplace") != std::string::npos);
  const std::string before = vbq::read_file_bytes(d.file("lap.h5"));
  r = run_vbq(d, "laplace-std m.h5 corpus.txt -o lap.h5 --window 2");
  CHECK(r.code != 0);
  CHECK(r.err.find("lap.h5") != std::string::npos);
  CHECK(vbq::read_file_bytes(d.file("lap.h5")) == before);
  CHECK(run_vbq(d, "laplace-std m.h5 corpus.txt -o lap.h5 --window 2 -f").code == 0);
  CHECK(vbq::read_file_bytes(d.file("lap.h5")) != before);
}

// Ctrl-C reaches the trainers only as their cancellation token (tools/training.hpp):
// the command stops with exit code 130 and its message, and writes no output.
TEST_CASE("cli: Ctrl-C during train-embeddings cancels cleanly") {
  CliDir d;
  write_random_text(d.file("corpus.txt"), 2000, 12, 300, 5);
  const RunResult r = run_vbq(d, "train-embeddings corpus.txt -o out.h5 --dim 16 --epochs 100000 --threads 1",
                              "( sleep 1; kill -INT $$ ) &");
  CHECK(r.code == 130);
  CHECK(r.err.find("interrupted") != std::string::npos);
  CHECK_FALSE(fs::exists(d.file("out.h5")));
  CHECK(d.temporaries().empty());
}
