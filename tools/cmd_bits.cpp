// vbq bits: where VBQ spends its bits (paper Fig. 7), against uniform
// quantization at the same file size.
#include <cstdio>
#include <filesystem>

#include "eval/bit_allocation.hpp"
#include "formats/atomic_file.hpp"
#include "tools/command.hpp"
#include "tools/model_options.hpp"

namespace vbq::cli {

static int run_bits(const std::vector<std::string>& args) {
  po::options_description opts("options");
  std::string input, output, plot, prior;
  double lambda = 1;
  int refine = 0, threads = 0, top_words = 0;
  opts.add_options()
      ("input", po::value(&input)->required(), "model: HDF5 with posterior mean + std")
      ("lambda", po::value(&lambda)->default_value(1.0), "VBQ rate penalty")
      ("prior", po::value(&prior)->default_value("gauss"), "empirical prior (see vbq compress)")
      ("refine", po::value(&refine)->default_value(0), "entropy-aware refinement passes")
      ("tensor", po::value<std::vector<std::string>>(), "tensor to analyse (repeatable; default: all)")
      ("top-words", po::value(&top_words)->default_value(0), "keep the N most frequent words (0 = all)")
      ("output,o", po::value(&output)->required(), "CSV of the binned bits")
      ("plot", po::value(&plot), "plot (SVG; a PNG is written beside it)")
      ("threads,T", po::value(&threads)->default_value(0), "worker threads (0 = all cores)")
      ("force,f", "overwrite outputs");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_args(args, "bits", "MODEL --lambda L -o bits.csv [--plot bits.svg]", opts, pos, vm)) return 0;
  const bool force = vm.count("force");
  check_can_overwrite(output, force);
  if (!plot.empty()) check_can_overwrite(plot, force);
  ReadOptions read;
  if (vm.count("tensor")) read.select = vm["tensor"].as<std::vector<std::string>>();
  Model model = read_model(input, read);
  if (top_words > 0) keep_top_words(model, size_t(top_words));
  CompressSettings settings;
  settings.vbq.lambda = lambda;
  settings.vbq.prior = prior;
  settings.vbq.refine_passes = refine;
  settings.vbq.threads = thread_count(threads);
  BitAllocation a = analyze_bit_allocation(model, settings);
  write_bit_allocation_csv(output, a, force);
  std::printf("%swrote %s\n", bit_allocation_summary(a).c_str(), output.c_str());
  if (!plot.empty()) {
    plot_bit_allocation(plot, a, "where the bits go: " + std::filesystem::path(input).filename().string());
    std::printf("wrote %s and %s\n", plot.c_str(), std::filesystem::path(plot).replace_extension(".png").string().c_str());
  }
  return 0;
}

static CommandRegistrar reg("bits", "where VBQ spends its bits vs uniform quantization (by sigma, by word rank)", run_bits);

}  // namespace vbq::cli
