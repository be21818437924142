#include "eval/rd.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
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
    throw Error(ErrorKind::argument, "VBQ variant '" + label + "': expected vbq[+PRIOR][+refine][+tables][+ctx]");
  VbqVariant v{label, "gauss", 0, false};
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) throw Error(ErrorKind::argument, "VBQ variant '" + label + "': empty part");
    if (parts[i] == "refine") v.refine_passes = refine_passes;
    else if (parts[i] == "tables") v.block_tables = true;
    else if (parts[i] == "ctx") v.coder = EntropyCoder::context;
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

// ---- the method table -------------------------------------------------------

namespace {

// One method's file at one knob setting, read back from disk: its size and the
// means it decodes to.
struct Encoded {
  uint64_t bytes = 0;
  Model means;
};

// Writes `c` to `path`, reads it back and decodes it.
Encoded container_file(const std::string& path, const Container& c, int threads) {
  write_container(path, c, true);
  return {fs::file_size(path), restore_model(read_container(path), threads)};
}

// The paper's grid through a general-purpose compressor: the file holds the
// compressed int8/int16 grid, which must decompress to the same bytes.
Encoded general_file(GeneralCompressor coder, const std::string& method, const std::string& path, const Model& model,
                     int q_max) {
  std::string grid;
  Model means;
  for (const Tensor& t : model.tensors) {
    double scale = 0;
    const std::vector<int32_t> q = grid_values(t.mu, q_max, &scale);
    grid += grid_bytes(q, q_max);
    Tensor r;
    r.name = t.name, r.shape = t.shape, r.mean_path = t.mean_path, r.float32 = t.float32;
    r.mu.resize(q.size());
    for (size_t i = 0; i < q.size(); ++i) r.mu[i] = double(q[i]) / scale;  // as the grid decoder reconstructs
    means.tensors.push_back(std::move(r));
  }
  const uint64_t bytes = write_file(path, compress_bytes(coder, grid));
  if (decompress_bytes(coder, read_file_bytes(path)) != grid)
    throw Error(ErrorKind::corrupt, method + " did not round-trip the grid at q=" + std::to_string(q_max));
  return {bytes, std::move(means)};
}

enum class Knob { lambda, grid_q_max, kmeans_k };

// A method of the sweep: its CSV label, its knob, and how it writes one file
// (a .vbq container, or another format kept as .bin).
struct MethodSpec {
  std::string name;
  Knob knob;
  std::function<Encoded(const Model& model, double setting, const std::string& path, int threads)> encode;
  bool container = false;
};

// The grid in a .vbq container, entropy-coded by `coder`.
MethodSpec grid_container_method(const std::string& name, EntropyCoder coder) {
  return {name, Knob::grid_q_max, [coder](const Model& m, double q, const std::string& path, int threads) {
            Container c;
            for (const Tensor& x : m.tensors)
              c.tensors.push_back(labelled(encode_grid(x.mu, int(q), threads, x.shape, coder), x));
            return container_file(path, c, threads);
          }, true};
}

// The baselines, in legend order. A new baseline is one entry here.
const std::vector<MethodSpec>& baseline_table() {
  static const std::vector<MethodSpec> table = [] {
    std::vector<MethodSpec> t;
    t.push_back(grid_container_method("uniform+rans", EntropyCoder::rans));
    t.push_back(grid_container_method("uniform+ctx", EntropyCoder::context));
    for (GeneralCompressor coder : kAllGeneralCompressors) {
      const std::string name = coder_method(coder);
      t.push_back({name, Knob::grid_q_max, [coder, name](const Model& m, double q, const std::string& path, int) {
                     return general_file(coder, name, path, m, int(q));
                   }});
    }
    t.push_back({"kmeans+rans", Knob::kmeans_k, [](const Model& m, double k, const std::string& path, int threads) {
                   Container c;
                   for (const Tensor& x : m.tensors)
                     c.tensors.push_back(
                         labelled(encode_codebook(x.mu, kmeans_1d(x.mu, int(k), 1000, 1), threads, x.shape), x));
                   return container_file(path, c, threads);
                 }, true});
    return t;
  }();
  return table;
}

MethodSpec vbq_method(const VbqVariant& v) {
  return {v.method, Knob::lambda, [v](const Model& m, double lambda, const std::string& path, int threads) {
            CompressSettings cs;
            cs.vbq.lambda = lambda;
            cs.vbq.prior = v.prior;
            cs.vbq.refine_passes = v.refine_passes;
            cs.vbq.block_tables = v.block_tables;
            cs.vbq.coder = v.coder;
            cs.vbq.threads = threads;
            cs.include_vocab = false;
            return container_file(path, compress_model(m, cs), threads);
          }, true};
}

bool is_general_coder(const std::string& method) {
  for (GeneralCompressor c : kAllGeneralCompressors)
    if (coder_method(c) == method) return true;
  return false;
}

std::string setting_label(Knob knob, double setting) {
  switch (knob) {
    case Knob::lambda: return format_setting("lambda", setting);
    case Knob::grid_q_max: return "q=" + std::to_string(int(setting));
    case Knob::kmeans_k: return "k=" + std::to_string(int(setting));
  }
  return "?";
}

// Identity of a reconstruction: methods that decode to the same means (the grid
// under every coder) share one quality evaluation.
uint64_t means_hash(const Model& m) {
  uint64_t h = 0x243f6a8885a308d3ULL;
  for (const Tensor& t : m.tensors)
    for (double x : t.mu) {
      h ^= std::bit_cast<uint64_t>(x);
      h *= 0x9e3779b97f4a7c15ULL;
      h ^= h >> 29;
    }
  return h;
}

}  // namespace

std::vector<std::string> rd_baseline_methods() {
  std::vector<std::string> names;
  for (const MethodSpec& m : baseline_table()) names.push_back(m.name);
  return names;
}

RdOptions default_rd_options(RdTaskKind kind) {
  RdOptions o;
  if (kind == RdTaskKind::analogy) {  // PROTOCOL.md: the paper's sweep
    o.lambdas = paper_lambdas();
    o.grid_q_max = paper_grid();  // no k-means sizes: its baseline runs only when asked for
    return o;
  }
  // Classifiers lose everything above lambda ~ 3 (accuracy at chance) and keep
  // 99% of it only within a decade of 0.03, so the sweep covers 1e-3..10 and
  // refines where each curve crosses the summary fractions.
  o.lambdas = paper_lambdas(17, 1e-3, 10);
  o.variants = {parse_vbq_variant("vbq", 3), parse_vbq_variant("vbq+refine", 3), parse_vbq_variant("vbq+auto+refine", 3),
                parse_vbq_variant("vbq+auto+refine+ctx", 3)};
  o.grid_q_max = paper_grid(24, 255);
  o.kmeans_k = {2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256};
  o.refine_fractions = default_rd_fractions(kind);
  o.refine_rounds = 3;
  return o;
}

std::vector<double> default_rd_fractions(RdTaskKind kind) {
  if (kind == RdTaskKind::analogy) return {0.5, 0.75, 0.9, 0.95, 0.975};
  return {0.9, 0.95, 0.975, 0.99};
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
  for (const std::string& b : opt.baselines)
    if (std::none_of(baseline_table().begin(), baseline_table().end(), [&](auto& m) { return m.name == b; }))
      throw Error(ErrorKind::argument, "rd sweep: unknown baseline '" + b + "'");
  res.uncompressed = task.evaluate(model);

  // Families: methods swept over one knob together. Each VBQ variant is its own;
  // the grid methods share their q values, the codebook methods their k.
  struct Family {
    Knob knob;
    std::vector<MethodSpec> methods;
    std::vector<double> settings;
    std::map<double, double> quality;  // setting -> primary metric
  };
  std::vector<Family> families;
  for (const VbqVariant& v : opt.variants) families.push_back({Knob::lambda, {vbq_method(v)}, opt.lambdas, {}});
  Family grid{Knob::grid_q_max, {}, {}, {}}, kmeans{Knob::kmeans_k, {}, {}, {}};
  for (int q : opt.grid_q_max) grid.settings.push_back(q);
  for (int k : opt.kmeans_k) kmeans.settings.push_back(k);
  for (const MethodSpec& m : baseline_table()) {
    if (!opt.baselines.empty() && std::find(opt.baselines.begin(), opt.baselines.end(), m.name) == opt.baselines.end())
      continue;
    if (!opt.general_compressors && is_general_coder(m.name)) continue;
    (m.knob == Knob::grid_q_max ? grid : kmeans).methods.push_back(m);
  }
  for (Family* f : {&grid, &kmeans})
    if (!f->methods.empty() && !f->settings.empty()) families.push_back(std::move(*f));

  ScratchDir dir(opt.keep_dir);
  double planned = 0;
  for (const Family& f : families)
    planned += double(f.settings.size() + size_t(opt.refine_rounds) * opt.refine_fractions.size());
  ProgressBar bar("rd sweep", planned, opt.progress);
  size_t done = 0;

  struct Scored {
    std::vector<double> metrics;
    double ideal_bits = 0;
  };
  std::map<uint64_t, Scored> scored;                       // by means_hash
  std::map<std::string, std::map<double, RdRow>> by_method;  // method -> setting -> row
  std::vector<std::string> order;                             // methods, in table order

  // Measures every method of family f at one setting: files written in parallel
  // (each single-threaded) when the family has several, then scored. Only one
  // copy of each distinct reconstruction is kept until it is scored (a grid's
  // seven files decode to one set of means), so memory stays at a few models.
  auto measure = [&](Family& f, double setting) {
    const std::string label = setting_label(f.knob, setting);
    const size_t n = f.methods.size();
    std::vector<uint64_t> bytes(n), hashes(n);
    std::map<uint64_t, Model> pending;  // unscored reconstructions, by means_hash
    std::mutex pending_mutex;
    const int outer = n > 1 ? std::min<int>(threads, int(n)) : 1;
    std::vector<std::exception_ptr> failed(n);
#pragma omp parallel for schedule(dynamic, 1) num_threads(outer)
    for (size_t i = 0; i < n; ++i) {
      try {
        const MethodSpec& m = f.methods[i];
        const std::string file = dir.file(m.name + "-" + label + (m.container ? ".vbq" : ".bin"));
        Encoded e = m.encode(model, setting, file, outer > 1 ? 1 : threads);
        bytes[i] = e.bytes, hashes[i] = means_hash(e.means);
        std::lock_guard<std::mutex> lock(pending_mutex);
        if (!scored.count(hashes[i]) && !pending.count(hashes[i])) pending.emplace(hashes[i], std::move(e.means));
      } catch (...) {
        failed[i] = std::current_exception();
      }
    }
    for (auto& e : failed)
      if (e) std::rethrow_exception(e);
    for (auto& [h, means] : pending) {
      Scored s;
      for (const Tensor& t : means.tensors) s.ideal_bits += entropy_bits_of_values(t.mu);
      means.vocab = model.vocab;
      s.metrics = task.evaluate(means);
      scored.emplace(h, std::move(s));
      means = Model();  // free the memory early
    }
    for (size_t i = 0; i < n; ++i) {
      const Scored& s = scored.at(hashes[i]);
      const std::string& name = f.methods[i].name;
      RdRow row{name, label, bytes[i], 8.0 * double(bytes[i]) / dims, s.ideal_bits / dims, s.metrics};
      if (!by_method.count(name)) order.push_back(name);
      by_method[name][setting] = row;
      if (i == 0) f.quality[setting] = row.metrics[res.primary];
    }
    const RdRow& first = by_method[f.methods[0].name][setting];
    char status[160];
    std::snprintf(status, sizeof status, "%s %s: %.3f bits/dim, %s %.4f", first.method.c_str(), label.c_str(),
                  first.bits_per_dim, res.metric_names[res.primary].c_str(), first.metrics[res.primary]);
    bar.update(double(++done), status);
  };

  for (Family& f : families)
    for (double setting : f.settings)
      if (!f.quality.count(setting)) measure(f, setting);

  // Adaptive refinement: where a curve crosses a summary fraction between two
  // neighbouring settings, measure halfway (geometrically) between them, so the
  // interpolated bits at that fraction rest on close points.
  for (int round = 0; round < opt.refine_rounds; ++round)
    for (Family& f : families) {
      std::set<double> extra;
      for (auto a = f.quality.begin(), b = std::next(a); a != f.quality.end() && b != f.quality.end(); ++a, ++b)
        for (double fraction : opt.refine_fractions) {
          const double target = fraction * res.uncompressed[res.primary];
          if ((a->second >= target) == (b->second >= target)) continue;
          double mid = std::sqrt(a->first * b->first);
          if (f.knob != Knob::lambda) mid = std::round(mid);
          if (mid > a->first && mid < b->first) extra.insert(mid);
        }
      for (double setting : extra) measure(f, setting);
    }
  bar.finish();

  for (const std::string& name : order)
    for (auto& [setting, row] : by_method[name]) res.rows.push_back(row);
  return res;
}

RateControlled compress_model_to_quality(const Model& model, const QualityTask& task, const std::string& metric,
                                         double target, CompressSettings settings) {
  std::vector<std::string> names = task.metric_names();
  size_t m = std::find(names.begin(), names.end(), metric) - names.begin();
  if (m == names.size()) throw Error(ErrorKind::argument, "unknown quality metric '" + metric + "'");
  LambdaSearch search;  // feasible below the boundary; grows down to full precision if needed
  search.feasible_above = false;
  search.lo = 1e-3, search.hi = 1e6;
  search.tight_ratio = 1.02;
  return control_rate(model, settings, search, [&](const Container& c) {
    Model restored = restore_model(c, settings.vbq.threads);
    restored.vocab = model.vocab;
    const double quality = task.evaluate(restored)[m];
    return LambdaProbe{0, quality, quality >= target, 0};
  });
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

RdResult read_rd_csv(const std::string& path) {
  std::istringstream in(read_file_bytes(path));
  RdResult r;
  std::string line;
  auto bad = [&](size_t n, const std::string& why) {
    return Error(ErrorKind::format, path + ": line " + std::to_string(n) + ": " + why);
  };
  auto number = [&](const std::string& text, size_t n) {
    size_t used = 0;
    double v = NAN;
    try {
      v = std::stod(text, &used);
    } catch (const std::logic_error&) {
      used = 0;
    }
    if (used == 0 || used != text.size()) throw bad(n, "'" + text + "' is not a number");
    return v;
  };
  std::map<std::string, double> uncompressed;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    if (line.rfind("# uncompressed", 0) == 0) {  // "# uncompressed a=1 b=2; dimensions=N"
      std::istringstream fields(line.substr(14));
      std::string field;
      while (fields >> field) {
        if (!field.empty() && field.back() == ';') field.pop_back();
        const size_t eq = field.find('=');
        if (eq == std::string::npos) continue;
        if (field.substr(0, eq) == "dimensions") r.dimensions = uint64_t(number(field.substr(eq + 1), n));
        else uncompressed[field.substr(0, eq)] = number(field.substr(eq + 1), n);
      }
      continue;
    }
    if (line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (cells.size() >= 5 && cells[0] == "method") {
      r.metric_names.assign(cells.begin() + 5, cells.end());
      continue;
    }
    if (r.metric_names.empty()) throw bad(n, "a point before the header line 'method,setting,bytes,...'");
    if (cells.size() != 5 + r.metric_names.size()) throw bad(n, "expected " + std::to_string(5 + r.metric_names.size()) + " columns");
    RdRow row{cells[0], cells[1], uint64_t(number(cells[2], n)), number(cells[3], n), number(cells[4], n), {}};
    for (size_t i = 5; i < cells.size(); ++i) row.metrics.push_back(number(cells[i], n));
    r.rows.push_back(std::move(row));
  }
  if (r.metric_names.empty()) throw Error(ErrorKind::format, path + ": no header line 'method,setting,bytes,...'");
  for (const std::string& m : r.metric_names) {
    if (!uncompressed.count(m)) throw Error(ErrorKind::format, path + ": the '# uncompressed' line has no " + m);
    r.uncompressed.push_back(uncompressed[m]);
  }
  auto hits10 = std::find(r.metric_names.begin(), r.metric_names.end(), "hits10");
  r.primary = hits10 == r.metric_names.end() ? 0 : size_t(hits10 - r.metric_names.begin());
  return r;
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
  int width = 18;  // the label column fits the longest "<variant> / best"
  for (const std::string& m : method_order(r)) width = std::max(width, int(m.size() + 8));
  std::snprintf(buf, sizeof buf, "%-*s", width, "method");
  s << buf;
  for (double f : fractions) std::snprintf(buf, sizeof buf, " %9.1f%%", 100 * f), s << buf;
  s << "\n";
  std::map<std::string, std::vector<double>> need;
  for (auto& m : method_order(r)) {
    std::vector<RdPoint> c = curve(r, m);
    std::snprintf(buf, sizeof buf, "%-*s", width, m.c_str());
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
    std::snprintf(buf, sizeof buf, "%-*s", width, (variant + " / best").c_str());
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
  // Each improvement against the paper's configuration.
  if (need.count("vbq"))
    for (auto& [variant, bits] : need) {
      if (!is_vbq(variant) || variant == "vbq") continue;
      std::snprintf(buf, sizeof buf, "%-*s", width, (variant + " / vbq").c_str());
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

// The baseline (method not named vbq...) that needs the fewest bits to keep the
// middle summary fraction (falling back to lower ones when none reaches it); "" if none.
static std::string best_baseline(const RdResult& r, const std::vector<double>& fractions) {
  std::vector<double> order(fractions.begin(), fractions.end());
  std::sort(order.begin(), order.end());
  for (size_t i = order.size() / 2 + 1; i-- > 0;) {
    std::string best;
    double best_bits = NAN;
    for (const std::string& m : method_order(r)) {
      if (m.rfind("vbq", 0) == 0) continue;
      const double b = bits_to_reach(curve(r, m), order[i] * r.uncompressed[r.primary]);
      if (!std::isnan(b) && (std::isnan(best_bits) || b < best_bits)) best = m, best_bits = b;
    }
    if (!best.empty()) return best;
  }
  return "";
}

void plot_rd(const std::string& svg_path, const RdResult& r, const std::string& title, const std::string& reference_csv,
             const std::string& reference_label, const std::vector<double>& fractions) {
  ScratchDir dir("");
  const std::vector<std::string> methods = method_order(r);
  const double full = r.uncompressed[r.primary];
  const std::string best = best_baseline(r, fractions);

  // One data file per method, sorted by rate; styles: the paper's VBQ and the
  // best baseline thick and solid, everything else thin with colour + dash.
  // The emphasised two are drawn last, on top of any series they coincide with
  // (they come last in the key too).
  std::string series, emphasised;
  size_t styled = 0;
  for (size_t i = 0; i < methods.size(); ++i) {
    const std::string& m = methods[i];
    const std::string data = dir.file("m" + std::to_string(i) + ".csv");
    std::ofstream out(data);
    out.precision(8);
    std::vector<RdPoint> c = curve(r, m);
    std::sort(c.begin(), c.end(), [](auto& a, auto& b) { return a.bits_per_dim < b.bits_per_dim; });
    for (auto& p : c) out << p.bits_per_dim << "," << p.quality << "\n";
    std::string style, label = m;
    if (m == "vbq") style = "lc rgb '#d62728' dt 1 lw 4 pt 7 ps 0.7", label += " (paper)";
    else if (m == best) style = "lc rgb '#000000' dt 1 lw 4 pt 5 ps 0.6", label += " (best baseline)";
    else style = series_style(styled++) + " lw 2 pt " + std::to_string(1 + int(i % 12)) + " ps 0.5";
    std::string& to = m == "vbq" || m == best ? emphasised : series;
    to += (to.empty() ? "" : ", ") + std::string("'") + data + "' using 1:2 with linespoints " + style + " title '" +
          label + "'";
  }
  if (!emphasised.empty()) series += (series.empty() ? "" : ", ") + emphasised;
  if (!reference_csv.empty()) {
    // Reference rows "method,setting,bits,quality,...": one open-symbol series per method.
    std::ifstream in(reference_csv);
    if (!in) throw Error(ErrorKind::io, "cannot open reference curve '" + reference_csv + "'");
    std::map<std::string, std::ofstream> files;
    std::vector<std::string> order;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#' || line.rfind("method,", 0) == 0) continue;
      std::stringstream ls(line);
      std::string method, setting, bits, quality;
      std::getline(ls, method, ','), std::getline(ls, setting, ','), std::getline(ls, bits, ',');
      std::getline(ls, quality, ',');
      if (!files.count(method)) {
        order.push_back(method);
        files[method].open(dir.file("ref" + std::to_string(order.size()) + ".csv"));
      }
      files[method] << bits << "," << quality << "\n";
    }
    for (size_t i = 0; i < order.size(); ++i) {
      files[order[i]].close();
      series += ", '" + dir.file("ref" + std::to_string(i + 1) + ".csv") + "' using 1:2 with points pt " +
                std::to_string(4 + 2 * (i % 4)) + " ps 0.5 lc rgb 'gray" + std::to_string(30 + 10 * (i % 5)) +
                "' title '" + reference_label + ": " + order[i] + "'";
    }
  }
  char unc[64];
  std::snprintf(unc, sizeof unc, "%.6g", full);
  series += std::string(", ") + unc + " with lines dt 3 lw 2 lc rgb 'gray40' title 'uncompressed (" + unc + ")'";

  // The zoom: qualities from just below the lowest summary fraction to the top,
  // over the rates at which the methods reach that band.
  std::vector<double> sorted(fractions.begin(), fractions.end());
  std::sort(sorted.begin(), sorted.end());
  double x_lo = NAN, x_hi = NAN, y_top = full;
  for (const RdRow& row : r.rows) y_top = std::max(y_top, row.metrics[r.primary]);
  if (!sorted.empty())
    for (const std::string& m : methods) {
      const double lo = bits_to_reach(curve(r, m), sorted.front() * full);
      const double hi = bits_to_reach(curve(r, m), sorted.back() * full);
      if (!std::isnan(lo)) x_lo = std::isnan(x_lo) ? lo : std::min(x_lo, lo);
      if (!std::isnan(hi)) x_hi = std::isnan(x_hi) ? hi : std::max(x_hi, hi);
    }
  const bool zoom = !std::isnan(x_lo) && !std::isnan(x_hi) && x_hi > x_lo;
  const double y_lo = sorted.empty() ? 0 : sorted.front() * full - 0.02 * full;

  std::ostringstream gp;
  gp << "set datafile separator ','\nset grid\nset logscale x 2\nset format x '%.3g'\n"
     << "set xlabel 'bits per latent dimension (real file bytes, log scale)'\n"
     << "set ylabel '" << r.metric_names[r.primary] << "' noenhanced\n"
     << "set multiplot title \"" << title << "\" noenhanced\n";
  // Left: the whole sweep. Right: the band where the methods differ, with the key.
  gp << "set title 'all points'\nset yrange [0:" << 1.04 * y_top << "]\n";
  if (zoom) {
    gp << "set size 0.42,0.95\nset origin 0,0\nset key off\nplot " << series << "\n";
    gp << "set size 0.42,0.95\nset origin 0.40,0\n"
       << "set title 'zoom: " << 100 * sorted.front() << "-100% of uncompressed (dotted: the summary fractions)'\n"
       << "set xrange [" << x_lo / 1.25 << ":" << x_hi * 1.25 << "]\nset yrange [" << y_lo << ":"
       << std::max(full + 0.05 * (full - y_lo), y_top + 0.02 * (full - y_lo)) << "]\n";
    for (size_t i = 0; i < sorted.size(); ++i)
      gp << "set arrow " << i + 1 << " from graph 0, first " << sorted[i] * full << " to graph 1, first "
         << sorted[i] * full << " nohead dt 2 lc rgb 'gray60'\n"
         << "set label " << i + 1 << " '" << 100 * sorted[i] << "%' at graph 0.01, first " << sorted[i] * full
         << " offset 0,0.5 font ',10' tc rgb 'gray40'\n";
  }
  gp << "set key outside right top vertical Left reverse noenhanced spacing 1.1 font ',11' samplen 3\n"
     << "set size " << (zoom ? 0.6 : 1.0) << ",0.95\nset origin " << (zoom ? 0.40 : 0.0) << ",0\n";
  gp << "plot " << series << "\nunset multiplot\n";
  render_plot(svg_path, gp.str(), dir, 1500, 680);
}

}  // namespace vbq
