#include "eval/rd.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "eval/baselines.hpp"
#include "eval/mlp.hpp"
#include "eval/plot.hpp"
#include "eval/progress.hpp"
#include "formats/atomic_file.hpp"
#include "formats/model_codec.hpp"
#include "vbq/error.hpp"

namespace vbq {

namespace fs = std::filesystem;

// ---- quality tasks ----------------------------------------------------------

namespace {

class AnalogyTask final : public QualityTask {
 public:
  AnalogyTask(AnalogySet q, std::string tensor, AnalogyOptions o)
      : questions_(std::move(q)), tensor_(std::move(tensor)), options_(o) {}
  std::vector<std::string> metric_names() const override { return {"hits1", "hits10", "mrr"}; }
  size_t primary_metric() const override { return 1; }
  std::vector<double> evaluate(const Model& m) const override {
    const Tensor* t = m.find(tensor_);
    if (!t) throw Error(ErrorKind::argument, "analogy task: the model has no tensor '" + tensor_ + "'");
    if (t->shape.size() != 2 || t->shape[0] != m.vocab.size())
      throw Error(ErrorKind::format, "analogy task: tensor '" + tensor_ + "' must be [vocabulary size, dim] with " +
                                         std::to_string(m.vocab.size()) + " vocabulary words");
    std::vector<float> vectors(t->mu.begin(), t->mu.end());
    AnalogyResult r = evaluate_analogies(questions_, m.vocab, vectors, t->shape[1], options_);
    return {r.overall.hits1, r.overall.hits10, r.overall.mrr};
  }

 private:
  AnalogySet questions_;
  std::string tensor_;
  AnalogyOptions options_;
};

class ClassifierTask final : public QualityTask {
 public:
  explicit ClassifierTask(Dataset d) : data_(std::move(d)) {}
  std::vector<std::string> metric_names() const override { return {"accuracy", "log_likelihood"}; }
  size_t primary_metric() const override { return 0; }
  std::vector<double> evaluate(const Model& m) const override {
    MlpScore s = evaluate_mlp(m, data_);
    return {s.accuracy, s.log_likelihood};
  }

 private:
  Dataset data_;
};

uint64_t write_file(const std::string& path, std::string_view bytes) {
  AtomicOutput out(path, true);
  out.write_all(bytes.data(), bytes.size());
  out.commit();
  return fs::file_size(path);
}

double entropy_bits_of_values(const std::vector<double>& values) {
  std::vector<uint64_t> bits(values.size());
  std::transform(values.begin(), values.end(), bits.begin(), [](double v) { return std::bit_cast<uint64_t>(v); });
  return empirical_entropy_bits(bits);
}

// Method suffix of a general-purpose coder, as in the paper's legend (uniform+gzip, ...).
std::string coder_method(GeneralCompressor c) {
  switch (c) {
    case GeneralCompressor::gzip9: return "uniform+gzip";
    case GeneralCompressor::bzip2_9: return "uniform+bzip2";
    case GeneralCompressor::xz9e: return "uniform+xz";
    case GeneralCompressor::lzma_alone9e: return "uniform+lzma";
    case GeneralCompressor::zstd19: return "uniform+zstd19";
    case GeneralCompressor::zstd22: return "uniform+zstd22";
  }
  return "uniform+?";
}

// Bytes of a tensor section that depend on its entropy coder (formats/SPEC.md
// 3.0, "Tensor section body" and "Code-point table"). rANS: precision (u8), T,
// T x A frequencies, the jump table, T > 1 block-table entries, the payload.
// Context coder, as the container would store it: a coder byte, the jump table,
// the payload (no frequency tables; its row length comes from the shape).
uint64_t coder_bytes(const SymbolStream& s) {
  uint64_t bytes = s.payload_bytes();
  for (auto& b : s.blocks) bytes += uint64_t(varint_bytes(b.size()));
  if (s.coder == EntropyCoder::context) return bytes + 1;
  bytes += 1 + uint64_t(varint_bytes(s.tables.size()));
  for (auto& t : s.tables)
    for (uint32_t f : t.freq) bytes += uint64_t(varint_bytes(f));
  if (s.tables.size() > 1)
    for (uint32_t k : s.block_table) bytes += uint64_t(varint_bytes(k));
  return bytes;
}

std::string format_setting(const char* name, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s=%.6g", name, value);
  return buf;
}

}  // namespace

std::unique_ptr<QualityTask> make_analogy_task(AnalogySet questions, std::string tensor, AnalogyOptions options) {
  return std::make_unique<AnalogyTask>(std::move(questions), std::move(tensor), options);
}

std::unique_ptr<QualityTask> make_classifier_task(Dataset test_set) {
  return std::make_unique<ClassifierTask>(std::move(test_set));
}

std::vector<VbqVariant> vbq_variants(const std::vector<std::string>& priors, int refine_passes, bool tables) {
  std::vector<VbqVariant> out;
  for (const std::string& prior : priors)
    for (int passes : refine_passes > 0 ? std::vector<int>{0, refine_passes} : std::vector<int>{0})
      for (bool block : tables ? std::vector<bool>{false, true} : std::vector<bool>{false}) {
        std::string name = "vbq";
        if (prior != "gauss") name += "+" + prior;
        if (passes > 0) name += "+refine";
        if (block) name += "+tables";
        out.push_back({name, prior, passes, block});
      }
  return out;
}

VbqVariant parse_vbq_variant(const std::string& label, int refine_passes) {
  std::vector<std::string> parts;
  for (std::stringstream ss(label); ss.good();) parts.emplace_back(), std::getline(ss, parts.back(), '+');
  if (parts.empty() || parts[0] != "vbq")
    throw Error(ErrorKind::argument, "VBQ variant '" + label + "': expected vbq[+PRIOR][+refine][+tables]");
  VbqVariant v{label, "gauss", 0, false};
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) throw Error(ErrorKind::argument, "VBQ variant '" + label + "': empty part");
    if (parts[i] == "refine") v.refine_passes = refine_passes;
    else if (parts[i] == "tables") v.block_tables = true;
    else v.prior = parts[i];
  }
  return v;
}

std::vector<double> paper_lambdas(size_t count, double lo, double hi) {
  std::vector<double> l(count);
  for (size_t i = 0; i < count; ++i)
    l[i] = count == 1 ? lo : lo * std::pow(hi / lo, double(i) / double(count - 1));
  return l;
}

std::vector<int> paper_grid(size_t count, int hi) {
  std::set<int> q;
  for (size_t i = 0; i < count; ++i) q.insert(int(std::lround(std::pow(double(hi), double(i) / double(count - 1)))));
  return {q.begin(), q.end()};
}

// ---- the sweep --------------------------------------------------------------

RdResult run_rd_sweep(const Model& model, const QualityTask& task, const RdOptions& opt) {
  if (model.tensors.empty()) throw Error(ErrorKind::argument, "rd sweep: no tensor to compress");
  const int threads = opt.threads > 0 ? opt.threads : omp_get_num_procs();
  RdResult res;
  res.metric_names = task.metric_names();
  res.primary = task.primary_metric();
  for (auto& t : model.tensors) res.dimensions += t.size();
  const double dims = double(res.dimensions);
  for (const VbqVariant& v : opt.variants) check_prior_spec(v.prior, model.tensors[0].mu);  // fail now, not late
  res.uncompressed = task.evaluate(model);

  std::vector<GeneralCompressor> coders;
  if (opt.general_compressors)
    coders = {GeneralCompressor::gzip9, GeneralCompressor::bzip2_9, GeneralCompressor::xz9e,
              GeneralCompressor::lzma_alone9e, GeneralCompressor::zstd19, GeneralCompressor::zstd22};
  ScratchDir dir(opt.keep_dir);
  ProgressBar bar("rd sweep",
                  double(opt.variants.size() * opt.lambdas.size() + opt.grid_q_max.size() + opt.kmeans_k.size()),
                  opt.progress);
  size_t done = 0;

  // Writes a container, reads it back from disk, decodes and scores it.
  auto measure_container = [&](const std::string& method, const std::string& setting, Container c) {
    std::string path = dir.file(method + "-" + setting + ".vbq");
    write_container(path, c, true);
    RdRow row{method, setting, fs::file_size(path), 0, 0, {}};
    Model restored = restore_model(read_container(path), threads);
    restored.vocab = model.vocab;
    double ideal = 0;
    for (auto& t : restored.tensors) ideal += entropy_bits_of_values(t.mu);
    row.bits_per_dim = 8.0 * double(row.bytes) / dims;
    row.ideal_bits_per_dim = ideal / dims;
    row.metrics = task.evaluate(restored);
    res.rows.push_back(row);
    return row;
  };
  // The point of `method` (coded by rANS, written to disk as `base`) with every
  // tensor's symbols coded by the context coder instead: the same reconstruction
  // (checked), so the same metrics; bytes = base's file with each tensor's
  // coder-dependent bytes swapped (the container cannot store the context coder yet).
  auto context_row = [&](const std::string& method, const RdRow& base, const Container& c) {
    RdRow row = base;
    row.method = method;
    int64_t delta = 0;
    for (const EncodedTensor& t : c.tensors) {
      EncodedTensor recoded = t;
      recoded.symbols = recode_with_context(t.symbols, row_length(t), threads);
      if (decode_tensor(recoded, threads) != decode_tensor(t, threads))
        throw Error(ErrorKind::corrupt, method + ": tensor '" + t.name + "' does not round-trip at " + base.setting);
      delta += int64_t(coder_bytes(recoded.symbols)) - int64_t(coder_bytes(t.symbols));
    }
    row.bytes = uint64_t(int64_t(base.bytes) + delta);
    row.bits_per_dim = 8.0 * double(row.bytes) / dims;
    res.rows.push_back(row);
  };
  auto describe = [&](const RdRow& r) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s %s: %.3f bits/dim, %s %.4f", r.method.c_str(), r.setting.c_str(),
                  r.bits_per_dim, res.metric_names[res.primary].c_str(), r.metrics[res.primary]);
    return std::string(buf);
  };

  for (const VbqVariant& v : opt.variants)
    for (double lambda : opt.lambdas) {
      CompressSettings cs;
      cs.vbq.lambda = lambda;
      cs.vbq.prior = v.prior;
      cs.vbq.refine_passes = v.refine_passes;
      cs.vbq.block_tables = v.block_tables;
      cs.vbq.threads = threads;
      cs.include_vocab = false;
      Container c = compress_model(model, cs);
      RdRow r = measure_container(v.method, format_setting("lambda", lambda), c);
      if (opt.context_coder) context_row(v.method + "+ctx", r, c);
      bar.update(double(++done), describe(r));
    }

  for (int q_max : opt.grid_q_max) {
    std::string setting = "q=" + std::to_string(q_max);
    Container c;
    std::string grid;
    for (auto& t : model.tensors) {
      c.tensors.push_back(labelled(encode_grid(t.mu, q_max, threads, t.shape), t));
      grid += grid_bytes(grid_values(t.mu, q_max), q_max);
    }
    RdRow base = measure_container("uniform+rans", setting, c);
    if (opt.context_coder) context_row("uniform+ctx", base, c);
    std::vector<RdRow> coded(coders.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (size_t i = 0; i < coders.size(); ++i) {
      std::string packed = compress_bytes(coders[i], grid);
      std::string name = coder_method(coders[i]);
      std::string path = dir.file(name + "-" + setting + ".bin");
      RdRow row = base;
      row.method = name;
      row.bytes = write_file(path, packed);
      if (decompress_bytes(coders[i], read_file_bytes(path)) != grid)
        throw Error(ErrorKind::corrupt, name + " did not round-trip the grid at " + setting);
      row.bits_per_dim = 8.0 * double(row.bytes) / dims;
      coded[i] = row;
    }
    res.rows.insert(res.rows.end(), coded.begin(), coded.end());
    bar.update(double(++done), describe(base));
  }

  for (int k : opt.kmeans_k) {
    Container c;
    for (auto& t : model.tensors) {
      c.tensors.push_back(labelled(encode_codebook(t.mu, kmeans_1d(t.mu, k, 1000, 1), threads, t.shape), t));
    }
    RdRow r = measure_container("kmeans+rans", "k=" + std::to_string(k), c);
    if (opt.context_coder) context_row("kmeans+ctx", r, c);
    bar.update(double(++done), describe(r));
  }
  bar.finish();
  return res;
}

RateControlled compress_model_to_quality(const Model& model, const QualityTask& task, const std::string& metric,
                                         double target, CompressSettings settings) {
  std::vector<std::string> names = task.metric_names();
  size_t m = std::find(names.begin(), names.end(), metric) - names.begin();
  if (m == names.size()) throw Error(ErrorKind::argument, "unknown quality metric '" + metric + "'");
  RateControlled out;
  auto probe = [&](double lambda) {
    settings.vbq.lambda = lambda;
    Container c = compress_model(model, settings);
    Model restored = restore_model(c, settings.vbq.threads);
    restored.vocab = model.vocab;
    double quality = task.evaluate(restored)[m];
    bool ok = quality >= target;
    if (ok && (!out.met || lambda > out.lambda)) {
      out.bytes = serialize_container(c).size();
      out.container = std::move(c), out.lambda = lambda, out.met = true;
    }
    return LambdaProbe{lambda, quality, ok};
  };
  // Done once the bracket around the boundary is tight: the newest feasible probe
  // sits within 2% of the nearest infeasible one seen so far.
  auto done = [&](const LambdaProbe& p) {
    for (auto& q : out.probes)
      if (!q.feasible && q.lambda > p.lambda && q.lambda < p.lambda * 1.02) return true;
    return false;
  };
  LambdaProbe best = search_lambda(probe, false, done, 1e-3, 1e6, 24, &out.probes);
  if (!out.met) out.lambda = best.lambda;
  return out;
}

// ---- reports ----------------------------------------------------------------

void write_rd_csv(const std::string& path, const RdResult& r, bool force) {
  std::ostringstream s;
  s << "# uncompressed";
  for (size_t i = 0; i < r.metric_names.size(); ++i) s << " " << r.metric_names[i] << "=" << r.uncompressed[i];
  s << "; dimensions=" << r.dimensions << "\n";
  s << "method,setting,bytes,bits_per_dim,ideal_entropy_bits_per_dim";
  for (auto& m : r.metric_names) s << "," << m;
  s << "\n";
  s.precision(8);
  for (auto& row : r.rows) {
    s << row.method << "," << row.setting << "," << row.bytes << "," << row.bits_per_dim << ","
      << row.ideal_bits_per_dim;
    for (double m : row.metrics) s << "," << m;
    s << "\n";
  }
  AtomicOutput out(path, force);
  std::string text = s.str();
  out.write_all(text.data(), text.size());
  out.commit();
}

static std::vector<std::string> method_order(const RdResult& r) {
  std::vector<std::string> methods;
  for (auto& row : r.rows)
    if (std::find(methods.begin(), methods.end(), row.method) == methods.end()) methods.push_back(row.method);
  return methods;
}

static std::vector<RdPoint> curve(const RdResult& r, const std::string& method) {
  std::vector<RdPoint> pts;
  for (auto& row : r.rows)
    if (row.method == method)
      pts.push_back({row.method, row.setting, row.bytes, row.bits_per_dim, row.ideal_bits_per_dim,
                     row.metrics[r.primary]});
  return pts;
}

std::string rd_summary(const RdResult& r, const std::vector<double>& fractions) {
  const double full = r.uncompressed[r.primary];
  const std::string& metric = r.metric_names[r.primary];
  std::ostringstream s;
  char buf[256];
  std::snprintf(buf, sizeof buf, "bits per latent dimension to keep a fraction of uncompressed %s = %.4f (%llu dims)\n",
                metric.c_str(), full, (unsigned long long)r.dimensions);
  s << buf;
  std::snprintf(buf, sizeof buf, "%-18s", "method");
  s << buf;
  for (double f : fractions) std::snprintf(buf, sizeof buf, " %9.1f%%", 100 * f), s << buf;
  s << "\n";
  std::map<std::string, std::vector<double>> need;
  for (auto& m : method_order(r)) {
    std::vector<RdPoint> c = curve(r, m);
    std::snprintf(buf, sizeof buf, "%-18s", m.c_str());
    s << buf;
    for (double f : fractions) {
      double b = bits_to_reach(c, f * full);
      need[m].push_back(b);
      if (std::isnan(b)) std::snprintf(buf, sizeof buf, " %10s", "-");
      else std::snprintf(buf, sizeof buf, " %10.3f", b);
      s << buf;
    }
    s << "\n";
  }
  auto is_vbq = [](const std::string& m) { return m.rfind("vbq", 0) == 0; };
  for (auto& [variant, bits] : need) {
    if (!is_vbq(variant)) continue;
    std::snprintf(buf, sizeof buf, "%-18s", (variant + " / best").c_str());
    s << buf;
    for (size_t i = 0; i < fractions.size(); ++i) {
      double best = NAN;
      for (auto& [m, v] : need)
        if (!is_vbq(m) && !std::isnan(v[i]) && (std::isnan(best) || v[i] < best)) best = v[i];
      double ratio = bits[i] / best;
      if (std::isnan(ratio)) std::snprintf(buf, sizeof buf, " %10s", "-");
      else std::snprintf(buf, sizeof buf, " %10.3f", ratio);
      s << buf;
    }
    s << "\n";
  }
  // Each improvement against the paper's configuration (issue: >= 15% fewer bits).
  if (need.count("vbq"))
    for (auto& [variant, bits] : need) {
      if (!is_vbq(variant) || variant == "vbq") continue;
      std::snprintf(buf, sizeof buf, "%-18s", (variant + " / vbq").c_str());
      s << buf;
      for (size_t i = 0; i < fractions.size(); ++i) {
        double ratio = bits[i] / need["vbq"][i];
        if (std::isnan(ratio)) std::snprintf(buf, sizeof buf, " %10s", "-");
        else std::snprintf(buf, sizeof buf, " %10.3f", ratio);
        s << buf;
      }
      s << "\n";
    }
  // The knob: lambda against size and quality for the paper's configuration.
  s << "lambda -> bits/dim, " << metric << " (vbq):";
  int shown = 0;
  for (const RdRow& row : r.rows)
    if (row.method == "vbq") {
      std::snprintf(buf, sizeof buf, "%s  %s: %.3f, %.4f", shown++ % 3 ? "" : "\n ", row.setting.substr(row.setting.find('=') + 1).c_str(),
                    row.bits_per_dim, row.metrics[r.primary]);
      s << buf;
    }
  s << "\n";
  return s.str();
}

void plot_rd(const std::string& svg_path, const RdResult& r, const std::string& title, const std::string& reference_csv,
             const std::string& reference_label) {
  ScratchDir dir("");
  std::vector<std::string> methods = method_order(r);
  std::ostringstream gp;
  gp << "set title \"" << title << "\" noenhanced\n"
     << "set xlabel 'bits per latent dimension (real file bytes)'\n"
     << "set ylabel '" << r.metric_names[r.primary] << "' noenhanced\n"
     << "set key bottom right noenhanced\nset grid\nset xrange [0:*]\nset datafile separator ','\n";
  std::string plots;
  int style = 1;
  for (auto& m : methods) {
    std::string data = dir.file("m" + std::to_string(style) + ".csv");
    std::ofstream out(data);
    out.precision(8);
    std::vector<RdPoint> c = curve(r, m);
    std::sort(c.begin(), c.end(), [](auto& a, auto& b) { return a.bits_per_dim < b.bits_per_dim; });
    for (auto& p : c) out << p.bits_per_dim << "," << p.quality << "\n";
    bool vbq = m.rfind("vbq", 0) == 0;
    plots += (plots.empty() ? "" : ", ") + std::string("'") + data + "' using 1:2 with linespoints lw " +
             (vbq ? "3" : "1.5") + " pt " + std::to_string(vbq ? 5 + 2 * (style % 3) : style % 12 + 1) + " ps 0.6 title '" + m + "'";
    ++style;
  }
  if (!reference_csv.empty()) {
    // Reference rows "method,setting,bits,quality,...": one open-symbol series per method.
    std::ifstream in(reference_csv);
    if (!in) throw Error(ErrorKind::io, "cannot open reference curve '" + reference_csv + "'");
    std::map<std::string, std::ofstream> series;
    std::vector<std::string> order;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#' || line.rfind("method,", 0) == 0) continue;
      std::stringstream ls(line);
      std::string method, setting, bits, quality;
      std::getline(ls, method, ','), std::getline(ls, setting, ','), std::getline(ls, bits, ',');
      std::getline(ls, quality, ',');
      if (!series.count(method)) {
        order.push_back(method);
        series[method].open(dir.file("ref" + std::to_string(order.size()) + ".csv"));
      }
      series[method] << bits << "," << quality << "\n";
    }
    for (size_t i = 0; i < order.size(); ++i) {
      series[order[i]].close();
      plots += ", '" + dir.file("ref" + std::to_string(i + 1) + ".csv") + "' using 1:2 with points pt " +
               std::to_string(4 + 2 * (i % 4)) + " ps 0.5 lc rgb 'gray" + std::to_string(30 + 10 * (i % 5)) +
               "' title '" + reference_label + ": " + order[i] + "'";
    }
  }
  char unc[64];
  std::snprintf(unc, sizeof unc, "%.6g", r.uncompressed[r.primary]);
  plots += std::string(", ") + unc + " with lines dt 3 lw 2 lc rgb 'black' title 'uncompressed'";
  gp << "plot " << plots << "\n";
  render_plot(svg_path, gp.str(), dir);
}

}  // namespace vbq
