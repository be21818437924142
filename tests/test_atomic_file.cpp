// Tests for formats/atomic_file.hpp: output appears complete or not at all. Data
// goes to a temporary beside the output and is renamed over it on commit(); an
// existing output survives unless `force`; an object that dies without commit()
// (an exception while writing) leaves neither output nor temporary.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "formats/atomic_file.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

using namespace vbq;
using vbq::testing::expect_error;
using vbq::testing::kind_of;
using vbq::testing::TempDir;

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("atomic file: writes to a temporary beside the output, then renames it") {
  TempDir dir("atomic");
  const std::string path = dir.file("out.bin");
  const std::string bytes("head\0tail\xff", 10);
  {
    AtomicOutput out(path, false);
    CHECK(out.path() == path);
    CHECK(out.temp_path() == path + ".tmp." + std::to_string(::getpid()));
    CHECK(std::filesystem::exists(out.temp_path()));
    out.write_all("first, longer content", 21);
    out.write_all(bytes.data(), bytes.size());  // replaces, does not append
    CHECK_FALSE(std::filesystem::exists(path));  // nothing at the output before commit
    CHECK(read_file_bytes(out.temp_path()) == bytes);
    out.commit();
    CHECK_FALSE(std::filesystem::exists(out.temp_path()));
  }
  CHECK(read_file_bytes(path) == bytes);
  CHECK(dir.entries() == 1);  // the output, no temporary left over
}

TEST_CASE("atomic file: an existing output is not overwritten without force") {
  TempDir dir("atomic");
  const std::string path = dir.file("out.txt");
  write_text(path, "precious");
  expect_error([&] { AtomicOutput out(path, false); }, ErrorKind::argument, {path, "already exists"});
  expect_error([&] { check_can_overwrite(path, false); }, ErrorKind::argument, {path});
  CHECK(read_file_bytes(path) == "precious");
  CHECK(dir.entries() == 1);  // refused before any temporary was made
  // With force: the old content stays until commit, then is replaced whole.
  check_can_overwrite(path, true);
  check_can_overwrite(dir.file("absent"), false);
  {
    AtomicOutput out(path, true);
    out.write_all("new", 3);
    CHECK(read_file_bytes(path) == "precious");
    out.commit();
  }
  CHECK(read_file_bytes(path) == "new");
  CHECK(dir.entries() == 1);
}

TEST_CASE("atomic file: an exception while writing leaves no output and no temporary") {
  TempDir dir("atomic");
  const std::string path = dir.file("out.bin");
  try {
    AtomicOutput out(path, false);
    out.write_all("partial", 7);
    throw std::runtime_error("interrupted");
  } catch (const std::runtime_error&) {
  }
  CHECK(dir.entries() == 0);
  // The same over an existing output with force: the old file survives intact.
  write_text(path, "old");
  try {
    AtomicOutput out(path, true);
    out.write_all("partial", 7);
    throw std::runtime_error("interrupted");
  } catch (const std::runtime_error&) {
  }
  CHECK(read_file_bytes(path) == "old");
  CHECK(dir.entries() == 1);
}

TEST_CASE("atomic file: io errors name the file") {
  TempDir dir("atomic");
  const std::string missing_dir = dir.file("no/such/dir/out.bin");
  expect_error([&] { AtomicOutput out(missing_dir, false); }, ErrorKind::io, {missing_dir});
  CHECK(dir.entries() == 0);
  // A commit that cannot rename (a directory is in the way) throws, and the
  // temporary is still removed.
  const std::string blocked = dir.file("blocked");
  std::filesystem::create_directories(blocked + "/inside");
  {
    AtomicOutput out(blocked, true);
    out.write_all("x", 1);
    expect_error([&] { out.commit(); }, ErrorKind::io, {blocked});
  }
  CHECK(dir.entries() == 1);  // just the directory
  CHECK(std::filesystem::is_directory(blocked + "/inside"));
  expect_error([&] { read_file_bytes(dir.file("absent")); }, ErrorKind::io, {dir.file("absent")});
}

TEST_CASE("atomic file: read_file_bytes of a directory is an io error") {
  TempDir dir("atomic");
  CHECK(kind_of([&] { read_file_bytes(dir.dir.string()); }) == ErrorKind::io);
}

TEST_CASE("atomic file: MappedFile maps the bytes, keeps them after release, and names the file in errors") {
  TempDir dir("mapped");
  std::string content(3 * 65536 + 17, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = char(i * 131 % 251);
  const std::string path = dir.file("data.bin");
  std::ofstream(path, std::ios::binary) << content;
  const MappedFile file(path);
  CHECK(file.bytes() == content);
  file.release(file.bytes().substr(100, 2 * 65536));  // pages come back from the file when read again
  file.release(file.bytes());
  CHECK(file.bytes() == content);
  std::ofstream(dir.file("empty.bin"));
  CHECK(MappedFile(dir.file("empty.bin")).bytes().empty());
  expect_error([&] { MappedFile m(dir.file("absent")); }, ErrorKind::io, {dir.file("absent")});
  expect_error([&] { MappedFile m(dir.dir.string()); }, ErrorKind::io, {dir.dir.string(), "directory"});
}
