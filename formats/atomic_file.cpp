#include "formats/atomic_file.hpp"

#include <fcntl.h>
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

AtomicOutput::~AtomicOutput() {
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicOutput::write_all(const void* data, size_t size) {
  int fd = ::open(temp_.c_str(), O_WRONLY | O_TRUNC);
  if (fd < 0) throw io_error("cannot open temporary output for", path_);
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = io_error("cannot write", path_);
      ::close(fd);
      throw e;
    }
    p += n;
    size -= size_t(n);
  }
  if (::close(fd) != 0) throw io_error("cannot write", path_);
}

void AtomicOutput::commit() {
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

}  // namespace vbq
