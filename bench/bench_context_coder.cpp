// bench_context_coder: the context-adaptive coder (lib/vbq/context_coder.hpp)
// against the order-0 rANS symbol stream (lib/vbq/symbol_stream.hpp), in bits
// per symbol and ns per symbol.
//
// Inputs:
//  (a) synthetic i.i.d. symbols (where contexts cannot help): geometric(0.3)
//      indices capped at 63, and round(N(0, 25^2)) over 200 symbols, 2^22 each,
//      laid out as rows of 1000;
//  (b) with a model path, every tensor of an HDF5 model (formats/hdf5_model.hpp),
//      quantized as the R-D sweep does: the uniform grid (grid_values, q_max in
//      --grid) and VBQ code points (encode_vbq with the Gaussian empirical prior,
//      lambda in --lambdas).
// For each: both coders in the codec's row blocks (row_block_symbols), 1 thread.
//   rANS    payload bytes of encode_symbols (block tables on, as the codec) plus
//           its frequency tables as the container stores them (precision u8, T,
//           varint frequencies); the alphabet, which both coders need, is left out.
//   ctx     payload bytes of encode_symbols with EntropyCoder::context (no table).
//   H0      empirical order-0 entropy of the symbols.
//   xz      for the grid: xz -9e of the tensor's int8/int16 grid (eval/baselines.hpp),
//           the whole .xz file.
//  (c) with a model path, the whole model as a .vbq container (compress_model at
//      each lambda, Gaussian prior, no vocabulary) with each coder: file bytes and
//      decode time per parameter, parse_container + restore_model (CRCs, tables,
//      entropy decoding, reconstruction) as `vbq decompress` runs them, 1 thread.
// Times: median of --runs runs of this thread's CPU time, encode_symbols from
// the symbols (alphabet, and for rANS the tables, included) and
// decode_symbol_indices, checked against each other.
// Prints a table, then one JSON line (prefix "JSON "), also written to --json PATH
// (default bench/results/context_coder.json).
// Usage: bench_context_coder [MODEL.h5] [--grid 1,3,7,15,31] [--lambdas 0.01,0.1,1]
//                            [--runs 5] [--json PATH]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/timing.hpp"
#include "eval/baselines.hpp"
#include "formats/atomic_file.hpp"
#include "formats/hdf5_model.hpp"
#include "app/model_codec.hpp"
#include "vbq/codec.hpp"
#include "vbq/context_coder.hpp"
#include "vbq/error.hpp"
#include "vbq/symbol_stream.hpp"

namespace {

using vbq::bench::median;
using vbq::bench::now;
using vbq::bench::Stamp;

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "bench_context_coder: %s\n", message.c_str());
  std::exit(1);
}

struct Row {
  std::string input, tensor, setting;
  uint64_t n = 0, alphabet = 0;
  double h0_bits = 0;                          // whole tensor
  uint64_t rans_payload = 0, rans_tables = 0;  // bytes
  uint64_t ctx_payload = 0;
  uint64_t xz = 0;  // 0: not measured
  double rans_enc_ns = 0, rans_dec_ns = 0, ctx_enc_ns = 0, ctx_dec_ns = 0;  // per symbol
};

// Bytes the container spends on a stream's frequency tables (formats/SPEC.md,
// "Code-point table": precision, T, then T x A varints).
uint64_t table_bytes(const vbq::SymbolStream& s) {
  uint64_t bytes = 1 + uint64_t(vbq::varint_bytes(s.tables.size()));
  for (auto& t : s.tables)
    for (uint32_t f : t.freq) bytes += uint64_t(vbq::varint_bytes(f));
  return bytes;
}

Row measure(const std::string& input, const std::string& tensor, const std::string& setting,
            const std::vector<uint64_t>& symbols, const std::vector<uint64_t>& shape, int runs) {
  Row r{input, tensor, setting};
  r.n = symbols.size();
  r.h0_bits = vbq::empirical_entropy_bits(symbols);
  const uint64_t block = vbq::row_block_symbols(shape);
  uint64_t row_length = 1;
  for (size_t i = 1; i < shape.size(); ++i) row_length *= shape[i];

  std::vector<double> re, rd, ce, cd;
  vbq::SymbolStream s;
  std::vector<uint32_t> indices(r.n), back(r.n);
  for (int k = 0; k < runs; ++k) {
    const Stamp t0 = now();
    s = vbq::encode_symbols(symbols, 1, block, true);
    const Stamp t1 = now();
    vbq::decode_symbol_indices(s, indices, 1);
    const Stamp t2 = now();
    re.push_back(t1.cpu - t0.cpu), rd.push_back(t2.cpu - t1.cpu);
  }
  r.alphabet = s.alphabet.size();
  r.rans_payload = s.payload_bytes();
  r.rans_tables = table_bytes(s);
  vbq::SymbolStream c;
  for (int k = 0; k < runs; ++k) {
    const Stamp t0 = now();
    c = vbq::encode_symbols(symbols, 1, block, true, vbq::EntropyCoder::context, row_length);
    const Stamp t1 = now();
    vbq::decode_symbol_indices(c, back, 1);
    const Stamp t2 = now();
    ce.push_back(t1.cpu - t0.cpu), cd.push_back(t2.cpu - t1.cpu);
    if (back != indices) fail("context coder round trip failed on " + input + " " + tensor + " " + setting);
  }
  r.ctx_payload = c.payload_bytes();
  const double ns = 1e9 / double(r.n);
  r.rans_enc_ns = median(re) * ns, r.rans_dec_ns = median(rd) * ns;
  r.ctx_enc_ns = median(ce) * ns, r.ctx_dec_ns = median(cd) * ns;
  return r;
}

std::vector<double> parse_list(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::strtod(item.c_str(), nullptr));
  return out;
}

// (c): one lambda, both coders, through the container.
struct ContainerRow {
  std::string setting;
  uint64_t parameters = 0, rans_bytes = 0, ctx_bytes = 0;
  double rans_dec_ns = 0, ctx_dec_ns = 0;  // per parameter
};

ContainerRow measure_container(const vbq::Model& model, double lambda, int runs) {
  char setting[32];
  std::snprintf(setting, sizeof setting, "vbq:l=%g", lambda);
  ContainerRow r{setting};
  for (const vbq::Tensor& t : model.tensors) r.parameters += t.mu.size();
  std::vector<double> first;  // the rANS file's means: the ctx file must restore the same
  for (vbq::EntropyCoder coder : {vbq::EntropyCoder::rans, vbq::EntropyCoder::context}) {
    vbq::CompressSettings cs;
    cs.vbq.lambda = lambda, cs.vbq.threads = 1, cs.vbq.coder = coder;
    cs.include_vocab = false;
    const std::string bytes = vbq::serialize_container(vbq::compress_model(model, cs));
    std::vector<double> times, means;
    for (int k = 0; k < runs; ++k) {
      const Stamp t0 = now();
      const vbq::Model m = vbq::restore_model(vbq::parse_container(bytes, "bench"), 1);
      times.push_back(now().cpu - t0.cpu);
      means.clear();
      for (const vbq::Tensor& t : m.tensors) means.insert(means.end(), t.mu.begin(), t.mu.end());
    }
    const double ns = median(times) * 1e9 / double(r.parameters);
    if (coder == vbq::EntropyCoder::rans) r.rans_bytes = bytes.size(), r.rans_dec_ns = ns, first = means;
    else r.ctx_bytes = bytes.size(), r.ctx_dec_ns = ns;
    if (means != first) fail(std::string("the coders restore different means at ") + setting);
  }
  return r;
}

uint64_t zigzag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }

void print_row(const Row& r) {
  const double n = double(r.n);
  std::printf("%-6s %-15s %-12s %8llu %6llu %7.4f %7.4f %7.4f %7.4f %7s %6.3f %6.1f %6.1f %6.1f %6.1f\n",
              r.input.c_str(), r.tensor.c_str(), r.setting.c_str(), (unsigned long long)r.n,
              (unsigned long long)r.alphabet, r.h0_bits / n, 8.0 * double(r.rans_payload) / n,
              8.0 * double(r.rans_payload + r.rans_tables) / n, 8.0 * double(r.ctx_payload) / n,
              r.xz ? std::to_string(8.0 * double(r.xz) / n).substr(0, 7).c_str() : "-",
              double(r.ctx_payload) / double(r.rans_payload + r.rans_tables), r.rans_enc_ns, r.rans_dec_ns,
              r.ctx_enc_ns, r.ctx_dec_ns);
}

// The sum of a setting's rows (all tensors of the model).
Row total(const std::vector<Row>& rows, const std::string& setting) {
  Row t{"model", "(all)", setting};
  double enc[4] = {0, 0, 0, 0};
  for (const Row& r : rows) {
    if (r.setting != setting || r.input != "model") continue;
    t.n += r.n, t.alphabet = std::max(t.alphabet, r.alphabet), t.h0_bits += r.h0_bits;
    t.rans_payload += r.rans_payload, t.rans_tables += r.rans_tables, t.ctx_payload += r.ctx_payload, t.xz += r.xz;
    enc[0] += r.rans_enc_ns * double(r.n), enc[1] += r.rans_dec_ns * double(r.n);
    enc[2] += r.ctx_enc_ns * double(r.n), enc[3] += r.ctx_dec_ns * double(r.n);
  }
  t.rans_enc_ns = enc[0] / double(t.n), t.rans_dec_ns = enc[1] / double(t.n);
  t.ctx_enc_ns = enc[2] / double(t.n), t.ctx_dec_ns = enc[3] / double(t.n);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, json_path = "bench/results/context_coder.json";
  std::vector<double> grid = {1, 3, 7, 15, 31}, lambdas = {0.01, 0.1, 1};
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--grid" && has_value) grid = parse_list(argv[++i]);
    else if (a == "--lambdas" && has_value) lambdas = parse_list(argv[++i]);
    else if (a == "--runs" && has_value) runs = std::atoi(argv[++i]);
    else if (a == "--json" && has_value) json_path = argv[++i];
    else if (a[0] != '-' && model_path.empty()) model_path = a;
    else fail("usage: bench_context_coder [MODEL.h5] [--grid Q,...] [--lambdas L,...] [--runs N] [--json PATH]");
  }
  if (runs < 1) fail("--runs must be >= 1");

  std::vector<Row> rows;
  std::vector<ContainerRow> containers;
  try {
    // (a) i.i.d. symbols.
    const size_t n = size_t(1) << 22;
    const std::vector<uint64_t> shape = {n / 1000, 1000};
    std::mt19937_64 rng(2024);
    std::vector<uint64_t> geo(n / 1000 * 1000), gauss(geo.size());
    std::geometric_distribution<uint64_t> g(0.3);
    std::normal_distribution<double> normal(0.0, 25.0);
    for (auto& x : geo) x = std::min<uint64_t>(g(rng), 63);
    for (auto& x : gauss) x = uint64_t(std::clamp(std::round(99.5 + normal(rng)), 0.0, 199.0));
    rows.push_back(measure("iid", "geometric0.3", "-", geo, shape, runs));
    rows.push_back(measure("iid", "gauss200", "-", gauss, shape, runs));

    // (b) a model's tensors.
    if (!model_path.empty()) {
      const vbq::Model model = vbq::read_model(model_path);
      for (double q : grid) {
        const std::string setting = "q=" + std::to_string(int(q));
        for (const vbq::Tensor& t : model.tensors) {
          const std::vector<int32_t> values = vbq::grid_values(t.mu, int(q));
          std::vector<uint64_t> symbols(values.size());
          for (size_t i = 0; i < values.size(); ++i) symbols[i] = zigzag(values[i]);
          Row r = measure("model", t.name, setting, symbols, t.shape, runs);
          r.xz = vbq::compress_bytes(vbq::GeneralCompressor::xz9e, vbq::grid_bytes(values, int(q))).size();
          rows.push_back(r);
        }
      }
      for (double lambda : lambdas) {
        char setting[32];
        std::snprintf(setting, sizeof setting, "vbq:l=%g", lambda);
        vbq::VbqSettings vs;
        vs.lambda = lambda;
        vs.threads = 1;
        for (const vbq::Tensor& t : model.tensors) {
          const vbq::EncodedTensor e = vbq::encode_vbq(t.mu, t.sigma, vs, t.shape);
          std::vector<uint32_t> idx(e.symbols.count);
          vbq::decode_symbol_indices(e.symbols, idx, 1);
          std::vector<uint64_t> symbols(idx.size());
          for (size_t i = 0; i < idx.size(); ++i) symbols[i] = e.symbols.alphabet[idx[i]];
          rows.push_back(measure("model", t.name, setting, symbols, t.shape, runs));
        }
      }
      for (double lambda : lambdas) containers.push_back(measure_container(model, lambda, runs));
    }
  } catch (const vbq::Error& e) {
    fail(std::string(vbq::kind_name(e.kind())) + ": " + e.what());
  }

  std::vector<std::string> settings;
  for (const Row& r : rows)
    if (r.input == "model" && std::find(settings.begin(), settings.end(), r.setting) == settings.end())
      settings.push_back(r.setting);
  std::vector<Row> totals;
  for (const std::string& s : settings) totals.push_back(total(rows, s));

  std::printf("bits/symbol (rANS+T: payload + frequency tables; ctx: payload, no table needed) and ns/symbol "
              "(median CPU time of %d runs, 1 thread)%s%s\n",
              runs, model_path.empty() ? "" : "; model ", model_path.c_str());
  std::printf("%-6s %-15s %-12s %8s %6s %7s %7s %7s %7s %7s %6s %6s %6s %6s %6s\n", "input", "tensor", "setting", "n",
              "A", "H0", "rANS", "rANS+T", "ctx", "xz", "ctx/r", "r.enc", "r.dec", "c.enc", "c.dec");
  for (const Row& r : rows) print_row(r);
  for (const Row& r : totals) print_row(r);
  if (!containers.empty()) {
    std::printf("\nwhole .vbq containers (compress_model, Gaussian prior): bytes and decode ns/parameter "
                "(parse_container + restore_model, 1 thread)\n%-12s %9s %9s %9s %6s %7s %7s\n",
                "setting", "params", "rANS", "ctx", "ctx/r", "r.dec", "c.dec");
    for (const ContainerRow& c : containers)
      std::printf("%-12s %9llu %9llu %9llu %6.3f %7.2f %7.2f\n", c.setting.c_str(),
                  (unsigned long long)c.parameters, (unsigned long long)c.rans_bytes,
                  (unsigned long long)c.ctx_bytes, double(c.ctx_bytes) / double(c.rans_bytes), c.rans_dec_ns,
                  c.ctx_dec_ns);
  }

  std::ostringstream js;
  js.precision(6);
  js << "{\"bench\":\"context_coder\",\"model\":\"" << model_path << "\",\"runs\":" << runs << ",\"rows\":[";
  bool first = true;
  for (const auto* list : {&rows, &totals})
    for (const Row& r : *list) {
      const double n = double(r.n);
      js << (first ? "" : ",") << "{\"input\":\"" << r.input << "\",\"tensor\":\"" << r.tensor << "\",\"setting\":\""
         << r.setting << "\",\"n_symbols\":" << r.n << ",\"alphabet\":" << r.alphabet
         << ",\"h0_bits_per_symbol\":" << r.h0_bits / n << ",\"rans_payload_bytes\":" << r.rans_payload
         << ",\"rans_table_bytes\":" << r.rans_tables << ",\"ctx_payload_bytes\":" << r.ctx_payload
         << ",\"rans_bits_per_symbol\":" << 8.0 * double(r.rans_payload + r.rans_tables) / n
         << ",\"ctx_bits_per_symbol\":" << 8.0 * double(r.ctx_payload) / n;
      if (r.xz) js << ",\"xz9e_bytes\":" << r.xz << ",\"xz9e_bits_per_symbol\":" << 8.0 * double(r.xz) / n;
      js << ",\"rans_encode_ns_per_symbol\":" << r.rans_enc_ns << ",\"rans_decode_ns_per_symbol\":" << r.rans_dec_ns
         << ",\"ctx_encode_ns_per_symbol\":" << r.ctx_enc_ns << ",\"ctx_decode_ns_per_symbol\":" << r.ctx_dec_ns << "}";
      first = false;
    }
  js << "],\"containers\":[";
  for (size_t i = 0; i < containers.size(); ++i) {
    const ContainerRow& c = containers[i];
    js << (i ? "," : "") << "{\"setting\":\"" << c.setting << "\",\"parameters\":" << c.parameters
       << ",\"rans_bytes\":" << c.rans_bytes << ",\"ctx_bytes\":" << c.ctx_bytes
       << ",\"rans_decode_ns_per_parameter\":" << c.rans_dec_ns << ",\"ctx_decode_ns_per_parameter\":" << c.ctx_dec_ns
       << "}";
  }
  js << "]}\n";
  const std::string json = js.str();
  std::printf("JSON %s", json.c_str());
  try {
    const auto parent = std::filesystem::path(json_path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    vbq::AtomicOutput out(json_path, true);
    out.write_all(json.data(), json.size());
    out.commit();
  } catch (const std::exception& e) {
    fail(std::string("cannot write ") + json_path + ": " + e.what());
  }
  return 0;
}
