#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include "eval/rd.hpp"
#include "formats/atomic_file.hpp"
#include "tests/quality_fixture.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
namespace fs = std::filesystem;

using vbq::testing::Fidelity;
using vbq::testing::posterior;

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
