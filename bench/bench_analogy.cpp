// Times vbq::evaluate_analogies on a word2vec model or on random vectors.
//
//   bench_analogy [--model FILE] [--random V D] [--prototypes K] [--questions FILE]
//                 [--reps N] [--exclude] [--lowercase] [--seed S]
//                 [--vectors-out FILE] [--ranks-out FILE]
//
// Random mode (default V=100000, D=100): the vocabulary holds every word of the
// questions file (so all questions are covered) plus random filler tokens, in a
// seeded random order; vectors are N(0, 1). With --prototypes K every word gets
// one of K random vectors times a random scale, so many scores tie exactly (a
// stress test for tie handling). --vectors-out writes the model as word2vec
// binary and --ranks-out the rank of every covered question (one per line), for
// bench/analogy_vs_numpy.py. Prints one JSON line with the median of N runs.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <unordered_set>

#include "bench/timing.hpp"
#include "eval/analogy.hpp"
#include "formats/word2vec.hpp"
#include "vbq/error.hpp"

#include <omp.h>

namespace {

using vbq::bench::median;
using vbq::bench::now;
using vbq::bench::Stamp;

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "bench_analogy: %s\n", msg);
  std::exit(1);
}

vbq::WordVectors random_model(const vbq::AnalogySet& set, size_t V, size_t dim, size_t prototypes, uint64_t seed) {
  std::vector<std::string> words;
  std::unordered_set<std::string> seen;
  for (const auto& q : set.questions)
    for (const auto& w : q.words)
      if (seen.insert(w).second) words.push_back(w);
  if (words.size() > V) usage("--random V is smaller than the number of distinct question words");
  for (size_t i = 0; words.size() < V; ++i) {
    std::string tok = "tok" + std::to_string(i);
    if (seen.insert(tok).second) words.push_back(tok);
  }
  std::mt19937_64 rng(seed);
  std::shuffle(words.begin(), words.end(), rng);
  vbq::WordVectors wv;
  wv.vocab = std::move(words);
  wv.dim = dim;
  wv.vectors.resize(V * dim);
  std::normal_distribution<float> g(0.0f, 1.0f);
  if (prototypes == 0) {
    for (float& v : wv.vectors) v = g(rng);
  } else {
    std::vector<float> proto(prototypes * dim);
    for (float& v : proto) v = g(rng);
    std::uniform_int_distribution<size_t> pick(0, prototypes - 1);
    std::uniform_real_distribution<float> scale(0.5f, 2.0f);
    for (size_t i = 0; i < V; ++i) {
      const size_t p = pick(rng);
      const float s = scale(rng);
      for (size_t k = 0; k < dim; ++k) wv.vectors[i * dim + k] = s * proto[p * dim + k];
    }
  }
  return wv;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string model, questions, vectors_out, ranks_out;
  size_t V = 100000, dim = 100, prototypes = 0, reps = 3;
  uint64_t seed = 1;
  bool lowercase = false;
  vbq::AnalogyOptions options;
  if (const char* d = std::getenv("VBQ_DATA")) questions = std::string(d) + "/questions-words.txt";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--model") model = next();
    else if (a == "--random") { V = std::stoul(next()); dim = std::stoul(next()); }
    else if (a == "--prototypes") prototypes = std::stoul(next());
    else if (a == "--questions") questions = next();
    else if (a == "--reps") reps = std::max<size_t>(1, std::stoul(next()));
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--exclude") options.exclude_question_words = true;
    else if (a == "--lowercase") lowercase = true;
    else if (a == "--vectors-out") vectors_out = next();
    else if (a == "--ranks-out") ranks_out = next();
    else usage(("unknown option " + a).c_str());
  }
  if (questions.empty()) usage("no questions file: set VBQ_DATA or pass --questions");
  const vbq::AnalogySet set = vbq::read_analogy_questions(questions, lowercase);
  const vbq::WordVectors wv = model.empty() ? random_model(set, V, dim, prototypes, seed) : vbq::read_word2vec(model);
  if (!vectors_out.empty()) vbq::write_word2vec(vectors_out, wv, vbq::Word2VecFormat::binary, true);

  std::vector<double> seconds, cpu_seconds;
  vbq::AnalogyResult result;
  for (size_t r = 0; r < reps; ++r) {
    const Stamp t0 = now();
    result = vbq::evaluate_analogies(set, wv.vocab, wv.vectors, wv.dim, options);
    const Stamp t1 = now();
    cpu_seconds.push_back(t1.process_cpu - t0.process_cpu);  // all threads: meaningful on a busy machine
    seconds.push_back(t1.wall - t0.wall);
  }
  if (!ranks_out.empty()) {
    std::ofstream out(ranks_out);
    for (uint32_t r : result.ranks) out << r << '\n';
    if (!out) usage("cannot write --ranks-out file");
  }
  std::printf(
      "{\"V\": %zu, \"d\": %zu, \"prototypes\": %zu, \"exclude_question_words\": %s, \"threads\": %d, "
      "\"questions\": %zu, \"covered\": %zu, \"hits1\": %.6f, \"hits10\": %.6f, \"mrr\": %.6f, "
      "\"seconds_median\": %.4f, \"cpu_seconds_median\": %.4f, \"seconds\": [",
      wv.vocab.size(), wv.dim, prototypes, options.exclude_question_words ? "true" : "false", omp_get_max_threads(),
      result.overall.total, result.overall.covered, result.overall.hits1, result.overall.hits10, result.overall.mrr,
      median(seconds), median(cpu_seconds));
  for (size_t i = 0; i < seconds.size(); ++i) std::printf("%s%.4f", i ? ", " : "", seconds[i]);
  std::printf("]}\n");
  return 0;
} catch (const vbq::Error& e) {
  std::fprintf(stderr, "bench_analogy: %s: %s\n", vbq::kind_name(e.kind()), e.what());
  return vbq::exit_code(e.kind());
}
