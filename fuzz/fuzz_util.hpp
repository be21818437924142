// Helpers shared by the libFuzzer targets: the readers under test take a path,
// so inputs go to a per-process file in /dev/shm (tmpfs: no disk traffic).
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace vbq::fuzz {

// A file removed when the process exits normally (libFuzzer ends with exit()).
struct ScratchFile {
  std::string path;
  ~ScratchFile() { ::unlink(path.c_str()); }
};

// Writes the input to one reusable file; returns its path.
inline const std::string& write_input(const uint8_t* data, size_t size, const char* tag) {
  static const ScratchFile file{std::string("/dev/shm/vbq-fuzz-") + tag + "-" + std::to_string(::getpid())};
  const std::string& path = file.path;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) std::abort();
  return path;
}

}  // namespace vbq::fuzz
