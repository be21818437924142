// vbq compress: HDF5 model -> .vbq container.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "app/compress.hpp"
#include "app/stream_compress.hpp"
#include "formats/atomic_file.hpp"
#include "tools/command.hpp"
#include "tools/model_options.hpp"

namespace vbq::cli {

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
      ("prior", po::value<std::string>()->default_value("gauss"),
       "prior fitted per tensor: gauss (paper: N(0, mean mu^2)), wide:K (N(0, K^2 mean mu^2)), gauss-fit, laplace, "
       "student, mixture:K, empirical:K, "
       "or auto (tries gauss, laplace, student, mixture:4, empirical:16; keeps the smallest file at equal distortion)")
      ("refine", po::value<int>()->default_value(0), "entropy-aware refinement passes after Algorithm 1 (0 = paper)")
      ("one-table", "one frequency table per tensor, as in the paper (default: runs of blocks get their own)")
      ("coder", po::value<std::string>()->default_value("rans"),
       "entropy coder: rans (the paper's order-0 coding) or ctx (context-adaptive; container 4.1)")
      ("levels", po::value<std::string>()->default_value("inverse-cdf"),
       "what each code point decodes to, at no cost in bits: inverse-cdf (F^{-1}(xi), the paper's), centroid (the "
       "mean of the means coded to it) or wcentroid (the same weighted by 1/sigma^2, which lowers Algorithm 1's "
       "objective)")
      ("row-gains", "one gain per group of rows that gives the group back the norm of its means, undoing "
       "Algorithm 1's shrinkage towards the prior's median (about 0.008 bits per element; container 4.2)")
      ("center-columns", "code each mean minus the mean of its column (position within a row) and store the column "
       "means: uncertain coordinates move towards their column's mean, not the prior's median (container 4.3)")
      ("spread-power", po::value<double>()->default_value(1.0),
       "Algorithm 1 sees each sigma as g (sigma/g)^A, g the tensor's geometric mean of sigma: A in [0, 1], 1 = the "
       "posterior's own (paper); 0.6 suits sparse networks (docs/RESULTS.md)")
      ("no-vocab", "do not store the vocabulary")
      ("target-size", po::value<std::string>(), "choose lambda so the file fits in SIZE (e.g. 12MB, 800KiB, 123456)")
      ("target-bits-per-dim", po::value<std::string>(), "choose lambda so the file has at most B bits per dimension")
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
      ("verbose,v", "print the per-tensor report and every rate-control probe")
      ("quiet,q", "print nothing on success (errors still go to stderr)");
  add_explicit_tensor_options(opts);
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
  read.threads = thread_count(threads);
  const CompressSettings settings{{.lambda = lambda, .prior = vm["prior"].as<std::string>(), .refine_passes = vm["refine"].as<int>(),
                                   .block_tables = !vm.count("one-table"),
                                   .coder = parse_entropy_coder(vm["coder"].as<std::string>()),
                                   .levels = parse_level_rule(vm["levels"].as<std::string>()),
                                   .row_gains = vm.count("row-gains") > 0,
                                   .center_columns = vm.count("center-columns") > 0,
                                   .spread_power = vm["spread-power"].as<double>(),
                                   .threads = thread_count(threads)}, !vm.count("no-vocab"), {}};
  SpreadSource spread{vm.count("sigma") ? std::optional(vm["sigma"].as<double>()) : std::nullopt, ""};
  if (vm.count("sigma-from-counts")) spread.counts = vm["sigma-from-counts"].as<std::string>();
  auto text = [&](const char* option) { return vm.count(option) ? vm[option].as<std::string>() : ""; };
  auto start = std::chrono::steady_clock::now();
  const TargetText target_text{lambda, text("target-size"), text("target-bits-per-dim"), text("target-quality")};
  StreamedFile f;  // the tensors (without their blocks when streamed) and the file's layout
  if (can_stream(settings) && !spread.scale && !vm.count("questions") && !vm.count("task") &&
      std::holds_alternative<LambdaTarget>(parse_target(target_text, {}))) {
    f = compress_file_streaming(input, read, output, vm.count("force"), settings);  // bounded memory
  } else {
    Model model = load_posterior(input, read, spread, settings.vbq.threads);
    TaskSetup setup = setup_task(vm, model);
    Compressed r = compress(model, parse_target(target_text, task_metrics(setup)), settings);
    if (vm.count("verbose")) std::fputs(describe_probes(r).c_str(), stderr);
    f.headers = require_met(r);
    if (!r.report.empty() && !vm.count("quiet")) std::fprintf(stderr, "%s\n", r.report.c_str());
    write_container(output, f.headers, vm.count("force"), &f.layout);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t elements = 0;
  for (auto& t : f.headers.tensors) elements += t.element_count();
  if (vm.count("verbose")) std::fputs(describe_container(f.headers, f.layout).c_str(), stderr);
  if (!vm.count("quiet"))
    std::fprintf(stderr, "%s -> %s: %llu bytes, %.4f bits/dim, %zu tensor(s), lambda %g, %.2fs\n", input.c_str(),
                 output.c_str(), (unsigned long long)f.layout.total_bytes,
                 8.0 * f.layout.total_bytes / double(elements), f.headers.tensors.size(), f.headers.tensors[0].lambda,
                 secs);
  return 0;
}

static CommandRegistrar reg("compress", "compress an HDF5 model to a .vbq file (VBQ, Algorithm 1)", run_compress);

}  // namespace vbq::cli
