// AtomicOutput: write a file completely or not at all.
//
// Data goes to "<path>.tmp.<pid>" in the same directory; commit() flushes and
// renames it over <path>. If the object dies without commit() (error, Ctrl-C
// unwinding), the temporary is removed, so no partial output is ever left.
// Without `force`, an existing <path> is an ErrorKind::argument error raised by
// the constructor, before any work is done.
#pragma once
#include <string>

namespace vbq {

class AtomicOutput {
 public:
  AtomicOutput(std::string path, bool force);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // Where to write (for libraries such as HDF5 that open files by name).
  const std::string& temp_path() const { return temp_; }
  const std::string& path() const { return path_; }
  // Writes all bytes to the temporary file (replacing its content).
  void write_all(const void* data, size_t size);
  // fsyncs and renames the temporary over path(). Throws ErrorKind::io.
  void commit();

 private:
  std::string path_, temp_;
  bool committed_ = false;
};

// Throws ErrorKind::argument if `path` exists and !force.
void check_can_overwrite(const std::string& path, bool force);
// Whole file into memory. Throws ErrorKind::io naming the file.
std::string read_file_bytes(const std::string& path);

}  // namespace vbq
