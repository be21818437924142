#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include "eval/rd.hpp"
#include "formats/atomic_file.hpp"
#include "tests/support.hpp"
#include "vbq/codec.hpp"
#include "vbq/error.hpp"

using namespace vbq;
namespace fs = std::filesystem;

namespace {
// Quality of decompressed means: 1 / (1 + 100 mse) against the original.
class Fidelity final : public QualityTask {
 public:
  explicit Fidelity(const Model& original) : original_(original) {}
  std::vector<std::string> metric_names() const override { return {"fidelity"}; }
  size_t primary_metric() const override { return 0; }
  std::vector<double> evaluate(const Model& m) const override {
    double se = 0, n = 0;
    for (size_t k = 0; k < m.tensors.size(); ++k)
      for (size_t i = 0; i < m.tensors[k].mu.size(); ++i) {
        const double d = m.tensors[k].mu[i] - original_.tensors[k].mu[i];
        se += d * d, ++n;
      }
    return {1 / (1 + 100 * se / n)};
  }

 private:
  const Model& original_;
};

Model posterior(size_t rows, size_t cols) {
  std::mt19937_64 rng(21);
  std::normal_distribution<double> z(0.0, 0.3);
  std::uniform_real_distribution<double> ls(std::log(0.005), std::log(0.5));
  Model m;
  Tensor t;
  t.name = "word";
  t.mean_path = "word/mean";
  t.shape = {rows, cols};
  for (size_t i = 0; i < rows * cols; ++i) t.mu.push_back(z(rng)), t.sigma.push_back(std::exp(ls(rng)));
  m.tensors.push_back(t);
  return m;
}
}  // namespace

TEST_CASE("rd: one sweep, every method, real files, summary and CSV") {
  Model model = posterior(400, 50);
  Fidelity task(model);
  RdOptions o;
  o.lambdas = {1e-3, 1e-2, 0.1, 1};
  o.variants = vbq_variants({"gauss"}, 2);
  o.grid_q_max = {1, 3, 15};
  o.kmeans_k = {4};
  o.progress = false;
  o.threads = 2;
  RdResult r = run_rd_sweep(model, task, o);
  CHECK(r.dimensions == 20000);
  CHECK(r.uncompressed[0] == 1.0);
  std::map<std::string, int> per_method;
  for (const RdRow& row : r.rows) {
    ++per_method[row.method];
    CAPTURE(row.method);
    CAPTURE(row.setting);
    CHECK(row.bytes > 16);
    CHECK(row.bits_per_dim == doctest::Approx(8.0 * double(row.bytes) / 20000));
    CHECK(row.metrics[0] > 0);
    CHECK(row.metrics[0] <= 1);
  }
  CHECK(per_method["vbq"] == 4);
  CHECK(per_method["vbq+refine"] == 4);
  CHECK(per_method["uniform+rans"] == 3);
  CHECK(per_method["kmeans+rans"] == 1);
  CHECK(per_method.size() == 4 + 6);  // + gzip, bzip2, xz, lzma, zstd19, zstd22 on the grid
  // Smaller lambda: more bytes and higher fidelity.
  std::vector<const RdRow*> vbq;
  for (const RdRow& row : r.rows)
    if (row.method == "vbq") vbq.push_back(&row);
  for (size_t i = 1; i < vbq.size(); ++i) {
    CHECK(vbq[i]->bytes < vbq[i - 1]->bytes);
    CHECK(vbq[i]->metrics[0] < vbq[i - 1]->metrics[0]);
  }
  const std::string summary = rd_summary(r, {0.5, 0.9});
  CHECK(summary.find("vbq / best") != std::string::npos);
  CHECK(summary.find("vbq+refine / vbq") != std::string::npos);
  CHECK(summary.find("lambda -> bits/dim, fidelity (vbq):") != std::string::npos);
  CHECK(summary.find("0.001: ") != std::string::npos);

  vbq::testing::TempDir tmp("rd");
  const std::string dir = tmp.dir.string();
  write_rd_csv(dir + "/rd.csv", r, false);
  const std::string csv = read_file_bytes(dir + "/rd.csv");
  CHECK(csv.find("method,setting,bytes,bits_per_dim,ideal_entropy_bits_per_dim,fidelity") != std::string::npos);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == long(r.rows.size()) + 2);
  CHECK_THROWS_AS(write_rd_csv(dir + "/rd.csv", r, false), Error);  // no overwrite without force
  plot_rd(dir + "/rd.svg", r, "test");
  CHECK(fs::file_size(dir + "/rd.svg") > 1000);
  CHECK(fs::file_size(dir + "/rd.png") > 1000);
}

TEST_CASE("rd: variant labels name prior, refinement and block tables") {
  const auto v = vbq_variants({"gauss", "student"}, 3, true);
  REQUIRE(v.size() == 8);
  CHECK(v[0].method == "vbq");
  CHECK_FALSE(v[0].block_tables);
  CHECK(v[1].method == "vbq+tables");
  CHECK(v[1].block_tables);
  CHECK(v[7].method == "vbq+student+refine+tables");
  for (const VbqVariant& x : v) {  // every label parses back to its variant
    const VbqVariant y = parse_vbq_variant(x.method, 3);
    CHECK(y.prior == x.prior);
    CHECK(y.refine_passes == x.refine_passes);
    CHECK(y.block_tables == x.block_tables);
  }
  CHECK(parse_vbq_variant("vbq+mixture:4+refine", 2).prior == "mixture:4");
  CHECK(parse_vbq_variant("vbq+mixture:4+refine", 2).refine_passes == 2);
  CHECK_THROWS_AS(parse_vbq_variant("uniform+rans", 3), Error);
  CHECK_THROWS_AS(parse_vbq_variant("vbq++tables", 3), Error);
  CHECK_THROWS_AS(parse_vbq_variant("vbqx", 3), Error);
}

TEST_CASE("rd: +ctx points code the same quantization with the context coder") {
  // Rows 0..199 "dead" (means ~0, wide posteriors): runs the context coder finds.
  Model model = posterior(400, 50);
  Tensor& t = model.tensors[0];
  for (size_t i = 0; i < 200 * 50; ++i) t.mu[i] *= 1e-4, t.sigma[i] = 1.0;
  Fidelity task(model);
  RdOptions o;
  o.lambdas = {1e-2, 0.1};
  o.grid_q_max = {3, 15};
  o.kmeans_k = {4};
  o.general_compressors = false;
  o.context_coder = true;
  o.progress = false;
  o.threads = 2;
  RdResult r = run_rd_sweep(model, task, o);
  std::map<std::string, const RdRow*> by_point;
  for (const RdRow& row : r.rows) by_point[row.method + " " + row.setting] = &row;
  CHECK(by_point.size() == 10);
  for (auto [rans, ctx] : {std::pair<std::string, std::string>{"vbq", "vbq+ctx"}, {"uniform+rans", "uniform+ctx"},
                           {"kmeans+rans", "kmeans+ctx"}})
    for (const RdRow& row : r.rows) {
      if (row.method != rans) continue;
      CAPTURE(row.method);
      CAPTURE(row.setting);
      const RdRow* c = by_point[ctx + " " + row.setting];
      REQUIRE(c != nullptr);
      CHECK(c->metrics == row.metrics);
      CHECK(c->bytes < row.bytes);
      CHECK(c->bits_per_dim == doctest::Approx(8.0 * double(c->bytes) / 20000));
    }
  // The grid at q = 3 by hand: the rANS file minus its precision byte, T,
  // frequencies, jump table and payload, plus a coder byte, jump table and payload.
  const EncodedTensor rans = encode_grid(t.mu, 3, 2, t.shape);
  const EncodedTensor ctx = encode_grid(t.mu, 3, 2, t.shape, EntropyCoder::context);
  REQUIRE(rans.symbols.tables.size() == 1);
  REQUIRE(rans.symbols.blocks.size() == 1);
  uint64_t rans_bytes = 1 + 1 + varint_bytes(rans.symbols.blocks[0].size()) + rans.symbols.payload_bytes();
  for (uint32_t f : rans.symbols.tables[0].freq) rans_bytes += varint_bytes(f);
  const uint64_t ctx_bytes = 1 + varint_bytes(ctx.symbols.blocks[0].size()) + ctx.symbols.payload_bytes();
  CHECK(by_point["uniform+ctx q=3"]->bytes == by_point["uniform+rans q=3"]->bytes - rans_bytes + ctx_bytes);
}
