#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "formats/container.hpp"
#include "tests/support.hpp"
#include "vbq/codec.hpp"
#include "vbq/error.hpp"
#include "vbq/quantizer.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::kind_of;

namespace {
struct Posterior {
  std::vector<double> mu, sigma;
};
Posterior random_posterior(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 0.3);
  std::uniform_real_distribution<double> ls(std::log(0.003), std::log(0.5));
  Posterior p{std::vector<double>(n), std::vector<double>(n)};
  for (size_t i = 0; i < n; ++i) p.mu[i] = z(rng), p.sigma[i] = std::exp(ls(rng));
  return p;
}
}  // namespace

TEST_CASE("codec: vbq round trip rebuilds F^{-1} of the chosen code points in the dtype") {
  Posterior p = random_posterior(300000, 1);
  VbqSettings s;
  s.lambda = 0.5;
  EncodedTensor t = encode_vbq(p.mu, p.sigma, s);
  t.shape = {3000, 100};
  GaussianPrior prior = fit_gaussian_prior(p.mu);
  CodeKeys keys = quantize(prior, p.mu, p.sigma, s.lambda);
  std::vector<double> restored = decode_tensor(t);
  REQUIRE(restored.size() == keys.size());
  // Code points used once or twice became escapes (their mean itself, cheaper than a table entry).
  std::vector<uint32_t> index(keys.size());
  decode_symbol_indices(t.symbols, index);
  size_t mismatches = 0, escaped = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool escape = t.symbols.alphabet[index[i]] == kEscapeSymbol;
    escaped += escape;
    mismatches += restored[i] != double(float(escape ? p.mu[i] : reconstruct(prior, keys[i])));
  }
  CHECK(mismatches == 0);
  CHECK(escaped == t.escapes.size());
  CHECK(escaped < 50);
  t.float32 = false;  // a float64 tensor restores the doubles themselves
  restored = decode_tensor(t);
  for (size_t i = 0; i < keys.size(); ++i)
    mismatches += restored[i] != (t.symbols.alphabet[index[i]] == kEscapeSymbol ? p.mu[i] : reconstruct(prior, keys[i]));
  CHECK(mismatches == 0);
  // The file pays close to the ideal entropy of the code points (table aside).
  double ideal = empirical_entropy_bits(keys) / 8;
  CHECK(double(t.symbols.payload_bytes()) < ideal * 1.01 + 64 * t.symbols.blocks.size());
  CHECK(double(t.symbols.payload_bytes()) > ideal * 0.99);
}

TEST_CASE("codec: larger lambda, fewer bits and larger error") {
  Posterior p = random_posterior(100000, 2);
  double prev_bytes = 1e300, prev_err = -1;
  for (double lambda : {0.01, 1.0, 100.0, 1e4}) {
    VbqSettings s;
    s.lambda = lambda;
    EncodedTensor t = encode_vbq(p.mu, p.sigma, s);
    std::vector<double> r = decode_tensor(t);
    double err = 0;
    for (size_t i = 0; i < r.size(); ++i) err += (r[i] - p.mu[i]) * (r[i] - p.mu[i]);
    CAPTURE(lambda);
    CHECK(double(t.symbols.payload_bytes()) < prev_bytes);
    CHECK(err > prev_err);
    prev_bytes = double(t.symbols.payload_bytes());
    prev_err = err;
  }
}

TEST_CASE("codec: bytes identical for any thread count") {
  Posterior p = random_posterior(2500000, 3);  // > 2 blocks
  VbqSettings s;
  s.lambda = 2.0;
  s.threads = 1;
  EncodedTensor a = encode_vbq(p.mu, p.sigma, s);
  s.threads = 2;
  EncodedTensor b = encode_vbq(p.mu, p.sigma, s);
  s.threads = 8;
  EncodedTensor c = encode_vbq(p.mu, p.sigma, s);
  REQUIRE(a.symbols.blocks.size() == 3);
  CHECK(a.symbols.blocks == b.symbols.blocks);
  CHECK(a.symbols.blocks == c.symbols.blocks);
  CHECK(a.symbols.alphabet == c.symbols.alphabet);
  CHECK(decode_tensor(a, 1) == decode_tensor(a, 8));
}

// sum w (x - mu)^2 of a decoded tensor, w = 1 or 1 / sigma^2.
static double weighted_squared_error(const EncodedTensor& t, const Posterior& p, bool precision) {
  const std::vector<double> x = decode_tensor(t, 1);
  double e = 0;
  for (size_t i = 0; i < x.size(); ++i)
    e += (x[i] - p.mu[i]) * (x[i] - p.mu[i]) / (precision ? p.sigma[i] * p.sigma[i] : 1.0);
  return e;
}

TEST_CASE("codec: centroid levels are the (precision-weighted) mean of each code point's means") {
  const Posterior p = random_posterior(60000, 11);
  for (const LevelRule rule : {LevelRule::centroid, LevelRule::precision_centroid}) {
    const bool precision = rule == LevelRule::precision_centroid;
    CAPTURE(precision);
    VbqSettings s;
    s.lambda = 0.3;
    s.threads = 1;
    EncodedTensor f = encode_vbq(p.mu, p.sigma, s);
    s.levels = rule;
    EncodedTensor c = encode_vbq(p.mu, p.sigma, s);
    // Algorithm 1's code points and bytes, only the levels move.
    REQUIRE(c.symbols.alphabet == f.symbols.alphabet);
    CHECK(c.symbols.blocks == f.symbols.blocks);
    CHECK(c.escapes == f.escapes);
    REQUIRE(has_escape(c));  // the escape keeps level 0 and its elements stay out of the centroids
    // Brute force: per symbol, sum w mu / sum w over the elements coded to it.
    std::vector<uint32_t> index(p.mu.size());
    decode_symbol_indices(f.symbols, index, 1);
    std::map<uint32_t, std::pair<double, double>> cell;
    for (size_t i = 0; i < index.size(); ++i) {
      const double w = precision ? 1 / (p.sigma[i] * p.sigma[i]) : 1.0;
      cell[index[i]].first += w * p.mu[i], cell[index[i]].second += w;
    }
    size_t moved = 0;
    for (size_t j = 0; j < c.levels.size(); ++j) {
      CAPTURE(j);
      if (j == 0) {
        CHECK(c.levels[j] == 0.0);
        continue;
      }
      REQUIRE(cell.count(uint32_t(j)) == 1);
      CHECK(c.levels[j] == doctest::Approx(cell[uint32_t(j)].first / cell[uint32_t(j)].second).epsilon(1e-12));
      moved += c.levels[j] != f.levels[j];
    }
    CHECK(moved > c.levels.size() / 2);
    // Lloyd's step: the (weighted) squared error only falls, in float64 and in float32.
    for (const bool float32 : {false, true}) {
      c.float32 = f.float32 = float32;
      CHECK(weighted_squared_error(c, p, precision) < weighted_squared_error(f, p, precision));
    }
    // The levels travel in the file: parsed back, the tensor decodes to the
    // float32 levels and the escaped means.
    c.name = "w", c.shape = {600, 100};
    Container box;
    box.tensors.push_back(c);
    const Container back = parse_container(serialize_container(box), "centroid test");
    REQUIRE(back.tensors.size() == 1);
    const std::vector<double> restored = decode_tensor(back.tensors[0], 1);
    REQUIRE(restored.size() == index.size());
    size_t mismatches = 0;
    for (size_t i = 0; i < index.size(); ++i)
      mismatches += restored[i] != double(float(index[i] == 0 ? p.mu[i] : c.levels[index[i]]));
    CHECK(mismatches == 0);
    CHECK(restored == decode_tensor(c, 1));
  }
}

TEST_CASE("codec: centroid levels after refinement are identical for thread counts 1 and 2") {
  const Posterior p = random_posterior(400000, 12);
  VbqSettings s;
  s.lambda = 1.0;
  s.refine_passes = 1;
  s.levels = LevelRule::centroid;
  s.threads = 1;
  EncodedTensor a = encode_vbq(p.mu, p.sigma, s);
  s.threads = 2;
  EncodedTensor b = encode_vbq(p.mu, p.sigma, s);
  a.name = b.name = "w";
  Container ca, cb;
  ca.tensors.push_back(a), cb.tensors.push_back(b);
  CHECK(serialize_container(ca) == serialize_container(cb));
  CHECK(a.levels == b.levels);  // bit for bit, before the float32 rounding too
}

TEST_CASE("codec: row gains give each row group back its means' norm and travel in a 4.2 file") {
  CHECK(gain_rows_for(std::vector<uint64_t>{600, 100}) == 41);  // the fewest rows with >= 4096 elements
  CHECK(gain_rows_for(std::vector<uint64_t>{100000, 100}) == 41);
  CHECK(gain_rows_for(std::vector<uint64_t>{10, 5000}) == 1);
  CHECK(gain_rows_for(std::vector<uint64_t>{400}) == 400);  // at most the whole tensor
  // Later rows are less certain (as rare words are), so Algorithm 1 shrinks them more.
  Posterior p = random_posterior(60000, 13);
  for (size_t i = 0; i < p.sigma.size(); ++i) p.sigma[i] *= 1 + double(i / 100) / 60;
  const std::vector<uint64_t> shape = {600, 100};
  VbqSettings s;
  s.lambda = 0.3;
  s.threads = 1;
  EncodedTensor f = encode_vbq(p.mu, p.sigma, s, shape);
  s.row_gains = true;
  EncodedTensor g = encode_vbq(p.mu, p.sigma, s, shape);
  // Algorithm 1's code points, bytes and levels stay; only the gains are added.
  REQUIRE(g.symbols.alphabet == f.symbols.alphabet);
  CHECK(g.symbols.blocks == f.symbols.blocks);
  CHECK(g.levels == f.levels);
  CHECK(g.escapes == f.escapes);
  REQUIRE(has_escape(g));
  CHECK(f.gains.empty());
  REQUIRE(g.gain_rows == 41);
  REQUIRE(g.gains.size() == 15);
  // Brute force: per group, sqrt(sum mu^2 / sum level^2) over the elements that are not escaped.
  std::vector<uint32_t> index(p.mu.size());
  decode_symbol_indices(f.symbols, index, 1);
  const std::vector<double> x = decode_tensor(g, 1), plain = decode_tensor(f, 1);
  for (size_t k = 0; k < g.gains.size(); ++k) {
    CAPTURE(k);
    double means = 0, levels = 0, restored = 0;
    for (size_t i = k * 4100; i < std::min<size_t>(p.mu.size(), (k + 1) * 4100); ++i) {
      if (index[i] == 0) continue;
      means += p.mu[i] * p.mu[i], levels += plain[i] * plain[i], restored += x[i] * x[i];
    }
    CHECK(g.gains[k] == doctest::Approx(std::sqrt(means / levels)).epsilon(1e-6));
    CHECK(g.gains[k] == double(float(g.gains[k])));  // stored in the dtype
    CHECK(std::sqrt(restored) == doctest::Approx(std::sqrt(means)).epsilon(1e-5));
    if (k > 0) CHECK(g.gains[k] > 1.0);
  }
  CHECK(g.gains.back() > g.gains.front());  // the less certain rows shrank more
  // Each element: to_dtype(level x gain); escaped ones keep their means.
  size_t mismatches = 0;
  for (size_t i = 0; i < x.size(); ++i)
    mismatches += x[i] != (index[i] == 0 ? double(float(p.mu[i])) : double(float(plain[i] * g.gains[i / 4100])));
  CHECK(mismatches == 0);
  // The file: 4.2, and parsed back it decodes to the same values, rows included.
  g.name = "w";
  Container box;
  box.tensors.push_back(g);
  ContainerLayout lay;
  const Container back = parse_container(serialize_container(box, &lay), "gains test");
  CHECK((lay.major == 4 && lay.minor == 2));
  REQUIRE(back.tensors.size() == 1);
  CHECK(back.tensors[0].gains == g.gains);
  CHECK(decode_tensor(back.tensors[0], 2) == x);
  const std::vector<double> rows = decode_rows(back.tensors[0], 300, 2);
  CHECK(std::equal(rows.begin(), rows.end(), x.begin() + 30000));
  // The same bytes on 2 threads.
  s.threads = 2;
  EncodedTensor g2 = encode_vbq(p.mu, p.sigma, s, shape);
  g2.name = "w";
  Container box2;
  box2.tensors.push_back(g2);
  CHECK(serialize_container(box2) == serialize_container(box));
}

TEST_CASE("codec: column means: the code points code mu minus its column's mean, which every element gets back") {
  // Rows share a common vector c (as word vectors do); later rows are less certain.
  Posterior p = random_posterior(60000, 17);
  const std::vector<uint64_t> shape = {600, 100};
  for (size_t i = 0; i < p.mu.size(); ++i) {
    p.mu[i] += 0.8 * std::sin(double(i % 100));
    p.sigma[i] *= 1 + double(i / 100) / 60;
  }
  VbqSettings s;
  s.lambda = 0.3;
  s.threads = 1;
  s.prior = "auto";
  s.row_gains = true;
  s.center_columns = true;
  EncodedTensor t = encode_vbq(p.mu, p.sigma, s, shape);
  // The means of each column, rounded to float32; the rest is encode_vbq of mu - mean.
  REQUIRE(t.column_means.size() == 100);
  std::vector<double> centered(p.mu.size());
  for (size_t j = 0; j < 100; ++j) {
    double sum = 0;
    for (size_t r = 0; r < 600; ++r) sum += p.mu[r * 100 + j];
    CHECK(t.column_means[j] == double(float(sum / 600)));
    for (size_t r = 0; r < 600; ++r) centered[r * 100 + j] = p.mu[r * 100 + j] - t.column_means[j];
  }
  s.center_columns = false;
  const EncodedTensor inner = encode_vbq(centered, p.sigma, s, shape);
  CHECK(inner.column_means.empty());
  CHECK(t.symbols.blocks == inner.symbols.blocks);
  CHECK(t.levels == inner.levels);
  CHECK(t.gains == inner.gains);
  CHECK(t.escapes == inner.escapes);
  REQUIRE(has_escape(t));
  // Every element, escaped or not: to_dtype(its value without them + its column's mean).
  const std::vector<double> x = decode_tensor(t, 1), without = decode_tensor(inner, 1);
  size_t mismatches = 0;
  for (size_t i = 0; i < x.size(); ++i) mismatches += x[i] != double(float(without[i] + t.column_means[i % 100]));
  CHECK(mismatches == 0);
  // Uncertain rows now decode near the common vector, not near the prior's median.
  double err_centered = 0, err_plain = 0;
  const std::vector<double> plain = decode_tensor(encode_vbq(p.mu, p.sigma, s, shape), 1);
  for (size_t i = 50000; i < 60000; ++i)
    err_centered += (x[i] - p.mu[i]) * (x[i] - p.mu[i]), err_plain += (plain[i] - p.mu[i]) * (plain[i] - p.mu[i]);
  CHECK(err_centered < 0.8 * err_plain);
  // The file: 4.3, and parsed back it decodes to the same values, rows included.
  t.name = "w";
  Container box;
  box.tensors.push_back(t);
  ContainerLayout lay;
  const std::string bytes = serialize_container(box, &lay);
  CHECK((lay.major == 4 && lay.minor == 3));
  const Container back = parse_container(bytes, "centered test");
  REQUIRE(back.tensors.size() == 1);
  CHECK(back.tensors[0].column_means == t.column_means);
  CHECK(decode_tensor(back.tensors[0], 2) == x);
  const std::vector<double> rows = decode_rows(back.tensors[0], 300, 2);
  CHECK(std::equal(rows.begin(), rows.end(), x.begin() + 30000));
  // The same bytes on 2 threads.
  s.threads = 2, s.center_columns = true;
  EncodedTensor t2 = encode_vbq(p.mu, p.sigma, s, shape);
  t2.name = "w";
  Container box2;
  box2.tensors.push_back(t2);
  CHECK(serialize_container(box2) == bytes);
}

TEST_CASE("codec: tempered spreads shrink the log range around the geometric mean") {
  const Posterior p = random_posterior(5000, 23);
  double log_g = 0;
  for (double s : p.sigma) log_g += std::log(s);
  log_g /= double(p.sigma.size());
  CHECK(tempered_spreads(p.sigma, 1) == p.sigma);
  for (double power : {0.0, 0.25, 0.6}) {
    CAPTURE(power);
    const std::vector<double> t = tempered_spreads(p.sigma, power);
    REQUIRE(t.size() == p.sigma.size());
    double log_t = 0;
    size_t off = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      log_t += std::log(t[i]);
      off += std::fabs(std::log(t[i]) - log_g - power * (std::log(p.sigma[i]) - log_g)) > 1e-12;
    }
    CHECK(off == 0);
    CHECK(log_t / double(t.size()) == doctest::Approx(log_g).epsilon(1e-12));  // g stays
  }
  // Power 0: one spread, g, for every element.
  const std::vector<double> flat = tempered_spreads(p.sigma, 0);
  CHECK(std::all_of(flat.begin(), flat.end(), [&](double s) { return std::fabs(s - std::exp(log_g)) < 1e-12; }));
  for (double bad : {-0.1, 1.5, double(NAN)}) CHECK(kind_of([&] { tempered_spreads(p.sigma, bad); }) == ErrorKind::argument);
  std::vector<double> zero = p.sigma;
  zero[7] = 0;
  CHECK(kind_of([&] { tempered_spreads(zero, 0.5); }) == ErrorKind::argument);
}

TEST_CASE("codec: spread_power is Algorithm 1 on the tempered spreads, and moves rate to the uncertain elements") {
  const Posterior p = random_posterior(40000, 29);
  const std::vector<uint64_t> shape = {400, 100};
  VbqSettings s;
  s.lambda = 0.05;
  s.prior = "wide:8";
  s.refine_passes = 1;
  s.threads = 1;
  s.spread_power = 0.5;
  const EncodedTensor t = encode_vbq(p.mu, p.sigma, s, shape);
  VbqSettings plain = s;
  plain.spread_power = 1;
  const std::vector<double> tempered = tempered_spreads(p.sigma, 0.5);
  const EncodedTensor same = encode_vbq(p.mu, tempered, plain, shape);
  CHECK(t.symbols.alphabet == same.symbols.alphabet);
  CHECK(t.symbols.blocks == same.symbols.blocks);
  CHECK(t.levels == same.levels);
  CHECK(t.escapes == same.escapes);
  // Against the posterior's own spreads: the most certain tenth gets fewer bits, the least certain tenth more.
  const EncodedTensor untempered = encode_vbq(p.mu, p.sigma, plain, shape);
  const std::vector<double> bits_t = element_code_lengths(t, 1), bits_u = element_code_lengths(untempered, 1);
  std::vector<double> sorted = p.sigma;
  std::sort(sorted.begin(), sorted.end());
  const double low = sorted[sorted.size() / 10], high = sorted[sorted.size() * 9 / 10];
  double certain_t = 0, certain_u = 0, uncertain_t = 0, uncertain_u = 0;
  for (size_t i = 0; i < p.sigma.size(); ++i) {
    if (p.sigma[i] < low) certain_t += bits_t[i], certain_u += bits_u[i];
    if (p.sigma[i] > high) uncertain_t += bits_t[i], uncertain_u += bits_u[i];
  }
  CHECK(certain_t < certain_u);
  CHECK(uncertain_t > uncertain_u);
  // The same bytes on 2 threads.
  s.threads = 2;
  CHECK(encode_vbq(p.mu, p.sigma, s, shape).symbols.blocks == t.symbols.blocks);
}

TEST_CASE("codec: uniform grid follows the paper's baseline formula") {
  std::vector<double> mu = {-1.0, -0.26, 0.0, 0.24, 0.5, 1.0};
  double scale = 0;
  std::vector<int32_t> q = grid_values(mu, 2, &scale);
  CHECK(scale == doctest::Approx(2.5));
  CHECK(q == std::vector<int32_t>{-2, -1, 0, 1, 1, 2});
  EncodedTensor t = encode_grid(mu, 2);
  std::vector<double> r = decode_tensor(t);
  for (size_t i = 0; i < mu.size(); ++i) CHECK(r[i] == double(q[i]) / scale);
  CHECK_THROWS_AS(grid_values(mu, 0), Error);
}

TEST_CASE("codec: codebook maps each value to its nearest centroid") {
  std::vector<double> mu = {-0.9, -0.1, 0.05, 0.6, 2.0};
  EncodedTensor t = encode_codebook(mu, {-1.0, 0.0, 1.0});
  CHECK(decode_tensor(t) == std::vector<double>{-1.0, 0.0, 0.0, 1.0, 1.0});
  CHECK_THROWS_AS(encode_codebook(mu, {1.0, 0.0}), Error);
}

TEST_CASE("codec: a corrupt code-point table is reported, not decoded") {
  Posterior p = random_posterior(1000, 4);
  VbqSettings s;
  EncodedTensor t = encode_vbq(p.mu, p.sigma, s);
  t.symbols.alphabet[0] = 4;  // even key: not a shortest code point
  CHECK(kind_of([&] { decode_tensor(t); }) == ErrorKind::corrupt);
}

TEST_CASE("codec: blocks hold whole rows") {
  const uint64_t vector_shape[] = {5}, matrix[] = {10, 100}, wide[] = {2, uint64_t(1) << 21};
  CHECK(row_block_symbols(vector_shape) == kDefaultBlockSymbols);
  CHECK(row_block_symbols(matrix) == kDefaultBlockSymbols / 100 * 100);
  CHECK(row_block_symbols(wide) == kDefaultBlockSymbols);  // a row wider than a block spans blocks
  std::vector<double> mu(12);
  CHECK_THROWS_AS(encode_grid(mu, 3, 0, matrix), Error);  // shape does not match the data
}

// Rows decoded alone equal the same rows of a full decode: across block
// boundaries, for rows wider than a block, and for every quantizer.
TEST_CASE("codec: decode_rows equals the full decode, row by row") {
  Posterior p = random_posterior(2200000, 5);
  SUBCASE("700-wide rows: 1497 rows per block") {
    const uint64_t shape[] = {3000, 700};
    VbqSettings s;
    s.lambda = 2;
    EncodedTensor t = encode_vbq(std::span(p.mu).first(2100000), std::span(p.sigma).first(2100000), s, shape);
    REQUIRE(t.symbols.blocks.size() == 3);
    CHECK(t.symbols.block_symbols % 700 == 0);
    CHECK(row_count(t) == 3000);
    CHECK(row_length(t) == 700);
    std::vector<double> all = decode_tensor(t);
    for (uint64_t row : {0, 1, 1496, 1497, 1498, 2993, 2994, 2999}) {
      CAPTURE(row);
      std::vector<double> one = decode_rows(t, row);
      CHECK(std::equal(one.begin(), one.end(), all.begin() + row * 700, all.begin() + (row + 1) * 700));
    }
    std::vector<double> span = decode_rows(t, 1490, 20);
    CHECK(std::equal(span.begin(), span.end(), all.begin() + 1490 * 700));
    CHECK_THROWS_AS(decode_rows(t, 3000), Error);
    CHECK_THROWS_AS(decode_rows(t, 2990, 11), Error);
    CHECK(decode_rows(t, 3000, 0).empty());
  }
  SUBCASE("escaped means in every block") {
    std::vector<double> mu = p.mu;
    for (size_t i = 777; i < mu.size(); i += 100003) mu[i] = i % 2 ? 1e3 : -1e3;  // beyond any code point
    const uint64_t shape[] = {22000, 100};
    VbqSettings s;
    s.threads = 2;
    EncodedTensor t = encode_vbq(mu, p.sigma, s, shape);
    REQUIRE(t.symbols.blocks.size() == 3);
    CHECK(t.escapes.size() >= 22);  // the 22 outliers and a few code points used once
    REQUIRE(t.block_escapes.size() == 3);  // 1048500 elements per block: 11, 10 and 1 outliers
    CHECK(t.block_escapes[0] >= 11);
    CHECK(t.block_escapes[1] >= 10);
    CHECK(t.block_escapes[2] >= 1);
    CHECK(t.block_escapes[0] + t.block_escapes[1] + t.block_escapes[2] == t.escapes.size());
    std::vector<double> all = decode_tensor(t);
    for (size_t i = 777; i < mu.size(); i += 100003) CHECK(all[i] == mu[i]);
    for (uint64_t row : {0, 7, 1000, 10484, 10485, 10486, 21000, 21999}) {
      CAPTURE(row);
      std::vector<double> one = decode_rows(t, row);
      CHECK(std::equal(one.begin(), one.end(), all.begin() + row * 100));
    }
    std::vector<double> span = decode_rows(t, 10400, 200);  // across a block boundary
    CHECK(std::equal(span.begin(), span.end(), all.begin() + 10400 * 100));
  }
  SUBCASE("rows wider than a block") {
    const uint64_t shape[] = {2, 1100000};
    EncodedTensor t = encode_grid(p.mu, 50, 0, shape);
    REQUIRE(t.symbols.blocks.size() == 3);
    std::vector<double> all = decode_tensor(t), second = decode_rows(t, 1);
    CHECK(std::equal(second.begin(), second.end(), all.begin() + 1100000));
  }
  SUBCASE("codebook, 1-D: a row is one element") {
    std::vector<double> mu(p.mu.begin(), p.mu.begin() + 1000);
    EncodedTensor t = encode_codebook(mu, {-0.5, 0.0, 0.5});
    std::vector<double> all = decode_tensor(t);
    for (uint64_t row : {0, 17, 999}) CHECK(decode_rows(t, row) == std::vector<double>{all[row]});
  }
}

// Laplace-distributed means: "auto" equals the candidate with the smallest
// Lagrangian, byte for byte. (The candidates differ by only ~0.3% here: the
// code-point table adapts to the data whatever the prior.)
TEST_CASE("codec: prior auto keeps the candidate with the smallest Lagrangian") {
  std::mt19937_64 rng(12);
  std::exponential_distribution<double> e(1.0 / 0.2);
  std::uniform_real_distribution<double> u(0, 1), ls(std::log(0.01), std::log(0.3));
  std::vector<double> mu(200000), sigma(mu.size());
  for (size_t i = 0; i < mu.size(); ++i) mu[i] = (u(rng) < 0.5 ? -1 : 1) * e(rng), sigma[i] = std::exp(ls(rng));
  VbqSettings s;
  s.lambda = 0.02;
  s.threads = 2;
  auto lagrangian = [&](const EncodedTensor& t) {
    std::vector<double> x = decode_tensor(t);
    double bits = 8.0 * double(t.symbols.payload_bytes() + 3 * t.symbols.alphabet.size() + 8 * t.prior_parameters.size());
    for (size_t i = 0; i < x.size(); ++i) bits += (x[i] - mu[i]) * (x[i] - mu[i]) / (2 * s.lambda * sigma[i] * sigma[i]);
    return bits;
  };
  s.prior = "auto";
  EncodedTensor chosen = encode_vbq(mu, sigma, s);
  const double chosen_bits = lagrangian(chosen);
  int matches = 0;
  for (const std::string& spec : auto_prior_candidates()) {
    s.prior = spec;
    EncodedTensor t = encode_vbq(mu, sigma, s);
    CAPTURE(spec);
    const double bits = lagrangian(t);
    CHECK(chosen_bits <= bits);
    if (bits == chosen_bits) {
      CHECK(t.prior_parameters == chosen.prior_parameters);
      CHECK(t.symbols.blocks == chosen.symbols.blocks);
      ++matches;
    }
  }
  CHECK(matches >= 1);
  CHECK_NOTHROW(check_prior_spec("auto", mu));
  CHECK_THROWS_AS(check_prior_spec("gaussian", mu), Error);
}

// Means far out in the tails, under every prior: Algorithm 1 alone clips a mean
// beyond the outermost code point (about 8.2 sigma_0 for a Gaussian prior) and
// returned such means hundreds of posterior stds off. With the escape as one
// more code point of rate kEscapeBits, no element can land farther than
// sqrt(2 lambda kEscapeBits) stds from its mean (plus float32 rounding).
TEST_CASE("codec: every mean comes back within sqrt(2 lambda kEscapeBits) posterior stds, for every prior") {
  std::mt19937_64 rng(21);
  std::student_t_distribution<double> t5(5.0);
  std::uniform_real_distribution<double> ls(std::log(0.01), std::log(1.0));
  const size_t n = 200000;
  std::vector<double> mu(n), sigma(n);
  for (size_t i = 0; i < n; ++i) mu[i] = 0.3 * t5(rng), sigma[i] = std::exp(ls(rng));
  const double outliers[] = {1e3, -1e3, 60.0, -40.0, 9.0, -7.5};
  for (size_t k = 0; k < std::size(outliers); ++k) mu[1000 * k + 5] = outliers[k], sigma[1000 * k + 5] = 0.01;
  for (double lambda : {1.0, 30.0}) {
    const double bound = std::sqrt(2 * lambda * kEscapeBits);
    for (const std::string& prior : auto_prior_candidates()) {
      VbqSettings s;
      s.lambda = lambda;
      s.prior = prior;
      s.threads = 1;
      EncodedTensor t = encode_vbq(mu, sigma, s);
      std::vector<double> x = decode_tensor(t);
      double worst = 0;
      for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(x[i] - mu[i]) / sigma[i]);
      CAPTURE(prior);
      CAPTURE(lambda);
      CHECK(worst <= bound * (1 + 1e-6));
      if (prior == "gauss") CHECK(t.escapes.size() >= 2);  // +-1e3 lie far beyond 8.2 sigma_0
      CHECK(t.escapes.size() <= n / 1000);  // escapes stay rare
      s.threads = 3;
      EncodedTensor u = encode_vbq(mu, sigma, s);
      CHECK(u.symbols.blocks == t.symbols.blocks);
      CHECK(u.escapes == t.escapes);
    }
  }
}

// A code point used once costs its table entry (key, frequency, float32 value)
// plus its payload bits; as an escape it costs a float32 and the escape symbol.
// The encoder escapes it then: fewer bytes, and the mean comes back exactly.
TEST_CASE("codec: a code point used once becomes an escape") {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> z(0.0, 0.3);
  std::vector<double> mu(50000), sigma(mu.size(), 0.2);
  for (double& m : mu) m = z(rng);
  mu[1234] = 0.123456, sigma[1234] = 1e-5;  // alone at ~16 bits: far below the escape's 48
  VbqSettings s;
  s.threads = 1;
  EncodedTensor t = encode_vbq(mu, sigma, s);
  CHECK(std::count(t.escapes.begin(), t.escapes.end(), 0.123456) == 1);
  CHECK(t.escapes.size() < 10);  // and a few rare tail code points
  CHECK(decode_tensor(t)[1234] == double(float(0.123456)));
}

// max_rare_count bounds the counts of the code points that the plan escapes as
// rare, even when nearly every element is escaped already (which makes escaping
// cheapest): 32 code points counted 1..32 times in the last block, all else escaped.
TEST_CASE("codec: no code point counted more than max_rare_count is escaped as rare") {
  const GaussianPrior prior(0, 1);
  for (uint64_t n : {uint64_t(1000), kDefaultBlockSymbols, uint64_t(100000000)}) {
    CAPTURE(n);
    const uint64_t full = (n - 1) / kDefaultBlockSymbols;
    std::vector<SymbolCounts> blocks(full, SymbolCounts{{kEscapeSymbol}, {kDefaultBlockSymbols}});
    SymbolCounts h;
    h.symbols.push_back(kEscapeSymbol), h.counts.push_back(n - full * kDefaultBlockSymbols - 528);
    for (uint64_t k = 0; k < 32; ++k) h.symbols.push_back(64 + 2 * k + 1), h.counts.push_back(k + 1);
    blocks.push_back(h);
    const EncodedTensor t = plan_vbq_tensor(prior, blocks, VbqSettings{});
    const std::vector<uint64_t>& alphabet = t.symbols.alphabet;
    uint64_t escaped = 0, most = 0;
    for (size_t j = 1; j < h.symbols.size(); ++j)
      if (!std::binary_search(alphabet.begin(), alphabet.end(), h.symbols[j]))
        ++escaped, most = std::max(most, h.counts[j]);
    CHECK(escaped > 0);
    CHECK(most <= max_rare_count(n));
    CHECK(max_rare_count(n) < 32);
  }
  // Beyond 2^32 elements a code point can cost more bits than a float: the bound grows.
  CHECK(max_rare_count(uint64_t(1) << 40) > 256);
  CHECK(max_rare_count(uint64_t(1) << 40) < 1024);
}

// The staged encoder of a cluster (plan from per-block histograms, then each
// block alone) writes encode_vbq_keys' tensor field for field: several blocks
// with drifting statistics (several frequency tables), outliers escaped by
// mark_escapes and rare code points escaped by the whole tensor's counts.
TEST_CASE("codec: plan_vbq_tensor and encode_vbq_block give encode_vbq_keys' tensor") {
  const uint64_t rows = 30000, dims = 100, n = rows * dims;
  Posterior p = random_posterior(n, 12);
  for (size_t i = 0; i < n; ++i) p.sigma[i] *= i < n / 3 ? 0.2 : i < 2 * n / 3 ? 1.0 : 5.0;  // drift across blocks
  for (size_t i = 4321; i < n; i += 250007) p.mu[i] = 1e3;                                   // beyond the prior
  const uint64_t shape[] = {rows, dims};
  const GaussianPrior prior = fit_gaussian_prior(p.mu);
  for (bool block_tables : {true, false}) {
    CAPTURE(block_tables);
    VbqSettings s;
    s.lambda = 0.05;
    s.block_tables = block_tables;
    CodeKeys keys = quantize(prior, p.mu, p.sigma, s.lambda);
    mark_escapes(prior, p.mu, p.sigma, s.lambda, keys);
    // The escape as Algorithm 1's extra candidate gives mark_escapes' keys, on any thread count.
    for (int threads : {1, 2}) {
      CodeKeys fused(n);
      Quantizer(prior, true, threads).quantize(p.mu, p.sigma, s.lambda, fused, threads, kMaxRateBits, kEscapeBits);
      CHECK(fused == keys);
    }
    std::vector<uint64_t> whole(keys.begin(), keys.end());
    const EncodedTensor expected = encode_vbq_keys(prior, whole, p.mu, s, shape);
    REQUIRE(expected.symbols.blocks.size() == 3);
    REQUIRE(has_escape(expected));
    CHECK(expected.escapes.size() > 12);  // the 12 outliers and rare code points
    CHECK(expected.symbols.tables.size() == (block_tables ? 3 : 1));

    const uint64_t bs = row_block_symbols(shape);
    std::vector<SymbolCounts> histograms;
    for (uint64_t begin = 0; begin < n; begin += bs)
      histograms.push_back(symbol_counts(std::span<const uint64_t>(keys).subspan(begin, std::min(bs, n - begin))));
    EncodedTensor t = plan_vbq_tensor(prior, histograms, s, shape);
    for (uint64_t b = 0; b * bs < n; ++b) {
      const uint64_t begin = b * bs, len = std::min(bs, n - begin);
      EncodedBlock e = encode_vbq_block(t, b, std::span<const uint64_t>(keys).subspan(begin, len),
                                        std::span<const double>(p.mu).subspan(begin, len));
      t.symbols.blocks.push_back(std::move(e.bytes));
      t.block_escapes.push_back(e.escapes.size());
      t.escapes.insert(t.escapes.end(), e.escapes.begin(), e.escapes.end());
    }
    CHECK(t.shape == expected.shape);
    CHECK(t.prior_parameters == expected.prior_parameters);
    CHECK(t.symbols.alphabet == expected.symbols.alphabet);
    CHECK(t.symbols.count == expected.symbols.count);
    CHECK(t.symbols.block_symbols == expected.symbols.block_symbols);
    CHECK(t.symbols.block_table == expected.symbols.block_table);
    REQUIRE(t.symbols.tables.size() == expected.symbols.tables.size());
    for (size_t k = 0; k < t.symbols.tables.size(); ++k) CHECK(t.symbols.tables[k].freq == expected.symbols.tables[k].freq);
    CHECK(t.symbols.blocks == expected.symbols.blocks);
    CHECK(t.escapes == expected.escapes);
    CHECK(t.block_escapes == expected.block_escapes);
    CHECK(t.levels == expected.levels);
    // From the histograms and each key's index in its block's histogram (the streaming encoder's form).
    std::vector<uint32_t> indices(n);
    const std::vector<SymbolCounts> indexed = block_histograms(keys, bs, 2, indices);
    REQUIRE(indexed.size() == histograms.size());
    std::vector<std::vector<double>> candidates;
    size_t candidate_total = 0;
    for (uint64_t b = 0; b < indexed.size(); ++b) {
      const uint64_t begin = b * bs, len = std::min(bs, n - begin);
      candidates.push_back(escape_candidates(indexed[b], std::span(indices).subspan(begin, len),
                                             std::span(p.mu).subspan(begin, len), n));
      candidate_total += candidates.back().size();
    }
    CHECK(candidate_total >= t.escapes.size());
    CHECK(candidate_total < n / 100);  // the means kept are few
    const std::vector<EncodedBlock> blocks = encode_vbq_blocks(t, 0, indexed, indices, candidates, 2);
    REQUIRE(blocks.size() == t.symbols.blocks.size());
    std::vector<double> escapes;
    for (size_t b = 0; b < blocks.size(); ++b) {
      CHECK(blocks[b].bytes == t.symbols.blocks[b]);
      CHECK(blocks[b].escapes.size() == t.block_escapes[b]);
      escapes.insert(escapes.end(), blocks[b].escapes.begin(), blocks[b].escapes.end());
    }
    CHECK(escapes == t.escapes);
    // Too few histograms, or an index beyond its histogram, is an argument error.
    expect_error([&] { encode_vbq_blocks(t, 0, std::span(indexed).first(2), indices, candidates); },
                 ErrorKind::argument, {"2 histograms and 3 candidate lists for 3 blocks"});
    std::vector<uint32_t> bad(indices.begin(), indices.begin() + std::ptrdiff_t(bs));
    bad[7] = uint32_t(indexed[0].symbols.size());
    expect_error([&] { encode_vbq_block(t, 0, indexed[0], bad, candidates[0]); }, ErrorKind::argument,
                 {"block 0, element 7", "beyond its"});
    // One candidate too few or too many is an argument error.
    std::vector<double> fewer(candidates[0].begin(), candidates[0].end() - 1), more = candidates[0];
    more.push_back(0.5);
    for (const std::vector<double>& wrong : {fewer, more})
      expect_error([&] { encode_vbq_block(t, 0, indexed[0], std::span(indices).first(bs), wrong); },
                   ErrorKind::argument, {"block 0", "escape candidates for " + std::to_string(candidates[0].size())});
    // A block whose symbol count is off, or a plan without the block's code point, is an argument error.
    CHECK(kind_of([&] { encode_vbq_block(t, 0, std::span<const uint64_t>(keys).first(10), std::span(p.mu).first(10)); }) ==
          ErrorKind::argument);
    histograms.pop_back();
    histograms.front().counts.front() += 1;
    CHECK(kind_of([&] { plan_vbq_tensor(prior, histograms, s, shape); }) == ErrorKind::argument);
  }
}
