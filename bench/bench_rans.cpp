// bench_rans: throughput and efficiency of the rANS coder (lib/vbq/rans.hpp).
//
// For each model (quantized Gaussians with ~200 and ~50k symbols, as VBQ
// produces), draws 10M symbols, builds the table with from_counts at
// default_precision_bits, then times rans_encode and rans_decode (table
// set-up included) and reports the median of 5 runs. Times are this thread's
// CPU time (CLOCK_THREAD_CPUTIME_ID), which stays meaningful on a shared,
// loaded machine; wall-clock medians go to the JSON line as well.
//   Msym/s   symbols per second
//   MB/s     compressed stream bytes per second (10^6 bytes)
//   bits/sym coded size vs the empirical entropy of the message.
// Prints a table, then one JSON line (prefix "JSON ") for scripts.
// Usage: bench_rans [n_symbols]   (default 10000000)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/timing.hpp"
#include "vbq/rans.hpp"

namespace {

using vbq::bench::median;
using vbq::bench::now;
using vbq::bench::Stamp;

constexpr int kRuns = 5;

struct Result {
  std::string name;
  size_t alphabet = 0;
  uint32_t precision_bits = 0;
  size_t n = 0;
  size_t bytes = 0;
  double entropy_bits = 0, coded_bits = 0;  // per symbol
  double enc_s = 0, dec_s = 0;              // median thread CPU seconds
  double enc_wall_s = 0, dec_wall_s = 0;    // median wall seconds
};

// Symbols = round(N(0, sigma)) shifted to [0, alphabet), clamped at the ends.
std::vector<uint32_t> quantized_gaussian(size_t n, size_t alphabet, double sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, sigma);
  const double centre = double(alphabet - 1) / 2;
  std::vector<uint32_t> out(n);
  for (auto& s : out) s = uint32_t(std::clamp(std::round(centre + normal(rng)), 0.0, double(alphabet - 1)));
  return out;
}

Result run(const std::string& name, size_t alphabet, double sigma, size_t n) {
  const auto msg = quantized_gaussian(n, alphabet, sigma, 2024);
  std::vector<uint64_t> counts(alphabet, 0);
  for (uint32_t s : msg) ++counts[s];
  Result r;
  r.name = name;
  r.alphabet = alphabet;
  r.n = n;
  r.precision_bits = vbq::default_precision_bits(alphabet);
  const auto table = vbq::FrequencyTable::from_counts(counts, r.precision_bits);
  for (uint64_t k : counts)
    if (k) r.entropy_bits -= double(k) * std::log2(double(k) / double(n));
  r.entropy_bits /= double(n);

  std::vector<double> enc, dec, enc_wall, dec_wall;
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> back(n);
  for (int i = 0; i < kRuns; ++i) {
    const Stamp t0 = now();
    bytes = vbq::rans_encode(msg, table);
    const Stamp t1 = now();
    vbq::rans_decode(bytes, table, back);
    const Stamp t2 = now();
    enc.push_back(t1.cpu - t0.cpu);
    dec.push_back(t2.cpu - t1.cpu);
    enc_wall.push_back(t1.wall - t0.wall);
    dec_wall.push_back(t2.wall - t1.wall);
    if (back != msg) {
      std::fprintf(stderr, "bench_rans: round trip mismatch for %s\n", name.c_str());
      std::exit(1);
    }
  }
  r.bytes = bytes.size();
  r.coded_bits = 8.0 * double(bytes.size()) / double(n);
  r.enc_s = median(enc);
  r.dec_s = median(dec);
  r.enc_wall_s = median(enc_wall);
  r.dec_wall_s = median(dec_wall);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10000000;
  if (n == 0) {
    std::fprintf(stderr, "usage: bench_rans [n_symbols > 0]\n");
    return 1;
  }
  std::vector<Result> results;
  results.push_back(run("gauss200", 200, 25.0, n));
  results.push_back(run("gauss50k", 50000, 6000.0, n));

  std::printf("rANS, %d interleaved 64-bit states, %zu symbols, median CPU time of %d runs\n", vbq::kRansStreams, n,
              kRuns);
  std::printf("%-10s %8s %5s %9s %9s %8s %9s %9s %9s %9s\n", "model", "alphabet", "prec", "H bits",
              "coded", "over %", "enc Ms/s", "dec Ms/s", "enc MB/s", "dec MB/s");
  for (const auto& r : results) {
    const double mb = double(r.bytes) / 1e6, ms = double(r.n) / 1e6;
    std::printf("%-10s %8zu %5u %9.4f %9.4f %8.4f %9.1f %9.1f %9.1f %9.1f\n", r.name.c_str(), r.alphabet,
                r.precision_bits, r.entropy_bits, r.coded_bits,
                100.0 * (r.coded_bits / r.entropy_bits - 1.0), ms / r.enc_s, ms / r.dec_s, mb / r.enc_s,
                mb / r.dec_s);
  }
  std::printf("JSON {\"bench\":\"rans\",\"streams\":%d,\"runs\":%d,\"results\":[", vbq::kRansStreams, kRuns);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    std::printf(
        "%s{\"model\":\"%s\",\"alphabet\":%zu,\"precision_bits\":%u,\"n_symbols\":%zu,\"bytes\":%zu,"
        "\"entropy_bits_per_symbol\":%.6f,\"coded_bits_per_symbol\":%.6f,\"encode_s\":%.6f,"
        "\"decode_s\":%.6f,\"encode_wall_s\":%.6f,\"decode_wall_s\":%.6f,\"encode_msym_per_s\":%.2f,\"decode_msym_per_s\":%.2f}",
        i ? "," : "", r.name.c_str(), r.alphabet, r.precision_bits, r.n, r.bytes, r.entropy_bits,
        r.coded_bits, r.enc_s, r.dec_s, r.enc_wall_s, r.dec_wall_s, double(r.n) / 1e6 / r.enc_s, double(r.n) / 1e6 / r.dec_s);
  }
  std::printf("]}\n");
  return 0;
}
