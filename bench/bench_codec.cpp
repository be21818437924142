// bench_codec: the VBQ codec end to end on a synthetic embedding model, against
// its targets (quantize >= 50M coordinates/s on 2 cores, decode <= 5
// ns/symbol per core, encode <= 10 ns/symbol, file overhead <= 0.1%).
//
// Model: two tensors "word" and "context", rows x dims (default 100,000 x 100),
// mu ~ N(0, 0.3^2) (context 0.25^2), sigma log-uniform over two orders of
// magnitude (0.005..0.5) with rare (high-index) rows wide, like a real posterior.
// Each tensor gets the paper's empirical prior N(0, mean mu^2).
//   quantize   vbq::quantize over both tensors, 1 thread (thread CPU time) and
//              2 threads (wall time, which a loaded machine inflates; so also
//              2 x coordinates / process CPU time, the rate of two free cores).
//   encode     vbq::encode_symbols with 1 thread, the codec's row blocks: the whole
//              call (histogram, table, symbol indices, rANS) and the rANS stage alone
//              (vbq::rans_encode on the same blocks and table).
//   decode     vbq::decode_symbol_indices with 1 thread (checked against the input).
//   file       compress_model + write_container to a temp dir; its size against the
//              ideal: the empirical entropy of each run of blocks sharing a frequency
//              table (block tables, symbol_stream.hpp) in the container's own streams
//              (which escape outliers and rare code points), / 8, plus the table bytes
//              and the escaped values (4 bytes each, and their counts per block).
//   peak RSS   getrusage ru_maxrss at the end.
// Times are medians of 5 runs; CPU = this thread's CPU time (meaningful on a
// shared machine), wall medians go to the JSON as well. Prints a table with each
// value against its target, then one JSON line (prefix "JSON "), also written to
// --json PATH (default bench/results/codec.json).
// Usage: bench_codec [--rows N] [--dims D] [--lambda L] [--json PATH]
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "bench/timing.hpp"
#include "formats/atomic_file.hpp"
#include "formats/container.hpp"
#include "app/model_codec.hpp"
#include "vbq/codec.hpp"
#include "vbq/quantizer.hpp"
#include "vbq/rans.hpp"
#include "vbq/symbol_stream.hpp"

namespace {

using vbq::bench::median;
using vbq::bench::now;
using vbq::bench::Stamp;

constexpr int kRuns = 5;

// Medians over the runs of the three clocks.
struct Timing {
  std::vector<double> thread_cpu, process_cpu, wall;
  void add(const Stamp& a, const Stamp& b) {
    thread_cpu.push_back(b.cpu - a.cpu);
    process_cpu.push_back(b.process_cpu - a.process_cpu);
    wall.push_back(b.wall - a.wall);
  }
  double cpu() const { return median(thread_cpu); }
  double proc() const { return median(process_cpu); }
  double wall_s() const { return median(wall); }
};

// Times f() kRuns times; before(), untimed, runs ahead of each.
template <class F, class Before = void (*)()>
Timing time_runs(F&& f, Before&& before = [] {}) {
  Timing t;
  for (int i = 0; i < kRuns; ++i) {
    before();
    const Stamp a = now();
    f();
    const Stamp b = now();
    t.add(a, b);
  }
  return t;
}

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "bench_codec: %s\n", why.c_str());
  std::exit(1);
}

// Row i's sigma centre moves log-uniformly from 0.005 (row 0, frequent) to 0.5
// (last row, rare); each coordinate adds a uniform jitter of 10% of the log range,
// so the whole tensor spreads about log-uniformly over 0.005..0.5.
vbq::Tensor synthetic_tensor(const std::string& name, uint64_t rows, uint64_t dims, double mu_std, uint64_t seed) {
  vbq::Tensor t;
  t.name = name;
  t.mean_path = name + "/mean";
  t.shape = {rows, dims};
  t.float32 = true;
  t.mu.resize(rows * dims);
  t.sigma.resize(rows * dims);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, mu_std);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double lo = std::log(0.005), range = std::log(100.0);
  for (uint64_t i = 0; i < rows; ++i) {
    const double centre = double(i) / double(rows);
    for (uint64_t j = 0; j < dims; ++j) {
      const double v = (centre + 0.1 * unit(rng)) / 1.1;
      t.mu[i * dims + j] = normal(rng);
      t.sigma[i * dims + j] = std::exp(lo + range * v);
    }
  }
  return t;
}

// Removes `dir` and all it holds when it goes out of scope (errors ignored).
struct RemoveAll {
  std::filesystem::path dir;
  ~RemoveAll() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

struct Target {
  const char* what;
  double value;
  const char* unit;
  const char* op;  // ">=" or "<="
  double target;
  bool pass() const { return op[0] == '>' ? value >= target : value <= target; }
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t rows = 100000, dims = 100;
  double lambda = 0.02;
  std::string json_path = "bench/results/codec.json";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) fail("usage: bench_codec [--rows N] [--dims D] [--lambda L] [--json PATH]");
    if (a == "--rows") rows = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--dims") dims = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--lambda") lambda = std::strtod(argv[++i], nullptr);
    else if (a == "--json") json_path = argv[++i];
    else fail("unknown option " + a);
  }
  if (rows == 0 || dims == 0 || !(lambda > 0)) fail("rows, dims and lambda must be > 0");

  vbq::Model model;
  model.tensors.push_back(synthetic_tensor("word", rows, dims, 0.3, 1));
  model.tensors.push_back(synthetic_tensor("context", rows, dims, 0.25, 2));
  std::vector<vbq::GaussianPrior> priors;
  for (const auto& t : model.tensors) priors.push_back(vbq::fit_gaussian_prior(t.mu));
  const uint64_t n_coords = 2 * rows * dims;

  // --- quantize -------------------------------------------------------------
  // The previous run's keys are freed before the clock starts: the time is quantize()'s.
  std::vector<vbq::CodeKeys> keys(2), keys2(2);
  auto quantize_all = [&](int threads, std::vector<vbq::CodeKeys>& out) {
    for (size_t k = 0; k < 2; ++k)
      out[k] = vbq::quantize(priors[k], model.tensors[k].mu, model.tensors[k].sigma, lambda, threads);
  };
  const Timing q1 = time_runs([&] { quantize_all(1, keys); }, [&] { keys.assign(2, {}); });
  const Timing q2 = time_runs([&] { quantize_all(2, keys2); }, [&] { keys2.assign(2, {}); });
  if (keys != keys2) fail("quantize: 1 and 2 threads differ");
  keys2 = {};

  // --- entropy coding (per tensor, 1 thread, the codec's block size) ---------
  const uint64_t block = vbq::row_block_symbols(model.tensors[0].shape);
  std::vector<vbq::SymbolStream> streams(2);
  const Timing enc = time_runs([&] {
    for (size_t k = 0; k < 2; ++k) streams[k] = vbq::encode_symbols(keys[k], 1, block);
  });
  // The rANS stage alone, on the same indices and table.
  std::vector<std::vector<uint32_t>> indices(2);
  for (size_t k = 0; k < 2; ++k) {
    indices[k].resize(keys[k].size());
    const auto& a = streams[k].alphabet;
    for (size_t i = 0; i < keys[k].size(); ++i)
      indices[k][i] = uint32_t(std::lower_bound(a.begin(), a.end(), keys[k][i]) - a.begin());
  }
  const Timing rans_enc = time_runs([&] {
    for (size_t k = 0; k < 2; ++k)
      for (uint64_t b = 0; b * block < indices[k].size(); ++b) {
        const size_t begin = b * block, len = std::min<size_t>(block, indices[k].size() - begin);
        if (vbq::rans_encode(std::span(indices[k]).subspan(begin, len), streams[k].table_of(b)) != streams[k].blocks[b])
          fail("rans_encode differs from encode_symbols");
      }
  });
  std::vector<uint32_t> back(rows * dims);
  const Timing dec = time_runs([&] {
    for (size_t k = 0; k < 2; ++k) vbq::decode_symbol_indices(streams[k], back, 1);
  });
  for (size_t k = 0; k < 2; ++k) {
    vbq::decode_symbol_indices(streams[k], back, 1);
    if (back != indices[k]) fail("decode round trip mismatch in tensor " + model.tensors[k].name);
  }

  // --- real file -------------------------------------------------------------
  // compress_model escapes outliers and rare code points, so its streams are not
  // the bench's: the ideal is measured on the container's own streams, below.
  uint64_t payload_bytes = 0, alphabet = 0;
  for (size_t k = 0; k < 2; ++k) {
    payload_bytes += streams[k].payload_bytes();
    alphabet += streams[k].alphabet.size();
  }
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "bench_codec.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) fail("cannot create a temporary directory");
  vbq::CompressSettings settings;
  settings.vbq.lambda = lambda;
  settings.vbq.threads = 2;
  settings.include_vocab = false;
  vbq::ContainerLayout layout;
  vbq::Container container;
  Stamp c0{}, c1{};
  uint64_t file_bytes = 0;
  // The catch makes the stack unwind (an uncaught exception need not), so the
  // directory goes before fail() exits.
  try {
    const RemoveAll cleanup{fs::path(tmpl)};
    const std::string file = (cleanup.dir / "model.vbq").string();
    c0 = now();
    container = vbq::compress_model(model, settings);
    vbq::write_container(file, container, true, &layout);
    c1 = now();
    file_bytes = fs::file_size(file);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  // Ideal: the empirical entropy of each run of blocks that shares a table, the
  // code-point tables, and the escaped values (float32) with their counts per block.
  double entropy_bits = 0, escape_bytes = 0;
  for (size_t k = 0; k < 2; ++k) {
    const vbq::EncodedTensor& t = container.tensors[k];
    std::vector<uint32_t> coded(t.symbols.count);
    vbq::decode_symbol_indices(t.symbols, coded, 2);
    const std::vector<uint64_t> symbols(coded.begin(), coded.end());
    const auto& bt = t.symbols.block_table;
    for (size_t b0 = 0, b1; b0 < bt.size(); b0 = b1) {
      for (b1 = b0 + 1; b1 < bt.size() && bt[b1] == bt[b0];) ++b1;
      const size_t begin = b0 * block, end = std::min<size_t>(b1 * block, symbols.size());
      entropy_bits += vbq::empirical_entropy_bits(std::span(symbols).subspan(begin, end - begin));
    }
    escape_bytes += 4.0 * double(t.escapes.size());
    for (uint64_t c : t.block_escapes) escape_bytes += double(vbq::varint_bytes(c));
  }
  uint64_t table_bytes = 0;
  for (uint64_t b : layout.table_bytes) table_bytes += b;
  const double ideal_bytes = entropy_bits / 8 + double(table_bytes) + escape_bytes;
  const double overhead_pct = 100.0 * (double(file_bytes) / ideal_bytes - 1.0);

  // Wall times on a shared machine depend on its load: record it.
  double load1 = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load1) != 1) load1 = -1;
    std::fclose(f);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double peak_rss_mb = double(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux

  // --- report ----------------------------------------------------------------
  const double n = double(n_coords);
  const double q1_rate = n / q1.cpu(), q2_rate = n / q2.wall_s(), q2_cpu_rate = 2 * n / q2.proc();
  const double enc_ns = 1e9 * enc.cpu() / n, rans_enc_ns = 1e9 * rans_enc.cpu() / n, dec_ns = 1e9 * dec.cpu() / n;
  const Target targets[] = {
      {"quantize, 2 threads (wall)", q2_rate / 1e6, "M coords/s", ">=", 50},
      {"  same, 2 x n / process CPU", q2_cpu_rate / 1e6, "M coords/s", ">=", 50},
      {"decode, 1 thread", dec_ns, "ns/symbol", "<=", 5},
      {"encode_symbols, 1 thread", enc_ns, "ns/symbol", "<=", 10},
      {"  rANS stage alone", rans_enc_ns, "ns/symbol", "<=", 10},
      {"file overhead vs ideal", overhead_pct, "%", "<=", 0.1},
  };
  std::printf("VBQ codec, 2 tensors x %llu x %llu (%.0e coordinates), lambda %g, %.3f bits/dim, %llu code points\n",
              (unsigned long long)rows, (unsigned long long)dims, n, lambda, 8.0 * double(payload_bytes) / n,
              (unsigned long long)alphabet);
  std::printf("medians of %d runs; CPU = thread CPU time; load average %.2f on %u cores\n", kRuns, load1,
              std::thread::hardware_concurrency());
  std::printf("  quantize, 1 thread (CPU)       %10.2f M coords/s\n", q1_rate / 1e6);
  std::printf("  quantize, 2 threads (wall)     %10.2f M coords/s   (process CPU: %.2f M/s per 2 cores)\n",
              q2_rate / 1e6, q2_cpu_rate / 1e6);
  std::printf("  file %llu bytes; ideal %.0f = entropy %.0f + tables %llu + escapes %.0f; bench payload %llu\n",
              (unsigned long long)file_bytes, ideal_bytes, entropy_bits / 8, (unsigned long long)table_bytes,
              escape_bytes, (unsigned long long)payload_bytes);
  std::printf("  compress_model + write_container, 2 threads: %.2f s wall\n", c1.wall - c0.wall);
  std::printf("  peak RSS %.0f MiB\n\n", peak_rss_mb);
  std::printf("%-28s %12s %-11s %-10s %s\n", "measure", "value", "unit", "target", "");
  for (const auto& t : targets)
    std::printf("%-28s %12.4g %-11s %s %-7g %s\n", t.what, t.value, t.unit, t.op, t.target, t.pass() ? "pass" : "MISS");

  char buf[2048];
  std::snprintf(
      buf, sizeof buf,
      "{\"bench\":\"codec\",\"rows\":%llu,\"dims\":%llu,\"tensors\":2,\"coordinates\":%llu,\"lambda\":%g,"
      "\"runs\":%d,\"bits_per_dim\":%.6f,\"code_points\":%llu,"
      "\"quantize_1t_cpu_s\":%.6f,\"quantize_1t_wall_s\":%.6f,\"quantize_1t_mcoords_per_s\":%.3f,"
      "\"quantize_2t_wall_s\":%.6f,\"quantize_2t_process_cpu_s\":%.6f,\"quantize_2t_mcoords_per_s\":%.3f,"
      "\"quantize_2t_cpu_mcoords_per_s\":%.3f,\"load_average\":%.2f,"
      "\"encode_cpu_s\":%.6f,\"encode_wall_s\":%.6f,\"encode_ns_per_symbol\":%.4f,"
      "\"rans_encode_cpu_s\":%.6f,\"rans_encode_ns_per_symbol\":%.4f,"
      "\"decode_cpu_s\":%.6f,\"decode_wall_s\":%.6f,\"decode_ns_per_symbol\":%.4f,"
      "\"file_bytes\":%llu,\"payload_bytes\":%llu,\"entropy_bytes\":%.1f,\"table_bytes\":%llu,"
      "\"ideal_bytes\":%.1f,\"overhead_percent\":%.5f,\"compress_write_wall_s\":%.4f,\"peak_rss_mib\":%.1f,"
      "\"targets\":{\"quantize_2t_mcoords_per_s\":50,\"decode_ns_per_symbol\":5,\"encode_ns_per_symbol\":10,"
      "\"overhead_percent\":0.1}}\n",
      (unsigned long long)rows, (unsigned long long)dims, (unsigned long long)n_coords, lambda, kRuns,
      8.0 * double(payload_bytes) / n, (unsigned long long)alphabet, q1.cpu(), q1.wall_s(), q1_rate / 1e6,
      q2.wall_s(), q2.proc(), q2_rate / 1e6, q2_cpu_rate / 1e6, load1, enc.cpu(), enc.wall_s(), enc_ns, rans_enc.cpu(), rans_enc_ns, dec.cpu(),
      dec.wall_s(), dec_ns, (unsigned long long)file_bytes, (unsigned long long)payload_bytes, entropy_bits / 8,
      (unsigned long long)table_bytes, ideal_bytes, overhead_pct, c1.wall - c0.wall, peak_rss_mb);
  const std::string json = buf;
  std::printf("JSON %s", json.c_str());
  try {
    const auto parent = fs::path(json_path).parent_path();
    if (!parent.empty()) fs::create_directories(parent);
    vbq::AtomicOutput out(json_path, true);
    out.write_all(json.data(), json.size());
    out.commit();
  } catch (const std::exception& e) {
    fail(e.what());
  }
  return 0;
}
