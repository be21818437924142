// vbq::Error: the one error type of the project.
//
// Every failure carries a category and a message that names the file, tensor,
// flat index or byte offset where one applies. The CLI maps the category to an
// exit code (exit_code()); nothing in lib/ prints or exits.
#pragma once
#include <stdexcept>
#include <string>

namespace vbq {

enum class ErrorKind {
  argument,     // bad option or parameter value from the caller
  io,           // open/read/write/rename failed (message carries errno text)
  format,       // input is not what it claims to be (non-HDF5, wrong dtype, bad shape)
  corrupt,      // a container or stream fails its checks (CRC, bounds, truncation)
  unsupported,  // valid but not handled (unknown major version, prior family)
  interrupted,  // the user pressed Ctrl-C
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// Exit codes of the `vbq` command: 0 ok, 1 argument, 2 io, 3 format, 4 corrupt,
// 5 unsupported, 130 interrupted.
inline int exit_code(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::argument: return 1;
    case ErrorKind::io: return 2;
    case ErrorKind::format: return 3;
    case ErrorKind::corrupt: return 4;
    case ErrorKind::unsupported: return 5;
    case ErrorKind::interrupted: return 130;
  }
  return 1;
}

inline const char* kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::argument: return "argument error";
    case ErrorKind::io: return "I/O error";
    case ErrorKind::format: return "format error";
    case ErrorKind::corrupt: return "corrupt input";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::interrupted: return "interrupted";
  }
  return "error";
}

}  // namespace vbq
