// vbq decompress: .vbq container -> HDF5 file of reconstructed means.
#include <cstdio>
#include <filesystem>

#include "formats/atomic_file.hpp"
#include "app/model_codec.hpp"
#include "app/stream_compress.hpp"
#include "tools/command.hpp"

namespace vbq::cli {

static int run_decompress(const std::vector<std::string>& args) {
  po::options_description opts("options");
  std::string input, output;
  int threads = 0;
  opts.add_options()
      ("input", po::value(&input)->required(), ".vbq file")
      ("output,o", po::value(&output), "output HDF5 file (default: INPUT with .restored.h5)")
      ("threads,T", po::value(&threads)->default_value(0), "worker threads (0 = all cores)")
      ("force,f", "overwrite the output file")
      ("quiet,q", "print nothing on success (errors still go to stderr)");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_args(args, "decompress", "MODEL.vbq [-o OUT.h5] [-f]", opts, pos, vm)) return 0;
  if (output.empty()) output = std::filesystem::path(input).replace_extension(".restored.h5").string();
  check_can_overwrite(output, vm.count("force"));
  // Block by block into chunked datasets: bounded memory (app/stream_compress.hpp).
  const Container c = decompress_file_streaming(input, output, vm.count("force"), thread_count(threads));
  if (!vm.count("quiet"))
    std::fprintf(stderr, "%s -> %s: %zu tensor(s), %zu vocabulary words\n", input.c_str(), output.c_str(),
                 c.tensors.size(), c.vocab.size());
  return 0;
}

static CommandRegistrar reg("decompress", "rebuild the posterior means of a .vbq file as HDF5", run_decompress);

}  // namespace vbq::cli
