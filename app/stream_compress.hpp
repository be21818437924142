// Compressing an HDF5 model file straight into a .vbq file in bounded memory,
// and decompressing one into a chunked HDF5 file the same way (beyond the
// paper, whose encoder holds the model).
//
// compress_file_streaming reads the model in slices of whole blocks
// (row_block_symbols) and passes over each tensor's data twice:
//  1. the means alone, for the prior: sum mu^2 for the paper's N(0, mean mu^2)
//     (gauss-fit: one more pass for the mean), summed in element order exactly
//     as fit_gaussian_prior does; for student, mixture:K and empirical:K the
//     fixed subsample of at most 2^18 or 2^20 means that fit_prior fits anyway
//     (subsample_positions), so the prior is the in-memory encoder's;
//  2. means and stds: Algorithm 1 with the escape as a candidate, per slice,
//     with one Quantizer (tables) per tensor; each block's histogram of code
//     keys (block_histograms), from which plan_vbq_tensor builds the tensor's
//     alphabet, rare-code-point escapes and (block) frequency tables. Each key
//     goes to an unnamed scratch file as its index in its block's histogram
//     (1, 2 or 4 bytes, by the histogram's size), followed by the block's
//     escape candidates (block_escape_candidates: the few means that an escape
//     may need), so that Algorithm 1 runs once and the means are not read again.
// Then, from the scratch file alone, each block is encoded under the plan
// (encode_vbq_blocks) and appended to a second scratch file; the tensor's
// section is then written with the payload copied from it.
// The container's bytes are those of compress_model + write_container for the
// same settings (tests/test_stream_compress.cpp), so the format is unchanged.
// Memory: 16 bytes per element of a slice (means and stds as doubles; 4 more
// while float32 values are read and widened, on ReadOptions::threads) plus 12
// for its keys and indices (buffers kept from slice to slice), the per-block
// histograms (16 bytes per distinct key and block), the escaped means (8 bytes
// each), and O(1) per block for the jump table. Disk: 1-2 bytes per element of
// the largest tensor (8 more per escape candidate), beside the output.
#pragma once
#include <cstdint>
#include <string>

#include "app/model_codec.hpp"

namespace vbq {

struct StreamOptions {
  // Elements read and quantized at once, rounded down to whole blocks (at least
  // one): two default blocks, which two threads count and encode side by side.
  uint64_t slice_elements = uint64_t(1) << 21;
};

// Whether compress_file_streaming supports these settings: the priors gauss,
// gauss-fit, student, mixture:K and empirical:K, without refinement passes,
// levels F^{-1}(xi). laplace fits the exact median of every mean, auto encodes
// the whole tensor once per candidate prior, refinement revisits every element
// with the tensor's code-point table, and centroid levels go into the plan
// before the first block is coded; these need the tensor in memory (compress_model).
bool can_stream(const CompressSettings& settings);

// What compress_file_streaming wrote: the tensors without their blocks (enough
// for describe_container) and the file's layout.
struct StreamedFile {
  Container headers;
  ContainerLayout layout;
};

// Compresses the model at `input` (read as read_model(input, read) would, with
// its errors) into `output` (atomically; refuses an existing file unless force).
// Throws ErrorKind::argument unless can_stream(settings).
StreamedFile compress_file_streaming(const std::string& input, const ReadOptions& read, const std::string& output,
                                     bool force, const CompressSettings& settings, const StreamOptions& options = {});

// vbq decompress in bounded memory: the container at `input` (a MappedContainer)
// decoded a slice of whole blocks at a time (about 2^22 elements)
// into chunked HDF5 datasets at `output` (ModelSliceWriter; atomically), each
// mean where write_model puts it. Decoded values are restore_model's. The
// declared size is checked as restore_model checks it (check_decode_budget).
// Returns the container without its blocks (tensors, vocabulary).
Container decompress_file_streaming(const std::string& input, const std::string& output, bool force, int threads = 0);

}  // namespace vbq
