#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "eval/bit_allocation.hpp"

using namespace vbq;

namespace {
// 2000 words x 20, all means ~ N(0, 0.5^2): the 200 most frequent words well
// determined (sigma = 0.02), the other 1800 as uncertain as the prior allows
// (sigma = 1 = 2 sigma0): their means are noise VBQ need not store.
Model frequent_and_collapsed() {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> z(0.0, 1.0);
  Model m;
  Tensor t;
  t.name = "word";
  t.mean_path = "word/mean";
  t.shape = {2000, 20};
  for (int w = 0; w < 2000; ++w)
    for (int j = 0; j < 20; ++j) {
      const bool rare = w >= 200;
      t.mu.push_back(0.5 * z(rng));
      t.sigma.push_back(rare ? 1.0 : 0.02);
    }
  m.tensors.push_back(t);
  for (int w = 0; w < 2000; ++w) m.vocab.push_back("w" + std::to_string(w));
  return m;
}
}  // namespace

TEST_CASE("bit allocation: code lengths add up to the payload") {
  Model m = frequent_and_collapsed();
  CompressSettings s;
  s.vbq.lambda = 0.01;
  Container c = compress_model(m, s);
  std::vector<double> bits = element_code_lengths(c.tensors[0]);
  double total = 0;
  for (double b : bits) total += b;
  const double payload = 8.0 * double(c.tensors[0].symbols.payload_bytes());
  CHECK(total <= payload);
  CHECK(total >= payload - 8 * 32 * c.tensors[0].symbols.blocks.size() - 64);  // flushes only
}

TEST_CASE("bit allocation: VBQ spends almost nothing on collapsed words, uniform does not") {
  Model m = frequent_and_collapsed();
  CompressSettings s;
  s.vbq.lambda = 1;
  s.vbq.threads = 1;
  BitAllocation a = analyze_bit_allocation(m, s);
  CHECK(a.words == 2000);
  CHECK(a.dimensions == 40000);
  // Coarse grids are far apart in size here (q_max 1 -> ~2.6 KB, 2 -> 6.4 KB).
  CHECK(a.q_max == 2);
  CHECK(std::fabs(double(a.uniform_bytes) - double(a.vbq_bytes)) < 0.4 * double(a.vbq_bytes));
  CHECK(a.vbq_rare_share < 0.2);      // ranks 1001..2000, all uncertain
  CHECK(a.uniform_rare_share > 0.45);  // about their share of the coordinates
  REQUIRE(a.by_sigma.size() == 2);
  const BitBin &narrow = a.by_sigma.front(), &wide = a.by_sigma.back();  // sigma / sigma0 ~ 0.04 and ~2
  CHECK(narrow.count == 4000);
  CHECK(wide.count == 36000);
  CHECK(wide.vbq < 0.3);
  CHECK(wide.uniform > 1);
  CHECK(narrow.vbq > 5 * narrow.uniform / 2);
  uint64_t rows = 0;
  for (const BitBin& b : a.by_rank) rows += b.count;
  CHECK(rows == 2000);

  s.vbq.lambda = 1e-4;  // now VBQ spends bits everywhere and a finer grid matches it
  BitAllocation fine = analyze_bit_allocation(m, s);
  CHECK(fine.q_max > 1);
  CHECK(std::fabs(double(fine.uniform_bytes) - double(fine.vbq_bytes)) < 0.1 * double(fine.vbq_bytes));
}
