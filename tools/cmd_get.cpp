// vbq get: one vector of a .vbq file, decoded alone (only the block holding it).
#include <cstdio>

#include "app/model_codec.hpp"
#include "tools/command.hpp"

namespace vbq::cli {

static int run_get(const std::vector<std::string>& args) {
  po::options_description opts("options");
  std::string input, key, tensor;
  opts.add_options()("input", po::value(&input)->required(), ".vbq file")(
      "key", po::value(&key)->required(), "a vocabulary word, or a row number")(
      "tensor", po::value(&tensor), "tensor to read (default: word, or the only tensor)")(
      "row", po::bool_switch(), "read KEY as a row number even if it is also a word");
  po::positional_options_description pos;
  pos.add("input", 1).add("key", 1);
  po::variables_map vm;
  if (!parse_args(args, "get", "MODEL.vbq ROW|WORD [--tensor NAME] [--row]", opts, pos, vm)) return 0;
  const MappedContainer file(input);  // only the row's blocks are read
  DecodedRow r = get_row(file, key, tensor, vm["row"].as<bool>(), input);
  // word2vec text style: the word (or row number), then the values.
  std::printf("%s", r.word.empty() ? std::to_string(r.row).c_str() : r.word.c_str());
  for (double v : r.values) std::printf(r.float32 ? " %.9g" : " %.17g", r.float32 ? double(float(v)) : v);
  std::printf("\n");
  return 0;
}

static CommandRegistrar reg("get", "print one row (a word's vector) of a .vbq file, decoding only its block", run_get);

}  // namespace vbq::cli
