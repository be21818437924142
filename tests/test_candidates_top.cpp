// vbq rd --questions ... --candidates-top N: the analogy candidates are the N most
// frequent words while every word stays in the model (what --top-words removes).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "eval/rd_report.hpp"
#include "formats/hdf5_model.hpp"
#include "tests/support.hpp"

TEST_CASE("analogy: candidates-top keeps a rare distractor out of the candidates, not out of the model") {
  const vbq::testing::TempDir dir("candidates-top");
  // a : b = c : d with p = n(b) - n(a) + n(c) = (-2, 1). d scores 2.2, but the
  // rare last word r points along p and scores sqrt(5) = 2.236: rank 1 among all
  // words, rank 0 among the 4 most frequent.
  vbq::Model m;
  m.vocab = {"a", "b", "c", "d", "r"};
  m.counts = {50, 40, 30, 20, 1};
  vbq::Tensor t;
  t.name = "word";
  t.shape = {5, 2};
  t.mu = {1, 0, 0, 1, -1, 0, -0.8, 0.6, -0.894427191, 0.4472135955};
  t.sigma.assign(10, 0.1);
  m.tensors.push_back(t);
  vbq::write_model(dir.file("m.h5"), m, true);
  std::ofstream(dir.file("q.txt")) << ": s\na b c d\na b c r\n";
  auto sweep = [&](const std::string& extra) {
    const std::string cmd = "cd '" + dir.dir.string() + "' && '" + VBQ_BINARY +
                            "' rd m.h5 --questions q.txt --variants vbq --lambdas 0.001 --baselines none -q -f -T 1 "
                            "-o rd.csv " + extra + " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return vbq::read_rd_csv(dir.file("rd.csv"));
  };
  const vbq::RdResult all = sweep("");
  CHECK(all.uncompressed[0] == 0.5);  // hits1: r beats d; the second question hits r
  CHECK(all.uncompressed[2] == doctest::Approx(0.75));  // mrr (1/2 + 1) / 2
  const vbq::RdResult top = sweep("--candidates-top 4");
  CHECK(top.uncompressed[0] == 1.0);  // d wins; the question about r is skipped
  CHECK(top.uncompressed[2] == 1.0);
  CHECK(top.dimensions == 10);        // r is still compressed
  CHECK(sweep("--top-words 4").dimensions == 8);
}
