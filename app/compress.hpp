// Compressing a model for a target: the one entry point of the application layer,
// and all of its rate control (choosing lambda instead of taking it by hand; beyond
// the paper).
//
// A target is exactly one of
//   LambdaTarget   the rate penalty itself (paper Eq. 9): no search
//   SizeTarget     the whole file (vocabulary included when stored) fits in `bytes`
//   BitsTarget     at most `bits_per_dim` bits per latent dimension: a SizeTarget
//                  of floor(bits_per_dim x dimensions / 8) bytes
//   QualityTarget  the decompressed model keeps quality >= fraction x quality of
//                  the uncompressed model; quality is the caller's function (a
//                  task metric of eval/), so app/ needs no evaluation code
// The search itself is lib's search_lambda (vbq/rate_control.hpp): bisection in
// log(lambda) on a predicate that is monotone in lambda up to noise.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "app/model_codec.hpp"
#include "vbq/rate_control.hpp"

namespace vbq {

struct LambdaTarget {
  double lambda = 1;
};
struct SizeTarget {
  uint64_t bytes = 0;
};
struct BitsTarget {
  double bits_per_dim = 0;
};
// quality(means) of a decompressed model (its tensors' means, the vocabulary of
// the original), larger = better.
using QualityFn = std::function<double(const Model& means)>;
struct QualityTarget {
  QualityFn quality;
  double fraction = 0;          // required: of quality(uncompressed model), in (0, inf)
  std::string name = "quality"; // the metric's name, for messages
};
using Target = std::variant<LambdaTarget, SizeTarget, BitsTarget, QualityTarget>;

// The result of compress(). A target that no lambda meets leaves `container`
// empty and describes the probe that came closest (the smallest file, the best
// quality reachable).
struct Compressed {
  Container container;
  bool met = false;
  double lambda = 0;
  uint64_t bytes = 0;         // whole file at lambda (0 for a LambdaTarget: not measured)
  std::string measured;       // what value is: "bytes", or the quality's name
  double value = 0;           // what was measured at lambda
  double target = 0;          // what the value had to reach: bytes (at most), or quality (at least)
  double uncompressed = 0;    // quality targets: quality of the uncompressed model
  std::vector<LambdaProbe> probes;  // every probe of the search, in order
  // One line: the lambda chosen and what it gives, or (not met) why no lambda
  // meets the target, naming the smallest file / best quality found and the
  // lambdas searched. Empty for a LambdaTarget.
  std::string report;
};

// Compresses every tensor of `model` (each needs sigma) with VBQ at the lambda the
// target asks for; settings.vbq.lambda is ignored. Search brackets: size targets
// from [1e-4, 1e8], stopping within 1% below the target; quality targets from
// [1e-3, 1e6] until the bracket is within 2% in lambda, grown towards full
// precision while the quality still improves. Quality is monotone in lambda only
// up to noise: the lambda found meets the target, but a larger one past a dip may
// meet it too. Throws ErrorKind::argument for an invalid target (bytes, bits or
// fraction not > 0, no quality function; lib checks lambda); an unmet target is
// not an error here (see require_met).
Compressed compress(const Model& model, const Target& target, const CompressSettings& settings);

// Takes r.container out of r; ErrorKind::argument with r.report when the target
// was not met.
Container require_met(Compressed& r);

// The probes of a search, one line each: "  lambda L -> <measured> V, B bytes".
std::string describe_probes(const Compressed& r);

// ---- targets from command-line text -----------------------------------------

// "12MB", "800KiB", "123456": bytes (K/M/G = 1000^n, Ki/Mi/Gi = 1024^n, B = 1).
uint64_t parse_size(const std::string& text);

// "hits10=0.95x" -> {"hits10", 0.95}.
struct QualitySpec {
  std::string metric;
  double fraction = 0;
};
QualitySpec parse_quality_spec(const std::string& text);

// The options of `vbq compress` that choose lambda; empty strings are not given.
struct TargetText {
  double lambda = 1;          // --lambda
  std::string size;           // --target-size
  std::string bits_per_dim;   // --target-bits-per-dim
  std::string quality;        // --target-quality METRIC=Fx
};
// The Target the options ask for (a LambdaTarget when no --target-* is given).
// quality_of(metric) supplies the quality function of a named metric; it may be
// empty when no quality task was set up (then --target-quality is an error).
// Throws ErrorKind::argument for unparsable text or more than one --target-*.
Target parse_target(const TargetText& text, const std::function<QualityFn(const std::string& metric)>& quality_of);

}  // namespace vbq
