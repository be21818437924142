#include "app/compress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "vbq/error.hpp"

namespace vbq {

namespace {

// compress_model at the lambda `search` finds, where `measure` judges each probe's
// container (value, feasible; bytes are filled in when it leaves them 0). Only the
// container of the lambda chosen is kept (re-encoded if a later probe replaced it).
Compressed search_and_compress(const Model& model, CompressSettings settings, const LambdaSearch& search,
                               const std::function<LambdaProbe(const Container&)>& measure) {
  Compressed out;
  double kept_lambda = 0;  // lambda of out.container
  auto probe = [&](double lambda) {
    settings.vbq.lambda = lambda;
    Container c = compress_model(model, settings);
    LambdaProbe p = measure(c);
    if (p.bytes == 0) p.bytes = serialize_container(c).size();
    if (p.feasible) out.container = std::move(c), kept_lambda = lambda;
    return p;
  };
  LambdaSearchResult r = search_lambda(probe, search);
  out.lambda = r.best.lambda, out.bytes = r.best.bytes, out.value = r.best.value, out.met = r.met;
  out.probes = std::move(r.probes);
  if (!out.met) out.container = {};
  else if (kept_lambda != out.lambda) settings.vbq.lambda = out.lambda, out.container = compress_model(model, settings);
  return out;
}

// The smallest lambda whose file fits in target_bytes, searched from [1e-4, 1e8]
// outwards as far as needed; stops within 1% below the target.
Compressed to_size(const Model& model, const CompressSettings& settings, uint64_t target_bytes) {
  LambdaSearch search;
  search.feasible_above = true;
  search.lo = 1e-4, search.hi = 1e8;
  search.tight_ratio = 1.0001;
  search.done = [&](const LambdaProbe& p) { return p.value >= 0.99 * double(target_bytes); };
  Compressed r = search_and_compress(model, settings, search, [&](const Container& c) {
    const uint64_t bytes = serialize_container(c).size();
    return LambdaProbe{0, double(bytes), bytes <= target_bytes, bytes};
  });
  r.target = double(target_bytes);
  return r;
}

// The largest lambda whose decompressed model keeps quality >= target.
Compressed to_quality(const Model& model, const CompressSettings& settings, const QualityFn& quality, double target) {
  LambdaSearch search;  // feasible below the boundary; grows down to full precision if needed
  search.feasible_above = false;
  search.lo = 1e-3, search.hi = 1e6;
  search.tight_ratio = 1.02;
  Compressed r = search_and_compress(model, settings, search, [&](const Container& c) {
    Model restored = restore_model(c, settings.vbq.threads);
    restored.vocab = model.vocab;
    const double q = quality(restored);
    return LambdaProbe{0, q, q >= target, 0};
  });
  r.target = target;
  return r;
}

std::string searched(const Compressed& r) {
  double lo = r.lambda, hi = r.lambda;
  for (const LambdaProbe& p : r.probes) lo = std::min(lo, p.lambda), hi = std::max(hi, p.lambda);
  char text[120];
  std::snprintf(text, sizeof text, "%zu probes, lambda %.3g to %.3g", r.probes.size(), lo, hi);
  return text;
}

void report_size(Compressed& r) {
  char line[400];
  if (r.met)
    std::snprintf(line, sizeof line, "rate control (target %.0f bytes): lambda %.6g, %llu bytes, %zu probes", r.target,
                  r.lambda, (unsigned long long)r.bytes, r.probes.size());
  else
    std::snprintf(line, sizeof line,
                  "the target of %.0f bytes cannot be met at any lambda: the smallest file found is %llu bytes "
                  "(lambda %.6g; %s)", r.target, (unsigned long long)r.bytes, r.lambda, searched(r).c_str());
  r.report = line;
}

void report_quality(Compressed& r, const QualityTarget& q) {
  const char* name = q.name.c_str();
  char line[600];
  if (r.met)
    std::snprintf(line, sizeof line,
                  "rate control (%s target %.6g = %g x uncompressed %.6g): lambda %.6g, %s %.6g, %llu bytes, "
                  "%zu probes", name, r.target, q.fraction, r.uncompressed, r.lambda, name, r.value,
                  (unsigned long long)r.bytes, r.probes.size());
  else
    std::snprintf(line, sizeof line,
                  "the target %s >= %.6g (%g x uncompressed %.6g) cannot be met at any lambda: the best %s found "
                  "is %.6g at lambda %.6g (%llu bytes; %s)", name, r.target, q.fraction, r.uncompressed, name,
                  r.value, r.lambda, (unsigned long long)r.bytes, searched(r).c_str());
  r.report = line;
}

}  // namespace

Compressed compress(const Model& model, const Target& target, const CompressSettings& settings) {
  if (const auto* l = std::get_if<LambdaTarget>(&target)) {
    CompressSettings s = settings;
    s.vbq.lambda = l->lambda;
    Compressed r;
    r.container = compress_model(model, s);
    r.met = true, r.lambda = l->lambda;
    return r;
  }
  if (const auto* q = std::get_if<QualityTarget>(&target)) {
    if (!q->quality) throw Error(ErrorKind::argument, "quality target '" + q->name + "': no quality function");
    if (!(q->fraction > 0) || !std::isfinite(q->fraction))
      throw Error(ErrorKind::argument, "quality target '" + q->name + "': the fraction must be a finite number > 0");
    const double full = q->quality(model);
    Compressed r = to_quality(model, settings, q->quality, q->fraction * full);
    r.uncompressed = full, r.measured = q->name;
    report_quality(r, *q);
    return r;
  }
  uint64_t bytes = 0;
  if (const auto* s = std::get_if<SizeTarget>(&target)) {
    if (s->bytes == 0) throw Error(ErrorKind::argument, "size target: the file size must be > 0 bytes");
    bytes = s->bytes;
  } else {
    const double bits = std::get<BitsTarget>(target).bits_per_dim;
    if (!(bits > 0) || !std::isfinite(bits))
      throw Error(ErrorKind::argument, "bits-per-dimension target: must be a finite number > 0");
    uint64_t elements = 0;
    for (const Tensor& t : model.tensors) elements += t.size();
    bytes = uint64_t(bits * double(elements) / 8);
  }
  Compressed r = to_size(model, settings, bytes);
  r.measured = "bytes";
  report_size(r);
  return r;
}

Container require_met(Compressed& r) {
  if (!r.met) throw Error(ErrorKind::argument, r.report);
  return std::move(r.container);
}

std::string describe_probes(const Compressed& r) {
  std::string out;
  char line[200];
  for (const LambdaProbe& p : r.probes) {
    std::snprintf(line, sizeof line, "  lambda %12.6g -> %s %.6g, %llu bytes%s\n", p.lambda, r.measured.c_str(), p.value,
                  (unsigned long long)p.bytes, p.feasible ? " (meets the target)" : "");
    out += line;
  }
  return out;
}

// ---- targets from command-line text -----------------------------------------

namespace {

// A number with an optional unit suffix: the value and what follows it ("" if none).
bool split_number(const std::string& text, double& value, std::string& rest) {
  size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::logic_error&) {
    return false;
  }
  rest = text.substr(used);
  return used > 0;
}

}  // namespace

uint64_t parse_size(const std::string& text) {
  double value = 0, scale = 0;
  std::string unit;
  const bool number = split_number(text, value, unit);
  for (auto [name, s] : {std::pair{"", 1.0}, {"B", 1.0}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"KiB", 1024.0},
                         {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}})
    if (unit == name) scale = s;
  if (!number || scale == 0 || !(value > 0) || !std::isfinite(value) || uint64_t(value * scale) == 0)
    throw Error(ErrorKind::argument, "--target-size: cannot parse '" + text + "' (e.g. 12MB, 800KiB, 123456)");
  return uint64_t(value * scale);
}

QualitySpec parse_quality_spec(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || text.back() != 'x')
    throw Error(ErrorKind::argument, "--target-quality: expected METRIC=Fx, e.g. hits10=0.95x (got '" + text + "')");
  double fraction = 0;
  std::string rest;
  if (!split_number(text.substr(eq + 1), fraction, rest) || rest != "x" || !(fraction > 0) || !std::isfinite(fraction))
    throw Error(ErrorKind::argument, "--target-quality: cannot parse '" + text + "': F must be a number > 0");
  return {text.substr(0, eq), fraction};
}

Target parse_target(const TargetText& text, const std::function<QualityFn(const std::string&)>& quality_of) {
  const int given = !text.size.empty() + !text.bits_per_dim.empty() + !text.quality.empty();
  if (given > 1)
    throw Error(ErrorKind::argument, "give one of --target-size, --target-bits-per-dim and --target-quality");
  if (!text.size.empty()) return SizeTarget{parse_size(text.size)};
  if (!text.bits_per_dim.empty()) {
    double bits = 0;
    std::string rest;
    if (!split_number(text.bits_per_dim, bits, rest) || !rest.empty() || !(bits > 0) || !std::isfinite(bits))
      throw Error(ErrorKind::argument, "--target-bits-per-dim: cannot parse '" + text.bits_per_dim +
                                           "' (a number of bits > 0, e.g. 1.5)");
    return BitsTarget{bits};
  }
  if (!text.quality.empty()) {
    const QualitySpec spec = parse_quality_spec(text.quality);
    if (!quality_of) throw Error(ErrorKind::argument, "--target-quality needs a quality task (--questions or --task)");
    return QualityTarget{quality_of(spec.metric), spec.fraction, spec.metric};
  }
  return LambdaTarget{text.lambda};
}

}  // namespace vbq
