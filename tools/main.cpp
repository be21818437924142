// vbq: compress trained Bayesian models with Variational Bayesian Quantization.
#include <omp.h>

#include <H5public.h>

#include <algorithm>
#include <csignal>
#include <new>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "eval/rd_options.hpp"
#include "tools/command.hpp"
#include "vbq/error.hpp"

namespace vbq::cli {

std::vector<Command>& commands() {
  static std::vector<Command> registry;
  return registry;
}

bool parse_args(const std::vector<std::string>& args, const std::string& name, const std::string& usage,
                const po::options_description& options, const po::positional_options_description& positional,
                po::variables_map& vm) {
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: vbq " << name << " " << usage << "\n\n" << all << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(ErrorKind::argument, std::string(e.what()) + " (see vbq " + name + " --help)");
  }
  return true;
}

int thread_count(int requested) {
  if (requested > 0) return requested;
  return std::max(1, omp_get_num_procs());
}

std::vector<std::string> split_list(const std::string& text) { return vbq::split_list(text); }

}  // namespace vbq::cli

// OpenBLAS' own call to stop its workers (as before a fork); a later BLAS call
// starts them again. Weak, so that vbq still links against a BLAS without it.
extern "C" __attribute__((weak)) int blas_thread_shutdown_(void);

// Whether the command line multiplies no matrices: decompress, info, get, and
// compress without a target or task option (all begin with --ta; any
// abbreviation of them too).
static bool multiplies_no_matrices(int argc, char** argv) {
  if (argc < 2) return false;
  const std::string command = argv[1];
  if (command == "decompress" || command == "info" || command == "get") return true;
  if (command != "compress") return false;
  for (int i = 2; i < argc; ++i)
    if (!std::strncmp(argv[i], "--ta", 4)) return false;
  return true;
}

// Results of the trainers and of the MLP evaluation depend on the gemm kernel
// OpenBLAS selects for the CPU (the AVX-512 and AVX2 kernels sum in different
// orders). OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded, so vbq
// re-executes itself once with Haswell's kernel (AVX2 + FMA) pinned, the kernel
// every script and measurement uses. A kernel set in the environment is kept.
// Commands that multiply no matrices skip that (~12 ms) and stop the worker
// OpenBLAS starts per core at load, which would otherwise spin for ~0.1 s beside
// the coder's own threads.
static void configure_blas(int argc, char** argv) {
  if (multiplies_no_matrices(argc, argv)) {
    if (blas_thread_shutdown_) blas_thread_shutdown_();
    return;
  }
  if (std::getenv("OPENBLAS_CORETYPE")) return;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  execv("/proc/self/exe", argv);  // returns only if that fails: go on with the CPU's kernel
}

static void print_usage() {
  auto cmds = vbq::cli::commands();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::printf("vbq %s: Variational Bayesian Quantization of trained Bayesian models\n\n", VBQ_VERSION_STRING);
  std::printf("usage: vbq <command> [options]   (vbq <command> --help for details)\n\ncommands:\n");
  for (auto& c : cmds) std::printf("  %-18s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf("\nexit codes: 0 ok, 1 bad arguments, 2 I/O error, 3 bad input format,\n"
              "            4 corrupt input, 5 unsupported, 130 interrupted\n");
}

int main(int argc, char** argv) {
  configure_blas(argc, argv);
  // A full disk or `ulimit -f` must surface as a write error (EFBIG), not a kill
  // that leaves a temporary file behind; and HDF5 must not run its cleanup at exit
  // after a failed close.
  std::signal(SIGXFSZ, SIG_IGN);
  H5dont_atexit();
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_usage();
    return argc < 2 ? 1 : 0;
  }
  if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "-V")) {
    std::printf("vbq %s\n", VBQ_VERSION_STRING);
    return 0;
  }
  std::string name = argv[1];
  for (auto& c : vbq::cli::commands()) {
    if (c.name != name) continue;
    int code = 0;
    try {
      code = c.run(std::vector<std::string>(argv + 2, argv + argc));
    } catch (const vbq::Error& e) {
      std::fprintf(stderr, "vbq %s: %s: %s\n", name.c_str(), vbq::kind_name(e.kind()), e.what());
      code = vbq::exit_code(e.kind());
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "vbq %s: out of memory\n", name.c_str());
      code = 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vbq %s: internal error: %s\n", name.c_str(), e.what());
      code = 70;
    }
    // Every output is complete and renamed (or removed) by now. Skip the exit
    // handlers: HDF5's C++ library registers its own (H5Library::termH5cpp,
    // not covered by H5dont_atexit), which crashes after a failed close.
    std::fflush(nullptr);
    std::_Exit(code);
  }
  std::fprintf(stderr, "vbq: unknown command '%s' (see vbq --help)\n", name.c_str());
  return 1;
}
