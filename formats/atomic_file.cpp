#include "formats/atomic_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "vbq/error.hpp"

namespace vbq {

static Error io_error(const std::string& what, const std::string& path) {
  return Error(ErrorKind::io, what + " '" + path + "': " + std::strerror(errno));
}

void check_can_overwrite(const std::string& path, bool force) {
  struct stat st;
  if (!force && ::stat(path.c_str(), &st) == 0)
    throw Error(ErrorKind::argument, "output file '" + path + "' already exists (use -f to overwrite)");
}

AtomicOutput::AtomicOutput(std::string path, bool force) : path_(std::move(path)) {
  check_can_overwrite(path_, force);
  temp_ = path_ + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw io_error("cannot create output file", path_);
  ::close(fd);
}

// Writes all of data to fd; false (errno set) on failure.
static bool write_fully(int fd, const char* p, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= size_t(n);
  }
  return true;
}

AtomicOutput::~AtomicOutput() {
  if (append_fd_ >= 0) ::close(append_fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicOutput::append(const void* data, size_t size) {
  if (append_fd_ < 0) append_fd_ = ::open(temp_.c_str(), O_WRONLY | O_APPEND);
  if (append_fd_ < 0) throw io_error("cannot open temporary output for", path_);
  if (!write_fully(append_fd_, static_cast<const char*>(data), size)) throw io_error("cannot write", path_);
}

SpillFile::SpillFile(const std::string& directory, const std::string& owner)
    : directory_(directory.empty() ? "." : directory), owner_(owner) {
#ifdef O_TMPFILE
  fd_ = ::open(directory_.c_str(), O_TMPFILE | O_RDWR, 0600);
#endif
  if (fd_ < 0) {  // file systems without O_TMPFILE
    std::string name = directory_ + "/.vbq-spill-XXXXXX";
    fd_ = ::mkstemp(name.data());
    if (fd_ >= 0) ::unlink(name.c_str());
  }
  if (fd_ < 0) throw io_error("cannot create a scratch file for", owner_);
}

SpillFile::~SpillFile() { ::close(fd_); }

void SpillFile::append(const void* data, size_t size) {
  if (::lseek(fd_, off_t(size_), SEEK_SET) < 0 || !write_fully(fd_, static_cast<const char*>(data), size))
    throw io_error("cannot write the scratch file for", owner_);
  size_ += size;
}

void SpillFile::read(uint64_t offset, void* data, size_t size) const {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::pread(fd_, p, size, off_t(offset));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) errno = EIO;
      throw io_error("cannot read back the scratch file for", owner_);
    }
    p += n, offset += uint64_t(n), size -= size_t(n);
  }
}

void SpillFile::clear() {
  if (::ftruncate(fd_, 0) != 0) throw io_error("cannot truncate the scratch file for", owner_);
  size_ = 0;
}

void AtomicOutput::write_all(const void* data, size_t size) {
  int fd = ::open(temp_.c_str(), O_WRONLY | O_TRUNC);
  if (fd < 0) throw io_error("cannot open temporary output for", path_);
  if (!write_fully(fd, static_cast<const char*>(data), size)) {
    Error e = io_error("cannot write", path_);
    ::close(fd);
    throw e;
  }
  if (::close(fd) != 0) throw io_error("cannot write", path_);
}

void AtomicOutput::commit() {
  if (append_fd_ >= 0) {
    const int fd = append_fd_;
    append_fd_ = -1;
    if (::close(fd) != 0) throw io_error("cannot write", path_);
  }
  int fd = ::open(temp_.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) throw io_error("cannot rename temporary file to", path_);
  committed_ = true;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("cannot open", path);
  if (std::filesystem::is_directory(path)) {  // ifstream opens a directory, then reads nothing
    errno = EISDIR;
    throw io_error("cannot read", path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw io_error("cannot read", path);
  return std::move(ss).str();
}

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw io_error("cannot open", path);
  struct stat st;
  const bool known = ::fstat(fd, &st) == 0;
  if (!known || S_ISDIR(st.st_mode)) {
    if (known) errno = EISDIR;
    Error e = io_error("cannot read", path);
    ::close(fd);
    throw e;
  }
  size_ = size_t(st.st_size);
  if (size_ > 0) {  // mmap refuses length 0
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      Error e = io_error("cannot map", path);
      ::close(fd);
      throw e;
    }
    data_ = static_cast<const char*>(p);
    ::madvise(p, size_, MADV_SEQUENTIAL);
  }
  ::close(fd);  // the mapping keeps the file
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<char*>(data_), size_);
}

void MappedFile::release(std::string_view piece) const {
  const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (uintptr_t(piece.data()) + page - 1) / page * page;
  const uintptr_t end = (uintptr_t(piece.data()) + piece.size()) / page * page;
  // Unmodified private pages: dropping them loses nothing, a later read maps them again.
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace vbq
