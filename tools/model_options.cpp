#include "tools/model_options.hpp"

#include <cmath>
#include <sstream>

#include "vbq/error.hpp"

namespace vbq::cli {

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
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(std::stod(item));
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (out.empty()) throw bad();
  return out;
}

std::string embedding_tensor(const Model& model, const std::string& requested) {
  if (!requested.empty()) return requested;
  for (const char* name : {"word", "u"})
    if (model.find(name)) return name;
  if (model.tensors.size() == 1) return model.tensors[0].name;
  throw Error(ErrorKind::argument, "cannot tell which tensor holds the word vectors: use --tensor NAME");
}

void keep_top_words(Model& model, size_t rows) {
  const size_t vocab = model.vocab.size();
  if (rows == 0 || rows >= vocab) return;
  for (Tensor& t : model.tensors) {
    if (t.shape.empty() || t.shape[0] != vocab) continue;
    size_t row_size = t.size() / vocab;
    t.shape[0] = rows;
    t.mu.resize(rows * row_size);
    if (!t.sigma.empty()) t.sigma.resize(rows * row_size);
  }
  model.vocab.resize(rows);
  if (!model.counts.empty()) model.counts.resize(rows);
}

}  // namespace vbq::cli
