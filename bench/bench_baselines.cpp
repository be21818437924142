// bench_baselines: size and speed of the Fig. 3 baselines (eval/baselines.hpp).
//
// Draws n Gaussian values (default 4 * 10^6: at 10^7, the size of a 100k x 100
// embedding, the run takes ~2 CPU minutes, mostly xz/lzma -9e and zstd -19/-22),
// quantizes them to the paper's grid at q_max = 7 and 127, stores the grid as
// int8 (grid_bytes) and reports for each coder the whole-output size in bits per
// value and the seconds to compress (one run each: xz/lzma -9e and zstd -22 are
// slow). Beside them: the ideal empirical entropy, the grid in a real .vbq file
// (rANS, table and header included), and 1-D k-means with as many levels as the
// grid (time of kmeans_1d with k-means++ init and <= 1000 Lloyd iterations,
// .vbq size, MSE vs the grid's).
// Times: this thread's CPU seconds (meaningful on a shared machine) and wall.
// Prints a table, then one JSON line (prefix "JSON "), also written to
// bench/results/baselines.json (relative to the working directory).
// Usage: bench_baselines [n_values] [json_path]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/timing.hpp"
#include "eval/baselines.hpp"
#include "formats/atomic_file.hpp"
#include "formats/container.hpp"
#include "vbq/codec.hpp"
#include "vbq/symbol_stream.hpp"

namespace {

using vbq::bench::now;
using vbq::bench::Stamp;

struct Row {
  int q_max = 0;
  std::string method;
  uint64_t bytes = 0;
  double bits_per_value = 0, cpu_s = 0, wall_s = 0;
};

uint64_t vbq_file_bytes(vbq::EncodedTensor t) {
  t.name = "mu";
  t.mean_path = "mu";
  vbq::Container c;
  c.tensors.push_back(std::move(t));
  return vbq::serialize_container(c).size();
}

double mse(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s / double(a.size());
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? size_t(std::strtod(argv[1], nullptr)) : size_t(4000000);
  const std::string json_path = argc > 2 ? argv[2] : "bench/results/baselines.json";
  if (n == 0) {
    std::fprintf(stderr, "usage: bench_baselines [n_values > 0] [json_path]\n");
    return 1;
  }
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> mu(n);
  for (auto& x : mu) x = normal(rng);

  std::vector<Row> rows;
  struct KMeansRow {
    int q_max, k;
    double cpu_s, wall_s, bits_per_value, mse, grid_mse;
  };
  std::vector<KMeansRow> kmeans_rows;
  const double dn = double(n);

  for (int q_max : {7, 127}) {
    const auto q = vbq::grid_values(mu, q_max);
    const std::string raw = vbq::grid_bytes(q, q_max);
    rows.push_back({q_max, "raw int8/int16", raw.size(), 8.0 * double(raw.size()) / dn, 0, 0});
    std::vector<uint64_t> symbols(q.size());
    for (size_t i = 0; i < q.size(); ++i) symbols[i] = uint64_t(int64_t(q[i]) + q_max);
    const double ideal = vbq::empirical_entropy_bits(symbols);
    rows.push_back({q_max, "ideal entropy", uint64_t(std::ceil(ideal / 8)), ideal / dn, 0, 0});

    Stamp t0 = now();
    auto grid = vbq::encode_grid(mu, q_max, 1);
    const uint64_t grid_file = vbq_file_bytes(grid);
    Stamp t1 = now();
    rows.push_back({q_max, "uniform+rANS (.vbq)", grid_file, 8.0 * double(grid_file) / dn, t1.cpu - t0.cpu,
                    t1.wall - t0.wall});

    for (vbq::GeneralCompressor c : vbq::kAllGeneralCompressors) {
      t0 = now();
      const uint64_t size = vbq::compress_bytes(c, raw).size();
      t1 = now();
      rows.push_back({q_max, vbq::compressor_label(c), size, 8.0 * double(size) / dn, t1.cpu - t0.cpu, t1.wall - t0.wall});
      std::fprintf(stderr, "q_max %d %-18s %.2f s\n", q_max, vbq::compressor_label(c).c_str(), t1.wall - t0.wall);
    }

    const int k = 2 * q_max + 1;
    t0 = now();
    auto centroids = vbq::kmeans_1d(mu, k, 1000, 0);
    t1 = now();
    auto codebook = vbq::encode_codebook(mu, centroids, 1);
    const double e_km = mse(mu, vbq::decode_tensor(codebook, 1));
    const double e_grid = mse(mu, vbq::decode_tensor(grid, 1));
    const uint64_t km_file = vbq_file_bytes(std::move(codebook));
    kmeans_rows.push_back({q_max, k, t1.cpu - t0.cpu, t1.wall - t0.wall, 8.0 * double(km_file) / dn, e_km, e_grid});
  }

  std::printf("n = %zu Gaussian values, grid of the paper, stored as int8\n", n);
  std::printf("%6s  %-22s %12s %10s %9s %9s\n", "q_max", "method", "bytes", "bits/val", "cpu s", "wall s");
  for (const auto& r : rows)
    std::printf("%6d  %-22s %12llu %10.4f %9.2f %9.2f\n", r.q_max, r.method.c_str(), (unsigned long long)r.bytes,
                r.bits_per_value, r.cpu_s, r.wall_s);
  std::printf("\nk-means (kmeans_1d, k-means++ init, <= 1000 Lloyd iterations), k = grid levels\n");
  std::printf("%6s %5s %9s %9s %16s %12s %12s\n", "q_max", "k", "cpu s", "wall s", ".vbq bits/val", "MSE kmeans",
              "MSE grid");
  for (const auto& r : kmeans_rows)
    std::printf("%6d %5d %9.2f %9.2f %16.4f %12.4g %12.4g\n", r.q_max, r.k, r.cpu_s, r.wall_s, r.bits_per_value,
                r.mse, r.grid_mse);

  std::string json = "{\"bench\":\"baselines\",\"n\":" + std::to_string(n) + ",\"rows\":[";
  char buf[512];
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::snprintf(buf, sizeof buf, "%s{\"q_max\":%d,\"method\":\"%s\",\"bytes\":%llu,\"bits_per_value\":%.6f,"
                  "\"cpu_s\":%.3f,\"wall_s\":%.3f}",
                  i ? "," : "", r.q_max, r.method.c_str(), (unsigned long long)r.bytes, r.bits_per_value, r.cpu_s,
                  r.wall_s);
    json += buf;
  }
  json += "],\"kmeans\":[";
  for (size_t i = 0; i < kmeans_rows.size(); ++i) {
    const auto& r = kmeans_rows[i];
    std::snprintf(buf, sizeof buf, "%s{\"q_max\":%d,\"k\":%d,\"cpu_s\":%.3f,\"wall_s\":%.3f,\"vbq_bits_per_value\":%.6f,"
                  "\"mse\":%.6g,\"grid_mse\":%.6g}",
                  i ? "," : "", r.q_max, r.k, r.cpu_s, r.wall_s, r.bits_per_value, r.mse, r.grid_mse);
    json += buf;
  }
  json += "]}\n";
  std::printf("JSON %s", json.c_str());

  try {
    const auto dir = std::filesystem::path(json_path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    vbq::AtomicOutput out(json_path, true);
    out.write_all(json.data(), json.size());
    out.commit();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_baselines: %s\n", e.what());
    return 2;
  }
  return 0;
}
