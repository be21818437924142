// vbq rd: the rate-distortion sweep of the paper's Fig. 3 (VBQ against baselines).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "eval/rd_options.hpp"
#include "formats/atomic_file.hpp"
#include "tools/command.hpp"
#include "tools/model_options.hpp"
#include "tools/progress.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {

static int run_rd(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i)  // --task vae: the image task of a VAE has its own command
    if (args[i] == "--task=vae" || (args[i] == "--task" && i + 1 < args.size() && args[i + 1] == "vae"))
      for (const Command& c : commands())
        if (c.name == "vae-rd") return c.run(args);
  po::options_description opts("options");
  std::string input, output, plot, paper_csv, keep;
  int threads = 0;
  RdOptionText text;
  opts.add_options()
      ("input", po::value(&input), "model: HDF5 with posterior mean + std")
      ("output,o", po::value(&output), "CSV of all R-D points")
      ("from-csv", po::value<std::string>(), "no sweep: summarise (and --plot) a CSV an earlier vbq rd wrote")
      ("plot", po::value(&plot), "Fig. 3-style plot (SVG; a PNG is written beside it)")
      ("paper-csv", po::value(&paper_csv), "overlay reference points (e.g. ../shared/data/paper-fig3-rd.csv)")
      ("keep-files", po::value(&keep), "keep every compressed file in this directory")
      ("threads,T", po::value(&threads)->default_value(0), "worker threads (0 = all cores)")
      ("force,f", "overwrite outputs")
      ("quiet,q", "no progress bar");
  add_rd_options(opts, text);
  add_task_options(opts);
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_args(args, "rd", "MODEL (--questions Q | --task fashion-mnist --data DIR | --task heldout-nll --corpus TEXT) -o rd.csv",
                  opts, pos, vm)) return 0;
  const bool force = vm.count("force");
  if (!plot.empty()) check_can_overwrite(plot, force);
  const bool from_csv = vm.count("from-csv");
  if (!from_csv && (input.empty() || output.empty()))
    throw Error(ErrorKind::argument, "vbq rd needs MODEL and -o CSV (or --from-csv)");
  if (!from_csv) check_can_overwrite(output, force);
  RdResult result;
  std::string title;
  const auto start = std::chrono::steady_clock::now();
  if (from_csv) {
    result = read_rd_csv(vm["from-csv"].as<std::string>());
    title = std::filesystem::path(vm["from-csv"].as<std::string>()).filename().string();
  } else {
    RdOptions rd = rd_options_from_text(task_kind(vm), text);
    rd.threads = thread_count(threads), rd.keep_dir = keep;
    std::unique_ptr<ProgressBar> bar;  // finishes its line before the summary
    if (!vm.count("quiet")) rd.on_progress = progress_callback(bar, "rd sweep");
    Model model = read_model(input);
    TaskSetup setup = setup_task(vm, model);
    if (!setup.task) throw Error(ErrorKind::argument, "say what to measure: --questions FILE or --task fashion-mnist|heldout-nll");
    title = setup.description + ": " + std::filesystem::path(input).filename().string();
    result = run_rd_sweep(model, *setup.task, rd);
    write_rd_csv(output, result, force);
  }
  const auto fractions = rd_fractions_from_text(rd_task_kind(result.metric_names[result.primary]), text.fractions);
  std::printf("%s", rd_summary(result, fractions).c_str());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!from_csv) std::printf("wrote %s (%zu points, %.0f s)\n", output.c_str(), result.rows.size(), seconds);
  if (!plot.empty()) {
    plot_rd(plot, result, title, paper_csv, "paper", fractions);
    std::printf("wrote %s and %s\n", plot.c_str(), std::filesystem::path(plot).replace_extension(".png").c_str());
  }
  return 0;
}

static CommandRegistrar reg("rd", "rate-distortion sweep: VBQ variants vs uniform+rANS/gzip/bzip2/xz/zstd and k-means, CSV + plot",
                            run_rd);

}  // namespace vbq::cli
