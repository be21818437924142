// vbq compress: HDF5 model -> .vbq container.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "formats/atomic_file.hpp"
#include "formats/model_codec.hpp"
#include "eval/rd.hpp"
#include "tools/command.hpp"
#include "tools/model_options.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {

// Pairs --mean with the spread options, in the order given.
static std::vector<TensorSpec> explicit_specs(const po::variables_map& vm) {
  std::vector<TensorSpec> specs;
  auto means = vm.count("mean") ? vm["mean"].as<std::vector<std::string>>() : std::vector<std::string>{};
  std::vector<std::pair<std::string, Spread>> spreads;
  static const std::pair<const char*, Spread> kinds[] = {
      {"std", Spread::std_dev}, {"var", Spread::variance}, {"log-std", Spread::log_std}, {"rho", Spread::softplus_rho}};
  size_t options_used = 0;
  for (auto [opt, kind] : kinds) {
    options_used += vm.count(opt);
    if (vm.count(opt))
      for (auto& p : vm[opt].as<std::vector<std::string>>()) spreads.push_back({p, kind});
  }
  if (means.size() != spreads.size())
    throw Error(ErrorKind::argument, "each --mean needs exactly one --std, --var, --log-std or --rho (got " +
                                         std::to_string(means.size()) + " means, " + std::to_string(spreads.size()) +
                                         " spreads)");
  if (!means.empty() && options_used > 1)
    throw Error(ErrorKind::argument, "use one kind of spread option (--std, --var, --log-std or --rho) per call");
  for (size_t i = 0; i < means.size(); ++i) {
    std::string name = means[i];
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    specs.push_back({name, means[i], spreads[i].first, spreads[i].second});
  }
  return specs;
}

// "12MB", "800KiB", "123456": bytes (K/M/G = 1000^n, Ki/Mi/Gi = 1024^n).
static uint64_t parse_size(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  double scale = 0;
  for (auto [name, s] : {std::pair{"", 1.0}, {"B", 1.0}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"KiB", 1024.0},
                         {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}})
    if (unit == name) scale = s;
  if (used == 0 || scale == 0 || !(value > 0))
    throw Error(ErrorKind::argument, "--target-size: cannot parse '" + text + "' (e.g. 12MB, 800KiB, 123456)");
  return uint64_t(value * scale);
}

// "hits10=0.95x" -> {"hits10", 0.95}.
static std::pair<std::string, double> parse_quality_target(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || text.empty() || text.back() != 'x')
    throw Error(ErrorKind::argument, "--target-quality: expected METRIC=Fx, e.g. hits10=0.95x");
  try {
    return {text.substr(0, eq), std::stod(text.substr(eq + 1, text.size() - eq - 2))};
  } catch (const std::logic_error&) {
    throw Error(ErrorKind::argument, "--target-quality: cannot parse '" + text + "'");
  }
}

// One line on the choice (every probe with --verbose). An unreachable target is
// an error that says how close the search came. what: "bytes" or a quality metric.
static void report_rate_control(const RateControlled& r, const std::string& what, double target, bool verbose) {
  const bool size = what == "bytes";
  if (verbose)
    for (auto& p : r.probes)
      std::fprintf(stderr, "  lambda %12.6g -> %s %.6g, %llu bytes%s\n", p.lambda, what.c_str(), p.value,
                   (unsigned long long)p.bytes, p.feasible ? " (meets the target)" : "");
  char line[400];
  if (!r.met) {
    double lo = r.lambda, hi = r.lambda;
    for (auto& p : r.probes) lo = std::min(lo, p.lambda), hi = std::max(hi, p.lambda);
    if (size)
      std::snprintf(line, sizeof line,
                    "the target of %.0f bytes cannot be met at any lambda: the smallest file found is %llu bytes "
                    "(lambda %.6g; %zu probes, lambda %.3g to %.3g)", target, (unsigned long long)r.bytes, r.lambda,
                    r.probes.size(), lo, hi);
    else
      std::snprintf(line, sizeof line,
                    "the target %s >= %.6g cannot be met at any lambda: the best %s found is %.6g at lambda %.6g "
                    "(%llu bytes; %zu probes, lambda %.3g to %.3g)", what.c_str(), target, what.c_str(), r.value,
                    r.lambda, (unsigned long long)r.bytes, r.probes.size(), lo, hi);
    throw Error(ErrorKind::argument, line);
  }
  if (size)
    std::fprintf(stderr, "rate control (target %.0f bytes): lambda %.6g, %llu bytes, %zu probes\n", target, r.lambda,
                 (unsigned long long)r.bytes, r.probes.size());
  else
    std::fprintf(stderr, "rate control (%s target %.6g): lambda %.6g, %s %.6g, %llu bytes, %zu probes\n",
                 what.c_str(), target, r.lambda, what.c_str(), r.value, (unsigned long long)r.bytes, r.probes.size());
}

static int run_compress(const std::vector<std::string>& args) {
  po::options_description opts("options");
  std::string input, output;
  double lambda = 1.0;
  int threads = 0;
  opts.add_options()
      ("input", po::value(&input)->required(), "HDF5 model file")
      ("output,o", po::value(&output), "output file (default: INPUT with .vbq)")
      ("lambda,l", po::value(&lambda)->default_value(1.0), "rate penalty: larger = smaller file (paper Eq. 9)")
      ("tensor,t", po::value<std::vector<std::string>>(), "compress only this tensor (repeatable)")
      ("mean", po::value<std::vector<std::string>>(), "explicit mapping: mean dataset path (repeatable)")
      ("std", po::value<std::vector<std::string>>(), "  ... with its std dataset")
      ("var", po::value<std::vector<std::string>>(), "  ... with its variance dataset")
      ("log-std", po::value<std::vector<std::string>>(), "  ... with its log-std dataset")
      ("rho", po::value<std::vector<std::string>>(), "  ... with its softplus rho dataset (std = log(1 + e^rho))")
      ("prior", po::value<std::string>()->default_value("gauss"),
       "prior fitted per tensor: gauss (paper: N(0, mean mu^2)), gauss-fit, laplace, student, mixture:K, empirical:K, "
       "or auto (tries gauss, laplace, student, mixture:4, empirical:16; keeps the smallest file at equal distortion)")
      ("refine", po::value<int>()->default_value(0), "entropy-aware refinement passes after Algorithm 1 (0 = paper)")
      ("one-table", "one frequency table per tensor, as in the paper (default: runs of blocks get their own)")
      ("coder", po::value<std::string>()->default_value("rans"),
       "entropy coder: rans (the paper's order-0 coding) or ctx (context-adaptive; container 4.1)")
      ("no-vocab", "do not store the vocabulary")
      ("target-size", po::value<std::string>(), "choose lambda so the file fits in SIZE (e.g. 12MB, 800KiB, 123456)")
      ("target-bits-per-dim", po::value<double>(), "choose lambda so the file has at most B bits per dimension")
      ("target-quality", po::value<std::string>(),
       "choose the largest lambda keeping METRIC >= F x uncompressed, e.g. hits10=0.95x or accuracy=0.99x "
       "(with --questions or --task; with --questions only the word tensor is compressed)")
      ("sigma", po::value<double>(),
       "point-estimate input (word2vec file, means-only HDF5): use this posterior std (see --sigma-from-counts)")
      ("sigma-from-counts", po::value<std::string>()->implicit_value("model"),
       "with --sigma: std of the most frequent word, others x sqrt(count_0 / count); counts from the model, "
       "a word2vec vocab file (word count per line), or zipf (count ~ 1/rank)")
      ("threads,T", po::value(&threads)->default_value(0), "worker threads (0 = all cores)")
      ("force,f", "overwrite the output file")
      ("verbose,v", "print the per-tensor report and every rate-control probe");
  add_task_options(opts, false);  // compress has its own --tensor
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_args(args, "compress", "MODEL.h5 [-o OUT.vbq] [--lambda L] [options]", opts, pos, vm)) return 0;
  if (output.empty()) output = std::filesystem::path(input).replace_extension(".vbq").string();
  check_can_overwrite(output, vm.count("force"));

  ReadOptions read;
  read.explicit_tensors = explicit_specs(vm);
  if (vm.count("tensor")) read.select = vm["tensor"].as<std::vector<std::string>>();
  CompressSettings settings;
  settings.vbq.lambda = lambda;
  settings.vbq.prior = vm["prior"].as<std::string>();
  settings.vbq.refine_passes = vm["refine"].as<int>();
  settings.vbq.block_tables = !vm.count("one-table");
  settings.vbq.coder = parse_entropy_coder(vm["coder"].as<std::string>());
  settings.vbq.threads = thread_count(threads);
  settings.include_vocab = !vm.count("no-vocab");

  auto start = std::chrono::steady_clock::now();
  if (!vm.count("sigma") && sniff_model_file(input) == ModelFileKind::other)
    throw Error(ErrorKind::format, input + ": not an HDF5 file (for a word2vec file of point estimates, "
                                           "give a posterior std: --sigma S [--sigma-from-counts zipf|FILE])");
  Model model = vm.count("sigma") ? load_means(input, read, settings.vbq.threads) : read_model(input, read);
  if (vm.count("sigma-from-counts") && !vm.count("sigma")) throw Error(ErrorKind::argument, "--sigma-from-counts needs --sigma");
  if (vm.count("sigma")) {
    const std::string from = vm.count("sigma-from-counts") ? vm["sigma-from-counts"].as<std::string>() : "";
    if (!from.empty() && from != "model" && from != "zipf") read_vocab_counts(from, model);
    assign_spread(model, vm["sigma"].as<double>(),
                  from.empty() ? SpreadRule::constant : from == "zipf" ? SpreadRule::zipf : SpreadRule::counts);
  }
  TaskSetup setup = setup_task(vm, model);
  Container container;
  if (vm.count("target-size") || vm.count("target-bits-per-dim")) {
    uint64_t elements = 0;
    for (auto& t : model.tensors) elements += t.size();
    uint64_t target = vm.count("target-size") ? parse_size(vm["target-size"].as<std::string>())
                                              : uint64_t(vm["target-bits-per-dim"].as<double>() * double(elements) / 8);
    RateControlled r = compress_model_to_size(model, settings, target);
    report_rate_control(r, "bytes", double(target), vm.count("verbose"));
    container = std::move(r.container);
    lambda = r.lambda;
  } else if (vm.count("target-quality")) {
    if (!setup.task) throw Error(ErrorKind::argument, "--target-quality needs --questions or --task");
    auto [metric, fraction] = parse_quality_target(vm["target-quality"].as<std::string>());
    std::vector<std::string> names = setup.task->metric_names();
    size_t m = std::find(names.begin(), names.end(), metric) - names.begin();
    if (m == names.size()) throw Error(ErrorKind::argument, "--target-quality: unknown metric '" + metric + "'");
    double full = setup.task->evaluate(model)[m];
    RateControlled r = compress_model_to_quality(model, *setup.task, metric, fraction * full, settings);
    std::fprintf(stderr, "uncompressed %s = %.4f, target %.4f\n", metric.c_str(), full, fraction * full);
    report_rate_control(r, metric, fraction * full, vm.count("verbose"));
    container = std::move(r.container);
    lambda = r.lambda;
  } else {
    container = compress_model(model, settings);
  }
  ContainerLayout layout;
  write_container(output, container, vm.count("force"), &layout);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  uint64_t elements = 0;
  for (auto& t : container.tensors) elements += t.element_count();
  if (vm.count("verbose")) std::fputs(describe_container(container, layout).c_str(), stderr);
  std::fprintf(stderr, "%s -> %s: %llu bytes, %.4f bits/dim, %zu tensor(s), lambda %g, %.2fs\n", input.c_str(),
               output.c_str(), (unsigned long long)layout.total_bytes, 8.0 * double(layout.total_bytes) / double(elements),
               container.tensors.size(), lambda, secs);
  return 0;
}

static CommandRegistrar reg("compress", "compress an HDF5 model to a .vbq file (VBQ, Algorithm 1)", run_compress);

}  // namespace vbq::cli
