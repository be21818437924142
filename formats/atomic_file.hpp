// AtomicOutput: write a file completely or not at all.
//
// Data goes to "<path>.tmp.<pid>" in the same directory; commit() flushes and
// renames it over <path>. If the object dies without commit() (error, Ctrl-C
// unwinding), the temporary is removed, so no partial output is ever left.
// Without `force`, an existing <path> is an ErrorKind::argument error raised by
// the constructor, before any work is done.
#pragma once
#include <string>
#include <string_view>

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
  // Appends bytes to the temporary file (for writers that stream their output).
  void append(const void* data, size_t size);
  // fsyncs and renames the temporary over path(). Throws ErrorKind::io.
  void commit();

 private:
  std::string path_, temp_;
  bool committed_ = false;
  int append_fd_ = -1;
};

// An unnamed scratch file in a directory (O_TMPFILE, else created and unlinked
// at once): it disappears when closed, even if the process is killed. For data
// too large to hold in memory that is written once and then read back in order.
class SpillFile {
 public:
  // owner: the output it serves, named in error messages.
  SpillFile(const std::string& directory, const std::string& owner);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  void append(const void* data, size_t size);
  uint64_t size() const { return size_; }
  // Reads size bytes at offset into data. Throws ErrorKind::io.
  void read(uint64_t offset, void* data, size_t size) const;
  void clear();  // back to empty

 private:
  std::string directory_, owner_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Throws ErrorKind::argument if `path` exists and !force.
void check_can_overwrite(const std::string& path, bool force);
// Whole file into memory. Throws ErrorKind::io naming the file.
std::string read_file_bytes(const std::string& path);

// A whole file mapped read-only, for readers that go through it once from front
// to back: release(piece) hands the pages that lie wholly inside `piece` back to
// the kernel, so resident memory stays bounded however large the file is.
// Throws ErrorKind::io naming the file (a directory included).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return {data_, size_}; }
  void release(std::string_view piece) const;

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vbq
