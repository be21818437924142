// Where the bits go (paper Fig. 7): VBQ at one lambda against uniform
// quantization + rANS at the grid whose file is closest in size, both as real
// containers. Each coordinate's cost is its code length under its file's table
// (element_code_lengths). Coordinates are binned by sigma / sigma0, sigma0 being
// the tensor's rms of mu (the width of the paper's prior); rows of tensors with
// one row per vocabulary word are binned by frequency rank (the row index:
// vocabularies are stored most frequent first).
#pragma once
#include <string>
#include <vector>

#include "app/model_codec.hpp"

namespace vbq {

struct BitBin {
  double lo = 0, hi = 0;      // bin edges on the x axis
  uint64_t count = 0;         // coordinates (or rows) in the bin
  double vbq = 0, uniform = 0;  // mean bits per coordinate (or per row)
};

struct BitAllocation {
  double lambda = 0;
  int q_max = 0;                        // the matched uniform grid
  uint64_t vbq_bytes = 0, uniform_bytes = 0;  // whole container files
  uint64_t dimensions = 0;
  std::vector<BitBin> by_sigma;         // x = sigma / sigma0
  std::vector<BitBin> by_rank;          // x = frequency rank (1-based); empty without a vocabulary
  uint64_t words = 0;                   // rows in the rank analysis
  double vbq_rare_share = 0, uniform_rare_share = 0;  // share of row bits on ranks > words / 2
};

// Requires sigma for every tensor. settings.include_vocab is ignored (no vocabulary is stored).
BitAllocation analyze_bit_allocation(const Model& model, CompressSettings settings);

// One CSV: "axis,lo,hi,count,vbq_bits,uniform_bits" rows for both analyses,
// after comment lines with the totals. Written atomically.
void write_bit_allocation_csv(const std::string& path, const BitAllocation& a, bool force);

// Bits per coordinate against sigma / sigma0, and bits per word against rank,
// each over grey bars of how many coordinates (words) the bin holds (log right axis).
void plot_bit_allocation(const std::string& svg_path, const BitAllocation& a, const std::string& title);

std::string bit_allocation_summary(const BitAllocation& a);

}  // namespace vbq
