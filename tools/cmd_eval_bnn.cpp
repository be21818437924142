// vbq eval-bnn: test accuracy and log-likelihood of an MLP's posterior means.
#include <cstdio>
#include <fstream>

#include "eval/mlp.hpp"
#include "formats/hdf5_model.hpp"
#include "formats/idx.hpp"
#include "tools/command.hpp"
#include "vbq/error.hpp"

namespace {

// The model's means, from an HDF5 file or (later) a .vbq container.
vbq::Model load_means(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw vbq::Error(vbq::ErrorKind::io, "cannot open '" + path + "'");
  char magic[3] = {};
  f.read(magic, 3);
  if (f.gcount() == 3 && magic[0] == 'V' && magic[1] == 'B' && magic[2] == 'Q')
    // Hook for the container reader: decode the means here once it exists.
    throw vbq::Error(vbq::ErrorKind::unsupported,
                     "'" + path + "' is a .vbq container; eval-bnn does not read containers yet");
  vbq::ReadOptions ro;
  ro.require_spread = false;
  return vbq::read_model(path, ro);
}

int run(const std::vector<std::string>& args) {
  namespace po = vbq::cli::po;
  std::string model_path, data;
  int threads = 0;
  po::options_description opt("options");
  opt.add_options()
      ("model", po::value(&model_path)->required(), "model file (.h5)")
      ("data", po::value(&data)->default_value("/usr/share/datasets/fashion-mnist"),
       "directory with t10k-{images-idx3,labels-idx1}-ubyte[.gz]")
      ("threads", po::value(&threads)->default_value(0), "BLAS threads (0 = all cores)");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!vbq::cli::parse_args(args, "eval-bnn", "MODEL [--data DIR]", opt, pos, vm)) return 0;
  vbq::set_blas_threads(vbq::cli::thread_count(threads));
  vbq::Model model = load_means(model_path);
  vbq::Dataset test = vbq::load_mnist_split(data, "t10k");
  vbq::MlpScore s = vbq::evaluate_mlp(model, test);
  std::printf("test accuracy: %.2f%% (%zu examples)\n", 100.0 * s.accuracy, s.examples);
  std::printf("test log-likelihood: %.4f nats per example\n", s.log_likelihood);
  return 0;
}

vbq::cli::CommandRegistrar reg("eval-bnn", "test accuracy / log-likelihood of a Bayesian MLP's means", run);

}  // namespace
