// vbq compress: HDF5 model -> .vbq container.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "formats/atomic_file.hpp"
#include "formats/model_codec.hpp"
#include "tools/command.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {

// Pairs --mean with the spread options, in the order given.
static std::vector<TensorSpec> explicit_specs(const po::variables_map& vm) {
  std::vector<TensorSpec> specs;
  auto means = vm.count("mean") ? vm["mean"].as<std::vector<std::string>>() : std::vector<std::string>{};
  std::vector<std::pair<std::string, Spread>> spreads;
  for (auto [opt, kind] : {std::pair{"std", Spread::std_dev}, {"var", Spread::variance}, {"log-std", Spread::log_std}})
    if (vm.count(opt))
      for (auto& p : vm[opt].as<std::vector<std::string>>()) spreads.push_back({p, kind});
  if (means.size() != spreads.size())
    throw Error(ErrorKind::argument, "each --mean needs exactly one --std, --var or --log-std (got " +
                                         std::to_string(means.size()) + " means, " + std::to_string(spreads.size()) +
                                         " spreads)");
  if (!means.empty() && vm.count("std") + vm.count("var") + vm.count("log-std") > 1)
    throw Error(ErrorKind::argument, "use one kind of spread option (--std, --var or --log-std) per call");
  for (size_t i = 0; i < means.size(); ++i) {
    std::string name = means[i];
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    specs.push_back({name, means[i], spreads[i].first, spreads[i].second});
  }
  return specs;
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
      ("prior", po::value<std::string>()->default_value("gauss"),
       "empirical prior per tensor: gauss = N(0, mean mu^2) as in the paper; gauss-fit = N(mean, var)")
      ("no-vocab", "do not store the vocabulary")
      ("threads,T", po::value(&threads)->default_value(0), "worker threads (0 = all cores)")
      ("force,f", "overwrite the output file")
      ("verbose,v", "print the per-tensor report");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_args(args, "compress", "MODEL.h5 [-o OUT.vbq] [--lambda L] [options]", opts, pos, vm)) return 0;
  if (output.empty()) output = std::filesystem::path(input).replace_extension(".vbq").string();
  check_can_overwrite(output, vm.count("force"));

  std::string prior = vm["prior"].as<std::string>();
  if (prior != "gauss" && prior != "gauss-fit")
    throw Error(ErrorKind::argument, "unknown --prior '" + prior + "' (gauss, gauss-fit)");
  ReadOptions read;
  read.explicit_tensors = explicit_specs(vm);
  if (vm.count("tensor")) read.select = vm["tensor"].as<std::vector<std::string>>();
  CompressSettings settings;
  settings.vbq.lambda = lambda;
  settings.vbq.fit_prior_mean = prior == "gauss-fit";
  settings.vbq.threads = thread_count(threads);
  settings.include_vocab = !vm.count("no-vocab");

  auto start = std::chrono::steady_clock::now();
  Model model = read_model(input, read);
  Container container = compress_model(model, settings);
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
