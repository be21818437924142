// The .vbq container: byte layout in formats/SPEC.md (binding; version 4.3).
//
// A container holds one or more EncodedTensors and, optionally, the vocabulary.
// Parsing checks every length against the bytes actually present before any
// allocation, verifies the checksum of each section (CRC-32C; CRC-32 in 1.x
// files; 1.x to 3.x files stay readable), and rejects an unknown major
// version. Errors name the file, the section/tensor and the byte offset.
// Writers write 4.0, 4.1 when a tensor is context-coded, 4.2 when a tensor has
// row-group gains, 4.3 when one has column means (the lowest version that
// decodes the file): the vbq
// reconstruction values travel in the file (formats/reference_decoder.py decodes
// it from the SPEC alone, bit for bit).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/atomic_file.hpp"
#include "vbq/codec.hpp"

namespace vbq {

inline constexpr uint8_t kContainerMajor = 4;
inline constexpr uint8_t kContainerMinor = 3;  // the newest this build writes and reads

struct Container {
  std::vector<EncodedTensor> tensors;
  std::vector<std::string> vocab;  // empty: no vocabulary section
  uint64_t source_bytes = 0;       // size of the bytes it was parsed from (0: built in memory)
};

// Per-section sizes of a serialized container, in bytes.
struct ContainerLayout {
  uint8_t major = kContainerMajor, minor = 0;  // format version of the file (4.1 with ctx, 4.2 with gains, 4.3 with column means)
  uint64_t header_bytes = 0, vocab_bytes = 0, total_bytes = 0;
  std::vector<uint64_t> tensor_bytes;  // whole tensor section, table and jump table included
  std::vector<uint64_t> table_bytes;   // the code-point table alone
};

std::string serialize_container(const Container& container, ContainerLayout* layout = nullptr);

// `source` names the file in error messages.
Container parse_container(std::string_view bytes, const std::string& source, ContainerLayout* layout = nullptr);

// True if the bytes start with the container's magic number.
bool looks_like_container(std::string_view first_bytes);

// File helpers: atomic write (refuses an existing file unless force), whole-file read.
void write_container(const std::string& path, const Container& container, bool force,
                     ContainerLayout* layout = nullptr);
Container read_container(const std::string& path, ContainerLayout* layout = nullptr);

// A container file decoded a few blocks at a time (vbq decompress): mapped, its
// checksums verified and its tensors parsed without their blocks on opening
// (read_container's errors), every page handed back to the kernel once read.
// Resident memory stays bounded by the blocks the caller holds, not by the file.
class MappedContainer {
 public:
  explicit MappedContainer(const std::string& path, ContainerLayout* layout = nullptr);
  // The tensors with empty symbols.blocks, and the vocabulary.
  const Container& container() const { return container_; }
  // A copy of block b of tensor `tensor`; its pages of the file are released.
  std::vector<uint8_t> block(size_t tensor, uint64_t b) const;

 private:
  MappedFile file_;
  Container container_;
  std::vector<std::vector<std::string_view>> blocks_;  // per tensor, into file_
};

// A container written to its file section by section, for encoders that never
// hold the whole file (app/stream_compress.hpp): the bytes of write_container for
// the same tensors and vocabulary. Output goes through AtomicOutput: nothing is
// left at `path` unless commit() runs.
class ContainerFileWriter {
 public:
  // context: some tensor is context-coded (the file is 4.1); vocab: a
  // vocabulary section will follow the tensors.
  ContainerFileWriter(const std::string& path, bool force, uint32_t tensor_count, bool context, bool vocab);
  ~ContainerFileWriter();
  // The next tensor section: t without its blocks (t.symbols.blocks unused),
  // block_bytes the length of each block, and their bytes concatenated, read by
  // payload(offset, data, size) in order from offset 0.
  using PayloadReader = std::function<void(uint64_t offset, char* data, size_t size)>;
  void add_tensor(const EncodedTensor& t, std::span<const uint64_t> block_bytes, const PayloadReader& payload);
  // Throws ErrorKind::argument unless the tensors and vocabulary promised were added.
  ContainerLayout commit(const std::vector<std::string>& vocab);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vbq
