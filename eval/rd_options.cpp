#include "eval/rd_options.hpp"

#include <cmath>
#include <sstream>

#include "vbq/error.hpp"

namespace vbq {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) items.push_back(item);
  return items;
}

std::vector<double> parse_number_list(const std::string& spec, const std::string& option) {
  auto bad = [&] { return Error(ErrorKind::argument, "--" + option + ": cannot parse '" + spec + "'"); };
  std::vector<double> out;
  try {
    size_t c1 = spec.find(':');
    if (c1 != std::string::npos) {
      size_t c2 = spec.find(':', c1 + 1);
      if (c2 == std::string::npos) throw bad();
      double lo = std::stod(spec.substr(0, c1)), hi = std::stod(spec.substr(c1 + 1, c2 - c1 - 1));
      int n = std::stoi(spec.substr(c2 + 1));
      if (!(lo > 0) || !(hi >= lo) || n < 1) throw bad();
      for (int i = 0; i < n; ++i) out.push_back(n == 1 ? lo : lo * std::pow(hi / lo, double(i) / (n - 1)));
      return out;
    }
    for (const std::string& item : split_list(spec)) out.push_back(std::stod(item));
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (out.empty()) throw bad();
  return out;
}

namespace {

std::vector<std::string> items(const std::string& list) {  // empty items dropped
  std::vector<std::string> out = split_list(list);
  std::erase(out, std::string());
  return out;
}

std::vector<int> integers(const std::string& spec, const char* option) {
  std::vector<int> out;
  for (double x : parse_number_list(spec, option)) out.push_back(int(std::lround(x)));
  return out;
}

}  // namespace

std::vector<double> rd_fractions_from_text(RdTaskKind kind, const std::optional<std::string>& fractions) {
  const std::vector<double> out = fractions ? parse_number_list(*fractions, "fractions") : default_rd_fractions(kind);
  for (double f : out)
    if (!(f > 0 && f <= 1)) throw Error(ErrorKind::argument, "--fractions: each fraction must be in (0, 1]");
  return out;
}

RdOptions rd_options_from_text(RdTaskKind kind, const RdOptionText& text) {
  RdOptions rd = default_rd_options(kind);
  if (text.lambdas == "paper") rd.lambdas = paper_lambdas();
  else if (text.lambdas != "default") rd.lambdas = parse_number_list(text.lambdas, "lambdas");
  if (text.grid == "paper") rd.grid_q_max = paper_grid();
  else if (text.grid != "default") rd.grid_q_max = integers(text.grid, "grid");
  if (text.kmeans == "none" || text.kmeans.empty()) rd.kmeans_k.clear();
  else if (text.kmeans != "default") rd.kmeans_k = integers(text.kmeans, "kmeans");
  if (text.baselines) {
    if (*text.baselines == "none") rd.grid_q_max.clear(), rd.kmeans_k.clear();
    else rd.baselines = items(*text.baselines);
  }
  rd.general_compressors = !text.no_general;
  const int refine = text.refine.value_or(0);
  if (text.variants && (text.priors || text.tables))
    throw Error(ErrorKind::argument, "give either --variants or --priors/--tables");
  if (text.priors || text.tables || text.refine)
    rd.variants = vbq_variants(items(text.priors.value_or("gauss")), refine, text.tables);
  if (text.variants) {
    rd.variants.clear();
    for (const std::string& label : items(*text.variants))
      rd.variants.push_back(parse_vbq_variant(label, refine > 0 ? refine : 3));
  }
  rd.refine_fractions = rd_fractions_from_text(kind, text.fractions);
  if (text.refine_rounds) rd.refine_rounds = *text.refine_rounds;
  if (rd.refine_rounds < 0) throw Error(ErrorKind::argument, "--refine-rounds must be >= 0");
  return rd;
}

}  // namespace vbq
