// vbq train-vae: train the VAE of paper Sec. 4.2 on (Fashion-)MNIST and write it as HDF5.
#include <cstdio>

#include "tools/progress.hpp"
#include "formats/atomic_file.hpp"
#include "formats/hdf5_model.hpp"
#include "tools/command.hpp"
#include "tools/training.hpp"
#include "train/vae.hpp"

namespace {

int run(const std::vector<std::string>& args) {
  namespace po = vbq::cli::po;
  std::string data, out, likelihood;
  vbq::VaeConfig cfg;
  int threads = 0;
  po::options_description opt("options");
  opt.add_options()
      ("data", po::value(&data)->default_value(vbq::cli::kFashionMnistDir),
       "directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]")
      ("output,o", po::value(&out)->required(), "output HDF5 model")
      ("latent", po::value(&cfg.latent)->default_value(cfg.latent), "latent dimensions L")
      ("hidden", po::value(&cfg.hidden)->default_value(cfg.hidden), "hidden width of encoder and decoder")
      ("epochs", po::value(&cfg.epochs)->default_value(cfg.epochs), "passes over the training set")
      ("batch", po::value(&cfg.batch)->default_value(cfg.batch), "minibatch size")
      ("lr", po::value(&cfg.lr)->default_value(cfg.lr, vbq::cli::default_text(cfg.lr)), "Adam learning rate (peak, cosine decay)")
      ("likelihood", po::value(&likelihood)->default_value(vbq::vae_likelihood_name(cfg.likelihood)),
       "gauss: N(x; sigmoid(a), v) per pixel with fixed variance v; bernoulli: cross-entropy on grey levels")
      ("likelihood-var", po::value(&cfg.likelihood_var)->default_value(cfg.likelihood_var, vbq::cli::default_text(cfg.likelihood_var)),
       "v of the gauss likelihood: smaller = sharper reconstructions, more bits in the latents")
      ("beta", po::value(&cfg.beta)->default_value(cfg.beta, vbq::cli::default_text(cfg.beta)),
       "weight of the KL term (1 = the ELBO; > 1 collapses more latent dimensions)")
      ("threads", po::value(&threads)->default_value(0), "BLAS threads (0 = all cores)")
      ("seed", po::value(&cfg.seed)->default_value(1), "random seed")
      ("force,f", "overwrite the output file");
  po::variables_map vm;
  if (!vbq::cli::parse_args(args, "train-vae", "-o VAE.h5 [options]", opt, {}, vm)) return 0;
  const bool force = vm.count("force") > 0;
  cfg.likelihood = vbq::parse_vae_likelihood(likelihood);
  cfg.threads = vbq::cli::thread_count(threads);
  vbq::check_can_overwrite(out, force);  // fail before minutes of training, not after

  vbq::Dataset train = vbq::load_mnist_split(data, "train");
  vbq::Dataset test = vbq::load_mnist_split(data, "t10k");
  const vbq::cli::CtrlC ctrl_c;
  const size_t batches = (train.rows + cfg.batch - 1) / cfg.batch;
  vbq::ProgressBar bar("train-vae", double(cfg.epochs) * double(batches));
  double sum = 0, seen = 0;
  cfg.on_batch = [&](int epoch, size_t b, size_t size, const vbq::VaeLoss& l) {
    if (b == 0) sum = seen = 0;
    sum += (l.rec + l.kl) * double(size), seen += double(size);
    char status[96];
    std::snprintf(status, sizeof status, "epoch %d/%d -elbo %.2f kl %.2f", epoch + 1, cfg.epochs, sum / seen, l.kl);
    bar.update(double(epoch) * double(batches) + double(b + 1), status);
  };
  vbq::VaeResult r = vbq::train_vae(train, &test, cfg, &ctrl_c.token());
  bar.finish();
  vbq::write_model(out, r.model, force);
  std::printf("trained VAE %s in %.1f s (%d threads)\n", r.model.attributes["architecture"].c_str(),
              r.train_seconds, cfg.threads);
  std::printf("test ELBO: %.2f nats per image (-ELBO = reconstruction %.2f + KL %.2f; likelihood %s, beta %g)\n",
              -r.test.objective, r.test.rec, r.test.kl, likelihood.c_str(), cfg.beta);
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

vbq::cli::CommandRegistrar reg("train-vae", "train a VAE (paper Sec. 4.2) on Fashion-MNIST for image coding", run);

}  // namespace
