// vbq train-bnn: train a Bayesian MLP on (Fashion-)MNIST and write it as HDF5.
#include <cstdio>

#include "formats/atomic_file.hpp"
#include "formats/hdf5_model.hpp"
#include "formats/idx.hpp"
#include "tools/command.hpp"
#include "tools/training.hpp"
#include "train/attributes.hpp"
#include "vbq/error.hpp"

namespace {

int run(const std::vector<std::string>& args) {
  namespace po = vbq::cli::po;
  std::string data, out, hidden, prior;
  vbq::BnnConfig cfg;
  int threads = 0;
  po::options_description opt("options");
  opt.add_options()
      ("data", po::value(&data)->default_value(vbq::cli::kFashionMnistDir),
       "directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]")
      ("output,o", po::value(&out)->required(), "output HDF5 model")
      ("hidden", po::value(&hidden)->default_value("400,400"), "hidden layer widths, comma separated")
      ("epochs", po::value(&cfg.epochs)->default_value(cfg.epochs), "passes over the training set")
      ("batch", po::value(&cfg.batch)->default_value(cfg.batch), "minibatch size")
      ("lr", po::value(&cfg.lr)->default_value(cfg.lr, vbq::cli::default_text(cfg.lr)), "Adam learning rate (peak)")
      ("constant-lr", "keep the learning rate constant (default: cosine decay to 0 over the run)")
      ("prior", po::value(&prior)->default_value(vbq::bnn_prior_name(cfg.prior.kind)),
       "prior on every weight and bias: gauss = N(0, prior-std^2); log-uniform = p(|w|) ~ 1/|w| "
       "(sparse variational dropout, Molchanov et al. 2017, KL by their fit, up to the improper "
       "prior's constant: weights the data do not need get sigma >> |mu|, mu -> 0)")
      ("prior-std", po::value(&cfg.prior.std)->default_value(cfg.prior.std, vbq::cli::default_text(cfg.prior.std)),
       "std of the gauss prior")
      ("init-log-std", po::value(&cfg.init_log_std)->default_value(cfg.init_log_std, vbq::cli::default_text(cfg.init_log_std)),
       "initial posterior log std")
      ("kl-weight", po::value(&cfg.kl_weight)->default_value(cfg.kl_weight, vbq::cli::default_text(cfg.kl_weight)),
       "weight of the KL term: 1 = the exact ELBO; < 1 = a tempered (cold) posterior, recorded "
       "in the file. The printed ELBO always uses weight 1")
      ("kl-warmup", po::value(&cfg.kl_warmup_epochs)->default_value(cfg.kl_warmup_epochs,
                                                                   vbq::cli::default_text(cfg.kl_warmup_epochs)),
       "epochs over which the KL weight ramps linearly from 0 to --kl-weight (tempering during "
       "warm-up only; the remaining epochs optimize the ELBO)")
      ("reference-mlp", "also train a deterministic MLP of the same shape on the same data, epochs "
       "and learning-rate schedule, and print its test accuracy (not written)")
      ("threads", po::value(&threads)->default_value(0), "BLAS threads (0 = all cores; 1 = reproducible)")
      ("seed", po::value(&cfg.seed)->default_value(1), "random seed")
      ("force,f", "overwrite the output file")
      ("verbose,v", "print one line per epoch (loss, -ELBO, train and test accuracy)");
  po::variables_map vm;
  if (!vbq::cli::parse_args(args, "train-bnn", "-o MODEL.h5 [options]", opt, {}, vm)) return 0;
  const bool force = vm.count("force") > 0;
  cfg.hidden = vbq::cli::parse_hidden(hidden);
  cfg.prior.kind = vbq::parse_bnn_prior(prior);
  cfg.cosine_lr = vm.count("constant-lr") == 0;
  cfg.threads = vbq::cli::thread_count(threads);
  vbq::check_can_overwrite(out, force);  // fail before minutes of training, not after

  vbq::Dataset train = vbq::load_mnist_split(data, "train");
  vbq::Dataset test = vbq::load_mnist_split(data, "t10k");
  const vbq::cli::CtrlC ctrl_c;
  vbq::BnnResult r = vbq::cli::train_bnn_reporting(train, test, cfg, vm.count("verbose") > 0, ctrl_c.token());
  vbq::write_model(out, r.model, force);
  std::printf("trained %s in %.1f s (%d threads)\n", r.model.attributes[vbq::bnn_keys::kArchitecture].c_str(), r.train_seconds,
              cfg.threads);
  std::printf("ELBO per training example: %.4f nats (-ELBO = nll %.4f + KL/N %.4f; KL weight %s, prior %s)\n",
              -r.neg_elbo, r.last_epoch.nll, r.last_epoch.kl / double(train.rows),
              r.model.attributes[vbq::bnn_keys::kKlWeight].c_str(), prior.c_str());
  std::printf("test accuracy: %.2f%% (posterior means)\n", 100.0 * r.test.accuracy);
  std::printf("test log-likelihood: %.4f nats per example\n", r.test.log_likelihood);
  std::printf("wrote %s\n", out.c_str());
  if (vm.count("reference-mlp")) {
    vbq::BnnConfig ref = cfg;
    ref.deterministic = true;
    vbq::BnnResult m = vbq::cli::train_bnn_reporting(train, test, ref, vm.count("verbose") > 0, ctrl_c.token());
    std::printf("reference MLP test accuracy: %.2f%% (deterministic, same shape, data, epochs, lr; %.1f s)\n",
                100.0 * m.test.accuracy, m.train_seconds);
  }
  return 0;
}

vbq::cli::CommandRegistrar reg("train-bnn", "train a Bayesian MLP (Bayes by Backprop) on Fashion-MNIST", run);

}  // namespace
