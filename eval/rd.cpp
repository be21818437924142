#include "eval/rd.hpp"

#include "app/lambda_allocation.hpp"

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

#include "eval/compressors.hpp"
#include "eval/grid_storage.hpp"
#include "eval/kmeans.hpp"
#include "eval/mlp.hpp"
#include "eval/plot.hpp"
#include "formats/atomic_file.hpp"
#include "app/lambda_allocation.hpp"
#include "app/model_codec.hpp"
#include "vbq/error.hpp"

namespace vbq {

namespace fs = std::filesystem;

namespace {

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

static double parse_spread_power(const std::string& label, const std::string& text) {
  const std::optional<double> a = parse_whole_double(text);
  if (!a || !(*a >= 0 && *a <= 1))
    throw Error(ErrorKind::argument, "VBQ variant '" + label + "': +spread:A needs a power A in [0, 1], not '" + text + "'");
  return *a;
}

VbqVariant parse_vbq_variant(const std::string& label, int refine_passes) {
  std::vector<std::string> parts;
  for (std::stringstream ss(label); ss.good();) parts.emplace_back(), std::getline(ss, parts.back(), '+');
  if (parts.empty() || parts[0] != "vbq")
    throw Error(ErrorKind::argument, "VBQ variant '" + label + "': expected vbq[+PRIOR][+refine][+tables][+ctx][+alloc][+centroid][+gain][+center][+spread:A]");
  VbqVariant v{label, "gauss", 0, false};
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) throw Error(ErrorKind::argument, "VBQ variant '" + label + "': empty part");
    if (parts[i] == "refine") v.refine_passes = refine_passes;
    else if (parts[i] == "tables") v.block_tables = true;
    else if (parts[i] == "ctx") v.coder = EntropyCoder::context;
    else if (parts[i] == "alloc") v.allocate = true;
    else if (parts[i] == "centroid" || parts[i] == "wcentroid") v.levels = parse_level_rule(parts[i]);
    else if (parts[i] == "gain") v.row_gains = true;
    else if (parts[i] == "center") v.center_columns = true;
    else if (parts[i].rfind("spread:", 0) == 0) v.spread_power = parse_spread_power(label, parts[i].substr(7));
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

// The held-out nll's default sweep, sized for 20 minutes on 2 cores at V = 100k,
// d = 100, 10^6 tokens (docs/RESULTS.md): one nll evaluation costs ~8 CPU-s, a
// paper-VBQ file ~3, a vbq+auto+refine+ctx+gain+center file ~80 (2 x 10^7 dims),
// so the paper's and the best variant (column means and row gains included) run
// at 8 lambdas (nll +0.005..+0.02 lies within lambda 0.1..3 on a trained model),
// the grid under rANS and the context coder; k-means (1.9+ bits/dim at +0.02)
// only when asked for.
static RdOptions default_heldout_nll_options() {
  RdOptions o;
  o.lambdas = paper_lambdas(8, 0.1, 10);
  o.variants = {parse_vbq_variant("vbq", 3), parse_vbq_variant("vbq+auto+refine+ctx+gain+center", 3)};
  o.grid_q_max = paper_grid(12, 255);
  o.baselines = {"uniform+rans", "uniform+ctx"};
  o.refine_fractions = default_rd_fractions(RdTaskKind::heldout_nll);
  o.refine_rounds = 2;
  return o;
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

// A VBQ variant; with v.allocate, the allocation is measured here, once per sweep.
MethodSpec vbq_method(const VbqVariant& v, const Model& model, const QualityTask& task,
                      const std::vector<double>& lambdas, int threads) {
  CompressSettings cs;
  cs.vbq.prior = v.prior;
  cs.vbq.refine_passes = v.refine_passes;
  cs.vbq.block_tables = v.block_tables;
  cs.vbq.coder = v.coder;
  cs.vbq.levels = v.levels;
  cs.vbq.row_gains = v.row_gains;
  cs.vbq.center_columns = v.center_columns;
  cs.vbq.spread_power = v.spread_power;
  cs.include_vocab = false;
  std::shared_ptr<const LambdaAllocation> alloc;
  if (v.allocate) {
    cs.vbq.threads = threads;
    QualityFn quality = task_metric(task, task.metric_names()[task.primary_metric()]);
    if (task.lower_is_better()) quality = [q = std::move(quality)](const Model& m) { return -q(m); };
    alloc = std::make_shared<const LambdaAllocation>(model, quality, cs, lambdas);  // larger quality = better
  }
  return {v.method, Knob::lambda, [cs, alloc](const Model& m, double lambda, const std::string& path, int threads) {
            CompressSettings s = cs;
            s.vbq.lambda = lambda;
            s.vbq.threads = threads;
            if (alloc) s.tensor_lambdas = alloc->tensor_lambdas(lambda);
            return container_file(path, compress_model(m, s), threads);
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
  if (kind == RdTaskKind::heldout_nll) return default_heldout_nll_options();
  // Classifiers lose everything above lambda ~ 3 (accuracy at chance) and keep
  // 99% of it only within a decade of 0.03, so the sweep covers 1e-3..10 and
  // refines where each curve crosses the summary fractions.
  o.lambdas = paper_lambdas(17, 1e-3, 10);
  o.variants = {parse_vbq_variant("vbq", 3), parse_vbq_variant("vbq+refine", 3), parse_vbq_variant("vbq+auto+refine", 3),
                parse_vbq_variant("vbq+auto+refine+ctx", 3), parse_vbq_variant("vbq+wide:8+refine+ctx", 3),
                parse_vbq_variant("vbq+wide:8+refine+ctx+spread:0.6", 3)};
  o.grid_q_max = paper_grid(24, 255);
  o.kmeans_k = {2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256};
  o.refine_fractions = default_rd_fractions(kind);
  o.refine_rounds = 3;
  return o;
}

std::vector<double> default_rd_fractions(RdTaskKind kind) {
  if (kind == RdTaskKind::analogy) return {0.5, 0.75, 0.9, 0.95, 0.975};
  if (kind == RdTaskKind::heldout_nll) return {0.02, 0.01, 0.005};  // nats per target over uncompressed
  return {0.9, 0.95, 0.975, 0.99};
}

RdTaskKind rd_task_kind(const std::string& primary_metric) {
  if (primary_metric == "hits10") return RdTaskKind::analogy;
  if (primary_metric == "heldout_nll") return RdTaskKind::heldout_nll;
  return RdTaskKind::classifier;
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
  res.lower_is_better = task.lower_is_better();
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
  for (const VbqVariant& v : opt.variants)
    families.push_back({Knob::lambda, {vbq_method(v, model, task, opt.lambdas, threads)}, opt.lambdas, {}});
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
  size_t done = 0;
  if (opt.on_progress) opt.on_progress(0, planned, "");

  struct Scored {
    std::vector<double> metrics;
    double ideal_bits = 0;
  };
  std::map<uint64_t, Scored> scored;                       // by means_hash
  std::map<std::string, std::map<double, RdPoint>> by_method;  // method -> setting -> row
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
      RdPoint row{name, label, bytes[i], 8.0 * double(bytes[i]) / dims, s.ideal_bits / dims, s.metrics};
      if (!by_method.count(name)) order.push_back(name);
      by_method[name][setting] = row;
      if (i == 0) f.quality[setting] = row.metrics[res.primary];
    }
    const RdPoint& first = by_method[f.methods[0].name][setting];
    char status[160];
    std::snprintf(status, sizeof status, "%s %s: %.3f bits/dim, %s %.4f", first.method.c_str(), label.c_str(),
                  first.bits_per_dim, res.metric_names[res.primary].c_str(), first.metrics[res.primary]);
    ++done;
    if (opt.on_progress) opt.on_progress(double(done), planned, status);
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
          const double target = level_target(res, fraction);
          if ((a->second >= target) == (b->second >= target)) continue;
          double mid = std::sqrt(a->first * b->first);
          if (f.knob != Knob::lambda) mid = std::round(mid);
          if (mid > a->first && mid < b->first) extra.insert(mid);
        }
      for (double setting : extra) measure(f, setting);
    }

  for (const std::string& name : order)
    for (auto& [setting, row] : by_method[name]) res.rows.push_back(row);
  return res;
}

}  // namespace vbq
