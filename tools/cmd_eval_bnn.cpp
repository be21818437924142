// vbq eval-bnn: test accuracy and log-likelihood of an MLP's posterior means.
#include <cstdio>

#include "eval/mlp.hpp"
#include "app/model_codec.hpp"
#include "formats/idx.hpp"
#include "tools/command.hpp"
#include "vbq/error.hpp"

namespace {

int run(const std::vector<std::string>& args) {
  namespace po = vbq::cli::po;
  std::string model_path, data;
  int threads = 0;
  po::options_description opt("options");
  opt.add_options()
      ("model", po::value(&model_path)->required(), "model: HDF5 or .vbq")
      ("data", po::value(&data)->default_value(vbq::cli::kFashionMnistDir),
       "directory with t10k-{images-idx3,labels-idx1}-ubyte[.gz]")
      ("threads", po::value(&threads)->default_value(0), "BLAS threads (0 = all cores)");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!vbq::cli::parse_args(args, "eval-bnn", "MODEL [--data DIR]", opt, pos, vm)) return 0;
  vbq::set_blas_threads(vbq::cli::thread_count(threads));
  vbq::Model model = vbq::load_means(model_path);
  vbq::Dataset test = vbq::load_mnist_split(data, "t10k");
  vbq::MlpScore s = vbq::evaluate_mlp(model, test);
  std::printf("test accuracy: %.2f%%\n", 100.0 * s.accuracy);
  std::printf("test examples: %zu\n", s.examples);
  std::printf("test log-likelihood: %.4f nats per example\n", s.log_likelihood);
  return 0;
}

vbq::cli::CommandRegistrar reg("eval-bnn", "test accuracy / log-likelihood of a Bayesian MLP's means", run);

}  // namespace
