// Subcommand registry of the `vbq` command (git-style: `vbq <command> [options]`).
//
// Each tools/cmd_*.cpp registers itself with a static CommandRegistrar. A command
// parses its options, calls one library function, prints its result, and returns
// an exit code; vbq::Error escaping from it is mapped to exit_code(kind) by main.
#pragma once
#include <boost/program_options.hpp>
#include <functional>
#include <string>
#include <vector>

namespace vbq::cli {

// Where Debian's dataset-fashion-mnist puts the idx files: the default --data.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

using CommandFn = std::function<int(const std::vector<std::string>& args)>;

struct Command {
  std::string name, summary;
  CommandFn run;
};

std::vector<Command>& commands();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string summary, CommandFn run) {
    commands().push_back({std::move(name), std::move(summary), std::move(run)});
  }
};

namespace po = boost::program_options;

// Parses args against `options` (+ `positional`), handling --help: prints
// "usage: vbq <name> <usage>" and the options, and returns false when the caller
// should exit 0. Throws ErrorKind::argument on unknown or malformed options.
bool parse_args(const std::vector<std::string>& args, const std::string& name, const std::string& usage,
                const po::options_description& options, const po::positional_options_description& positional,
                po::variables_map& vm);

// Number of worker threads: --threads N if given (> 0), else all cores.
int thread_count(int requested);

// The items of a comma-separated option value, empty ones included ("a,,b" ->
// a, "", b); a trailing comma adds none.
std::vector<std::string> split_list(const std::string& text);

}  // namespace vbq::cli
