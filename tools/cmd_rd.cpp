// vbq rd: the rate-distortion sweep of the paper's Fig. 3 (VBQ against baselines).
#include <chrono>
#include <cmath>
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
  int threads = 0;
  opts.add_options()
      ("input", po::value(&input), "model: HDF5 with posterior mean + std")
      ("output,o", po::value(&output), "CSV of all R-D points")
      ("from-csv", po::value<std::string>(), "no sweep: summarise (and --plot) a CSV an earlier vbq rd wrote")
      ("plot", po::value(&plot), "Fig. 3-style plot (SVG; a PNG is written beside it)")
      ("lambdas", po::value<std::string>()->default_value("default"),
       "VBQ lambdas: default (analogies: paper; classifiers: 17 from 1e-3 to 10), paper (50 from 1e-2 to 1e5), "
       "a,b,c or lo:hi:n")
      ("grid", po::value<std::string>()->default_value("default"),
       "uniform grids q_max: default (analogies: paper; classifiers: 1..255), paper (1..1023), a,b,c or lo:hi:n")
      ("kmeans", po::value<std::string>()->default_value("default"),
       "k-means codebook sizes: default (analogies: none; classifiers: 2..256), none, a,b,c or lo:hi:n")
      ("variants", po::value<std::string>(),
       "VBQ variants, comma-separated labels vbq[+PRIOR][+refine][+tables][+ctx] (default: analogies vbq; classifiers "
       "vbq,vbq+refine,vbq+auto+refine,vbq+auto+refine+ctx), e.g. vbq,vbq+tables,vbq+auto+refine+tables (+refine: --refine passes, default 3)")
      ("priors", po::value<std::string>(), "instead of --variants: VBQ priors to sweep, comma-separated (gauss = paper)")
      ("refine", po::value<int>(), "with --priors: also sweep VBQ with N entropy-aware refinement passes")
      ("tables", "with --priors: also sweep each VBQ variant with block tables")
      ("baselines", po::value<std::string>(),
       "baselines to run, comma-separated, or none (default: all; k-means runs where --kmeans gives sizes): "
       "uniform+rans,uniform+ctx,uniform+gzip,uniform+bzip2,uniform+xz,uniform+lzma,uniform+zstd19,"
       "uniform+zstd22,kmeans+rans")
      ("no-general", "skip gzip/bzip2/xz/lzma/zstd (slow at their top levels)")
      ("fractions", po::value<std::string>(),
       "summary table: bits needed to keep these fractions of the uncompressed quality "
       "(default: analogies 0.5,0.75,0.9,0.95,0.975; classifiers 0.9,0.95,0.975,0.99)")
      ("refine-rounds", po::value<int>(),
       "rounds of adaptive refinement where a curve crosses a summary fraction (default: analogies 0, classifiers 3)")
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
  if (!plot.empty()) check_can_overwrite(plot, force);
  if (vm.count("from-csv")) {
    const std::string csv = vm["from-csv"].as<std::string>();
    RdResult result = read_rd_csv(csv);
    const bool analogy = result.metric_names[result.primary] == "hits10";
    const std::vector<double> fractions =
        vm.count("fractions") ? parse_number_list(vm["fractions"].as<std::string>(), "fractions")
                              : default_rd_fractions(analogy ? RdTaskKind::analogy : RdTaskKind::classifier);
    std::printf("%s", rd_summary(result, fractions).c_str());
    if (!plot.empty()) {
      plot_rd(plot, result, std::filesystem::path(csv).filename().string(), paper_csv, "paper", fractions);
      std::printf("wrote %s and %s\n", plot.c_str(),
                  std::filesystem::path(plot).replace_extension(".png").string().c_str());
    }
    return 0;
  }
  if (input.empty() || output.empty()) throw Error(ErrorKind::argument, "vbq rd needs MODEL and -o CSV (or --from-csv)");
  check_can_overwrite(output, force);

  const RdTaskKind kind = vm.count("questions") ? RdTaskKind::analogy : RdTaskKind::classifier;
  RdOptions rd = default_rd_options(kind);
  auto items = [](const std::string& list) {  // empty items dropped
    std::vector<std::string> out = split_list(list);
    std::erase(out, std::string());
    return out;
  };
  auto integers = [](const std::string& spec, const char* option) {
    std::vector<int> out;
    for (double x : parse_number_list(spec, option)) out.push_back(int(std::lround(x)));
    return out;
  };
  const std::string lambdas = vm["lambdas"].as<std::string>(), grid = vm["grid"].as<std::string>(),
                    kmeans = vm["kmeans"].as<std::string>();
  if (lambdas == "paper") rd.lambdas = paper_lambdas();
  else if (lambdas != "default") rd.lambdas = parse_number_list(lambdas, "lambdas");
  if (grid == "paper") rd.grid_q_max = paper_grid();
  else if (grid != "default") rd.grid_q_max = integers(grid, "grid");
  if (kmeans == "none" || kmeans.empty()) rd.kmeans_k.clear();
  else if (kmeans != "default") rd.kmeans_k = integers(kmeans, "kmeans");
  if (vm.count("baselines")) {
    const std::string b = vm["baselines"].as<std::string>();
    if (b == "none") rd.grid_q_max.clear(), rd.kmeans_k.clear();
    else rd.baselines = items(b);
  }
  rd.general_compressors = !vm.count("no-general");
  const int refine = vm.count("refine") ? vm["refine"].as<int>() : 0;
  if (vm.count("variants") && (vm.count("priors") || vm.count("tables")))
    throw Error(ErrorKind::argument, "give either --variants or --priors/--tables");
  if (vm.count("priors") || vm.count("tables") || vm.count("refine"))
    rd.variants = vbq_variants(items(vm.count("priors") ? vm["priors"].as<std::string>() : "gauss"), refine,
                               vm.count("tables") > 0);
  if (vm.count("variants")) {
    rd.variants.clear();
    for (const std::string& label : items(vm["variants"].as<std::string>()))
      rd.variants.push_back(parse_vbq_variant(label, refine > 0 ? refine : 3));
  }
  rd.threads = thread_count(threads);
  rd.progress = !vm.count("quiet");
  rd.keep_dir = keep;
  const std::vector<double> fractions = vm.count("fractions")
                                            ? parse_number_list(vm["fractions"].as<std::string>(), "fractions")
                                            : default_rd_fractions(kind);
  for (double f : fractions)
    if (!(f > 0 && f <= 1)) throw Error(ErrorKind::argument, "--fractions: each fraction must be in (0, 1]");
  rd.refine_fractions = fractions;
  if (vm.count("refine-rounds")) rd.refine_rounds = vm["refine-rounds"].as<int>();
  if (rd.refine_rounds < 0) throw Error(ErrorKind::argument, "--refine-rounds must be >= 0");

  Model model = read_model(input);
  TaskSetup setup = setup_task(vm, model);
  if (!setup.task) throw Error(ErrorKind::argument, "say what to measure: --questions FILE or --task fashion-mnist");
  std::string title = setup.description + ": " + std::filesystem::path(input).filename().string();

  const auto start = std::chrono::steady_clock::now();
  RdResult result = run_rd_sweep(model, *setup.task, rd);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_rd_csv(output, result, force);
  std::printf("%s", rd_summary(result, fractions).c_str());
  std::printf("wrote %s (%zu points, %.0f s)\n", output.c_str(), result.rows.size(), seconds);
  if (!plot.empty()) {
    plot_rd(plot, result, title, paper_csv, "paper", fractions);
    std::printf("wrote %s and %s\n", plot.c_str(),
                std::filesystem::path(plot).replace_extension(".png").string().c_str());
  }
  return 0;
}

static CommandRegistrar reg("rd", "rate-distortion sweep: VBQ variants vs uniform+rANS/gzip/bzip2/xz/zstd and k-means, CSV + plot", run_rd);

}  // namespace vbq::cli
