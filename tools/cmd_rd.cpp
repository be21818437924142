// vbq rd: the rate-distortion sweep of the paper's Fig. 3 (VBQ against baselines).
#include <cstdio>
#include <filesystem>

#include "eval/rd.hpp"
#include "formats/atomic_file.hpp"
#include "formats/model_codec.hpp"
#include "tools/command.hpp"
#include "tools/model_options.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {

static int run_rd(const std::vector<std::string>& args) {
  po::options_description opts("options");
  std::string input, output, plot, paper_csv, keep;
  std::string lambdas_spec, grid_spec, kmeans_spec;
  int threads = 0;
  opts.add_options()
      ("input", po::value(&input)->required(), "model: HDF5 with posterior mean + std")
      ("output,o", po::value(&output)->required(), "CSV of all R-D points")
      ("plot", po::value(&plot), "Fig. 3-style plot (SVG; a PNG is written beside it)")
      ("lambdas", po::value(&lambdas_spec)->default_value("paper"), "VBQ lambdas: paper (50 from 1e-2 to 1e5), a,b,c or lo:hi:n")
      ("grid", po::value(&grid_spec)->default_value("paper"), "uniform grids q_max: paper (1..1023), a,b,c or lo:hi:n")
      ("kmeans", po::value(&kmeans_spec)->default_value(""), "k-means codebook sizes: a,b,c or lo:hi:n (default none)")
      ("priors", po::value<std::string>()->default_value("gauss"), "VBQ priors to sweep, comma-separated (gauss = paper)")
      ("refine", po::value<int>()->default_value(0), "also sweep VBQ with N entropy-aware refinement passes")
      ("tables", "also sweep each VBQ variant with block tables (frequency tables for runs of blocks)")
      ("variants", po::value<std::string>(),
       "VBQ variants instead of --priors/--tables, comma-separated labels vbq[+PRIOR][+refine][+tables], "
       "e.g. vbq,vbq+tables,vbq+auto+refine+tables (+refine: --refine passes, default 3)")
      ("no-general", "skip gzip/bzip2/xz/lzma/zstd (slow at their top levels)")
      ("ctx", "also every method's quantization coded by the context-adaptive coder (METHOD+ctx; "
              "bytes computed from the rANS file, see eval/rd.hpp)")
      ("fractions", po::value<std::string>()->default_value("0.5,0.75,0.9,0.95,0.975"),
       "summary table: bits needed to keep these fractions of the uncompressed quality")
      ("paper-csv", po::value(&paper_csv), "overlay reference points (e.g. ../shared/data/paper-fig3-rd.csv)")
      ("keep-files", po::value(&keep), "keep every compressed file in this directory")
      ("threads,T", po::value(&threads)->default_value(0), "worker threads (0 = all cores)")
      ("force,f", "overwrite outputs")
      ("quiet,q", "no progress bar");
  add_task_options(opts);
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_args(args, "rd", "MODEL (--questions Q | --task fashion-mnist --data DIR) -o rd.csv [--plot rd.svg]",
                  opts, pos, vm))
    return 0;
  bool force = vm.count("force");
  check_can_overwrite(output, force);
  if (!plot.empty()) check_can_overwrite(plot, force);

  RdOptions rd;
  rd.lambdas = lambdas_spec == "paper" ? paper_lambdas() : parse_number_list(lambdas_spec, "lambdas");
  if (grid_spec == "paper") rd.grid_q_max = paper_grid();
  else
    for (double q : parse_number_list(grid_spec, "grid")) rd.grid_q_max.push_back(int(std::lround(q)));
  if (!kmeans_spec.empty())
    for (double k : parse_number_list(kmeans_spec, "kmeans")) rd.kmeans_k.push_back(int(std::lround(k)));
  rd.general_compressors = !vm.count("no-general");
  rd.context_coder = vm.count("ctx") > 0;
  auto items = [](const std::string& list) {  // empty items dropped
    std::vector<std::string> out = split_list(list);
    std::erase(out, std::string());
    return out;
  };
  const int refine = vm["refine"].as<int>();
  rd.variants = vbq_variants(items(vm["priors"].as<std::string>()), refine, vm.count("tables") > 0);
  if (vm.count("variants")) {
    rd.variants.clear();
    for (const std::string& label : items(vm["variants"].as<std::string>()))
      rd.variants.push_back(parse_vbq_variant(label, refine > 0 ? refine : 3));
  }
  rd.threads = thread_count(threads);
  rd.progress = !vm.count("quiet");
  rd.keep_dir = keep;
  const std::vector<double> fractions = parse_number_list(vm["fractions"].as<std::string>(), "fractions");
  for (double f : fractions)
    if (!(f > 0 && f <= 1)) throw Error(ErrorKind::argument, "--fractions: each fraction must be in (0, 1]");

  Model model = read_model(input);
  TaskSetup setup = setup_task(vm, model);
  if (!setup.task) throw Error(ErrorKind::argument, "say what to measure: --questions FILE or --task fashion-mnist");
  std::string title = setup.description + ": " + std::filesystem::path(input).filename().string();

  RdResult result = run_rd_sweep(model, *setup.task, rd);
  write_rd_csv(output, result, force);
  std::printf("%s", rd_summary(result, fractions).c_str());
  std::printf("wrote %s (%zu points)\n", output.c_str(), result.rows.size());
  if (!plot.empty()) {
    plot_rd(plot, result, title, paper_csv);
    std::printf("wrote %s and %s\n", plot.c_str(),
                std::filesystem::path(plot).replace_extension(".png").string().c_str());
  }
  return 0;
}

static CommandRegistrar reg("rd", "rate-distortion sweep: VBQ vs uniform+rANS/gzip/bzip2/xz/zstd, CSV + plot", run_rd);

}  // namespace vbq::cli
