// vbq info: what a .vbq file holds and where its bytes go.
#include <cstdio>

#include "app/model_codec.hpp"
#include "tools/command.hpp"

namespace vbq::cli {

static int run_info(const std::vector<std::string>& args) {
  po::options_description opts("options");
  std::string input;
  opts.add_options()("input", po::value(&input)->required(), ".vbq file");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_args(args, "info", "MODEL.vbq", opts, pos, vm)) return 0;
  ContainerLayout layout;
  const MappedContainer file(input, &layout);  // the blocks stay on disk
  std::printf("%s: vbq container %d.%d\n%s", input.c_str(), layout.major, layout.minor,
              describe_container(file.container(), layout).c_str());
  return 0;
}

static CommandRegistrar reg("info", "show tensors, priors, sizes and bits/dim of a .vbq file", run_info);

}  // namespace vbq::cli
