#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "eval/rd.hpp"
#include "eval/rd_options.hpp"
#include "formats/atomic_file.hpp"
#include "tests/quality_fixture.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
namespace fs = std::filesystem;

using vbq::testing::Fidelity;
using vbq::testing::kind_of;
using vbq::testing::posterior;

TEST_CASE("rd: one sweep, every method, real files, summary and CSV") {
  Model model = posterior(400, 50);
  Fidelity task(model);
  RdOptions o;
  o.lambdas = {1e-3, 1e-2, 0.1, 1};
  o.variants = vbq_variants({"gauss"}, 2);
  o.grid_q_max = {1, 3, 15};
  o.kmeans_k = {4};
  std::vector<double> reported;  // the settings measured so far, at each report
  double planned = 0;
  o.on_progress = [&](double done, double total, const std::string&) { reported.push_back(done), planned = total; };
  o.threads = 2;
  RdResult r = run_rd_sweep(model, task, o);
  CHECK(r.dimensions == 20000);
  // 4 lambdas for each of the 2 VBQ variants, 3 grids, 1 codebook: reported at the
  // start and after each setting.
  CHECK(planned == 12);
  CHECK(reported == std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(r.uncompressed[0] == 1.0);
  std::map<std::string, int> per_method;
  for (const RdPoint& row : r.rows) {
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
  CHECK(per_method["uniform+ctx"] == 3);
  CHECK(per_method["kmeans+rans"] == 1);
  CHECK(per_method.size() == 5 + 6);  // + gzip, bzip2, xz, lzma, zstd19, zstd22 on the grid
  // Smaller lambda: more bytes and higher fidelity.
  std::vector<const RdPoint*> vbq;
  for (const RdPoint& row : r.rows)
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
  const RdResult back = read_rd_csv(dir + "/rd.csv");  // re-plot / re-summarise without a sweep
  CHECK(back.metric_names == r.metric_names);
  CHECK(back.uncompressed == r.uncompressed);
  CHECK(back.dimensions == r.dimensions);
  REQUIRE(back.rows.size() == r.rows.size());
  for (size_t i = 0; i < r.rows.size(); ++i) {
    CHECK(back.rows[i].method == r.rows[i].method);
    CHECK(back.rows[i].setting == r.rows[i].setting);
    CHECK(back.rows[i].bytes == r.rows[i].bytes);
    CHECK(back.rows[i].metrics[0] == doctest::Approx(r.rows[i].metrics[0]).epsilon(1e-7));
  }
  CHECK(rd_summary(back, {0.5, 0.9}) == summary);
  {
    std::ofstream(dir + "/bad.csv") << "# uncompressed fidelity=1; dimensions=3\nmethod,setting,bytes,bits_per_dim,"
                                       "ideal_entropy_bits_per_dim,fidelity\nvbq,lambda=1,12,x,1,0.5\n";
    vbq::testing::expect_error([&] { read_rd_csv(dir + "/bad.csv"); }, ErrorKind::format, {"bad.csv", "line 3", "'x'"});
  }
  plot_rd(dir + "/rd.svg", r, "test");
  CHECK(fs::file_size(dir + "/rd.svg") > 1000);
  CHECK(fs::file_size(dir + "/rd.png") > 1000);
  const std::string svg = read_file_bytes(dir + "/rd.svg");  // the three emphasised series are labelled
  CHECK(svg.find("vbq (paper)") != std::string::npos);
  CHECK(svg.find("vbq+refine (best VBQ variant)") != std::string::npos);
  CHECK(svg.find("(best baseline)") != std::string::npos);
  CHECK(svg.find("bits per latent dimension") != std::string::npos);  // a fidelity metric: not a classifier
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
  CHECK(parse_vbq_variant("vbq+refine+ctx", 2).coder == EntropyCoder::context);
  CHECK(parse_vbq_variant("vbq+refine+ctx", 2).prior == "gauss");
  CHECK(parse_vbq_variant("vbq+refine+ctx", 2).levels == LevelRule::inverse_cdf);
  CHECK(parse_vbq_variant("vbq+auto+refine+ctx+centroid", 2).levels == LevelRule::centroid);
  CHECK(parse_vbq_variant("vbq+auto+refine+ctx+centroid", 2).prior == "auto");
  CHECK(parse_vbq_variant("vbq+wcentroid", 2).levels == LevelRule::precision_centroid);
  CHECK(parse_vbq_variant("vbq+auto+refine+ctx+gain", 2).row_gains);
  CHECK_FALSE(parse_vbq_variant("vbq+auto+refine+ctx", 2).row_gains);
  CHECK(parse_vbq_variant("vbq+auto+refine+ctx+gain+center", 2).center_columns);
  CHECK(parse_vbq_variant("vbq+auto+refine+ctx+gain+center", 2).row_gains);
  CHECK_FALSE(parse_vbq_variant("vbq+auto+refine+ctx+gain", 2).center_columns);
  CHECK(parse_vbq_variant("vbq+auto+refine+ctx", 2).spread_power == 1);
  CHECK(parse_vbq_variant("vbq+wide:8+refine+ctx+spread:0.6", 2).spread_power == 0.6);
  CHECK(parse_vbq_variant("vbq+wide:8+refine+ctx+spread:0.6", 2).prior == "wide:8");
  CHECK(parse_vbq_variant("vbq+spread:0", 2).spread_power == 0);
  for (const char* bad : {"vbq+spread:", "vbq+spread:x", "vbq+spread:1.5", "vbq+spread:-0.1", "vbq+spread:0.5x"}) {
    CAPTURE(bad);
    CHECK(kind_of([&] { parse_vbq_variant(bad, 2); }) == ErrorKind::argument);
  }
  CHECK_THROWS_AS(parse_vbq_variant("uniform+rans", 3), Error);
  CHECK_THROWS_AS(parse_vbq_variant("vbq++tables", 3), Error);
  CHECK_THROWS_AS(parse_vbq_variant("vbqx", 3), Error);
}

TEST_CASE("rd: default sweeps, by task") {
  const std::vector<std::string> baselines = rd_baseline_methods();
  for (const char* name : {"uniform+rans", "uniform+ctx", "uniform+gzip", "uniform+bzip2", "uniform+xz", "uniform+lzma",
                           "uniform+zstd19", "uniform+zstd22", "kmeans+rans"})
    CHECK(std::count(baselines.begin(), baselines.end(), std::string(name)) == 1);
  for (const std::string& b : baselines) CHECK(b.rfind("vbq", 0) != 0);  // only Algorithm 1 methods are vbq...

  const RdOptions c = default_rd_options(RdTaskKind::classifier);
  std::vector<std::string> variants;
  for (const VbqVariant& v : c.variants) variants.push_back(v.method);
  CHECK(variants ==
        std::vector<std::string>{"vbq", "vbq+refine", "vbq+auto+refine", "vbq+auto+refine+ctx", "vbq+wide:8+refine+ctx",
                                 "vbq+wide:8+refine+ctx+spread:0.6"});
  CHECK(c.variants[4].prior == "wide:8");
  CHECK(c.variants[5].spread_power == 0.6);
  CHECK(c.variants[4].coder == EntropyCoder::context);
  CHECK(c.variants[3].coder == EntropyCoder::context);
  CHECK(c.variants[2].coder == EntropyCoder::rans);
  CHECK(c.variants[0].prior == "gauss");
  CHECK(c.variants[0].refine_passes == 0);
  CHECK_FALSE(c.variants[0].block_tables);  // the paper's configuration
  CHECK(c.variants[2].prior == "auto");
  CHECK(c.variants[2].refine_passes == 3);
  CHECK(c.baselines.empty());  // all of them
  CHECK(c.general_compressors);
  CHECK_FALSE(c.kmeans_k.empty());
  CHECK(c.grid_q_max.front() == 1);
  CHECK(c.refine_rounds > 0);
  CHECK(c.refine_fractions == std::vector<double>{0.9, 0.95, 0.975, 0.99});
  CHECK(default_rd_fractions(RdTaskKind::classifier) == c.refine_fractions);

  const RdOptions a = default_rd_options(RdTaskKind::analogy);  // PROTOCOL.md
  CHECK(a.lambdas == paper_lambdas());
  CHECK(a.grid_q_max == paper_grid());
  REQUIRE(a.variants.size() == 1);
  CHECK(a.variants[0].method == "vbq");
  CHECK(a.kmeans_k.empty());
  CHECK(a.refine_rounds == 0);
  CHECK(default_rd_fractions(RdTaskKind::analogy) == std::vector<double>{0.5, 0.75, 0.9, 0.95, 0.975});
}

TEST_CASE("rd: refinement measures between the settings that bracket each fraction") {
  Model model = posterior(200, 20);
  Fidelity task(model);
  RdOptions o;
  o.lambdas = {1e-3, 1e-1, 10};
  o.grid_q_max = {1, 31};
  o.baselines = {"uniform+rans", "uniform+xz"};
  o.refine_fractions = {0.9};
  o.refine_rounds = 3;
  o.threads = 2;
  RdResult r = run_rd_sweep(model, task, o);
  auto settings_of = [&](const std::string& method) {
    std::vector<std::pair<double, double>> s;  // knob, fidelity
    for (const RdPoint& row : r.rows)
      if (row.method == method) s.push_back({std::stod(row.setting.substr(row.setting.find('=') + 1)), row.metrics[0]});
    return s;
  };
  for (const std::string method : {"vbq", "uniform+rans"}) {
    CAPTURE(method);
    const auto s = settings_of(method);
    REQUIRE(s.size() > 3);  // refined
    for (size_t i = 1; i < s.size(); ++i) CHECK(s[i].first > s[i - 1].first);  // rows sorted by knob
    // The neighbours that bracket 0.9 are now close: 3 rounds of halving in log.
    size_t crossings = 0;
    for (size_t i = 1; i < s.size(); ++i)
      if ((s[i - 1].second >= 0.9) != (s[i].second >= 0.9)) {
        ++crossings;
        if (method == "vbq") CHECK(s[i].first / s[i - 1].first <= std::pow(100.0, 1.0 / 8) * 1.0001);
        else CHECK(s[i].first / s[i - 1].first <= std::pow(31.0, 1.0 / 8) + 0.2);  // q rounds to integers
      }
    CHECK(crossings >= 1);
  }
  // Only the baselines asked for; the grid's coders share its settings and quality.
  std::map<std::string, int> per_method;
  for (const RdPoint& row : r.rows) ++per_method[row.method];
  CHECK(per_method.size() == 3);
  CHECK(per_method["uniform+xz"] == per_method["uniform+rans"]);
  const auto rans = settings_of("uniform+rans"), xz = settings_of("uniform+xz");
  CHECK(rans == xz);

  o.baselines = {"uniform+nonsense"};
  vbq::testing::expect_error([&] { run_rd_sweep(model, task, o); }, ErrorKind::argument, {"uniform+nonsense"});
}

TEST_CASE("rd: sweep options from text") {
  CHECK(parse_number_list("0.5,2", "x") == std::vector<double>{0.5, 2});
  const std::vector<double> log3 = parse_number_list("1:100:3", "x");
  REQUIRE(log3.size() == 3);
  CHECK(log3[1] == doctest::Approx(10));
  for (const char* bad : {"", "a", "1:2", "0:1:3", "2:1:3", "1:2:0"})
    CHECK_MESSAGE(kind_of([&] { parse_number_list(bad, "x"); }) == ErrorKind::argument, bad);
  CHECK(split_list("a,,b,") == std::vector<std::string>{"a", "", "b"});

  // Nothing set: the task's defaults.
  const RdOptions d = rd_options_from_text(RdTaskKind::classifier, {});
  const RdOptions c = default_rd_options(RdTaskKind::classifier);
  CHECK(d.lambdas == c.lambdas);
  CHECK(d.grid_q_max == c.grid_q_max);
  CHECK(d.kmeans_k == c.kmeans_k);
  CHECK(d.variants.size() == c.variants.size());
  CHECK(d.refine_rounds == c.refine_rounds);

  RdOptionText t;
  t.lambdas = "0.03,0.3", t.grid = "9", t.kmeans = "none", t.no_general = true, t.refine_rounds = 0;
  t.variants = "vbq,vbq+auto+refine", t.fractions = "0.9,0.99", t.baselines = "uniform+rans,,kmeans+rans";
  const RdOptions o = rd_options_from_text(RdTaskKind::classifier, t);
  CHECK(o.lambdas == std::vector<double>{0.03, 0.3});
  CHECK(o.grid_q_max == std::vector<int>{9});
  CHECK(o.kmeans_k.empty());
  CHECK_FALSE(o.general_compressors);
  CHECK(o.refine_rounds == 0);
  REQUIRE(o.variants.size() == 2);
  CHECK(o.variants[1].refine_passes == 3);  // +refine without --refine: 3 passes
  CHECK(o.refine_fractions == std::vector<double>{0.9, 0.99});
  CHECK(o.baselines == std::vector<std::string>{"uniform+rans", "kmeans+rans"});

  RdOptionText p;
  p.priors = "gauss,laplace", p.refine = 2, p.tables = true, p.baselines = "none", p.lambdas = "paper";
  const RdOptions q = rd_options_from_text(RdTaskKind::analogy, p);
  CHECK(q.variants.size() == 8);
  CHECK(q.lambdas == paper_lambdas());
  CHECK(q.grid_q_max.empty());

  RdOptionText both = p;
  both.variants = "vbq";
  CHECK(kind_of([&] { rd_options_from_text(RdTaskKind::analogy, both); }) == ErrorKind::argument);
  RdOptionText frac;
  frac.fractions = "0.5,1.5";
  CHECK(kind_of([&] { rd_options_from_text(RdTaskKind::analogy, frac); }) == ErrorKind::argument);
  CHECK(kind_of([&] { rd_fractions_from_text(RdTaskKind::analogy, std::string("0")); }) == ErrorKind::argument);
  CHECK(rd_fractions_from_text(RdTaskKind::analogy, std::nullopt) == default_rd_fractions(RdTaskKind::analogy));
  RdOptionText rounds;
  rounds.refine_rounds = -1;
  CHECK(kind_of([&] { rd_options_from_text(RdTaskKind::analogy, rounds); }) == ErrorKind::argument);
}
