// Option helpers shared by the commands that score or sweep a model.
#pragma once
#include <string>
#include <vector>

#include "formats/hdf5_model.hpp"

namespace vbq::cli {

// "a,b,c" or "lo:hi:n" (n values log-spaced from lo to hi). Throws ErrorKind::argument.
std::vector<double> parse_number_list(const std::string& spec, const std::string& option);

// The embedding tensor to score: `requested` if set, else "word", else the paper's "u".
std::string embedding_tensor(const Model& model, const std::string& requested);

// Keeps the first `rows` rows of every tensor whose first dimension is the
// vocabulary size, and the first `rows` vocabulary words (frequency order).
void keep_top_words(Model& model, size_t rows);

}  // namespace vbq::cli
