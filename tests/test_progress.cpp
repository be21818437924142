// Tests for tools/progress.hpp: the bar draws on a terminal (here a pseudo-terminal
// put in place of stderr), at most ~10 times a second, finishes its line once,
// and prints nothing when disabled or when stderr is not a terminal.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tools/progress.hpp"
#include "tests/support.hpp"

using namespace vbq;
using vbq::testing::TempDir;

namespace {

// Puts `fd` in place of stderr for its lifetime.
class StderrTo {
 public:
  explicit StderrTo(int fd) : saved_(::dup(STDERR_FILENO)) {
    std::fflush(stderr);
    ::dup2(fd, STDERR_FILENO);
  }
  ~StderrTo() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  StderrTo(const StderrTo&) = delete;
  StderrTo& operator=(const StderrTo&) = delete;

 private:
  int saved_;
};

// A raw pseudo-terminal: what is written to `terminal` is read back from the master.
struct PseudoTerminal {
  int master = -1, terminal = -1;
  PseudoTerminal() {
    master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) return;
    terminal = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
    termios raw;
    if (terminal >= 0 && ::tcgetattr(terminal, &raw) == 0) {
      ::cfmakeraw(&raw);  // no "\n" -> "\r\n"
      ::tcsetattr(terminal, TCSANOW, &raw);
    }
    ::fcntl(master, F_SETFL, O_NONBLOCK);
  }
  ~PseudoTerminal() {
    if (terminal >= 0) ::close(terminal);
    if (master >= 0) ::close(master);
  }
  bool ok() const { return terminal >= 0; }
  std::string drain() const {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
    return out;
  }
};

size_t count(const std::string& s, char c) { return size_t(std::count(s.begin(), s.end(), c)); }

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

TEST_CASE("progress: a bar on a terminal shows label, fraction and status, and ends its line once") {
  PseudoTerminal pty;
  if (!pty.ok()) {
    MESSAGE("no pseudo-terminal available: nothing to check");
    return;
  }
  std::string out;
  {
    StderrTo redirect(pty.terminal);
    ProgressBar bar("train", 10.0);
    bar.update(1.0, "early");  // within 100 ms of the start: not drawn
    sleep_ms(150);
    bar.update(5.0, "loss 0.31");
    for (int i = 0; i < 50; ++i) bar.update(6.0);  // all within 100 ms of that draw
    bar.finish("done");
    bar.finish("again");  // finished already: nothing
  }  // and the destructor adds nothing either
  out = pty.drain();
  INFO("output: " << out);
  CHECK(count(out, '\r') == 2);  // one redraw and the final line
  CHECK(count(out, '\n') == 1);
  CHECK(out.back() == '\n');
  CHECK(out.find("early") == std::string::npos);
  CHECK(out.find("\rtrain [##############..............]  50.0%") != std::string::npos);
  CHECK(out.find("loss 0.31") != std::string::npos);
  CHECK(out.find("[############################] 100.0%") != std::string::npos);
  CHECK(out.find("done\033[K\n") != std::string::npos);
  CHECK(out.find("again") == std::string::npos);
}

TEST_CASE("progress: unknown totals, clamped fractions, and the destructor ends the line") {
  PseudoTerminal pty;
  if (!pty.ok()) {
    MESSAGE("no pseudo-terminal available: nothing to check");
    return;
  }
  {
    StderrTo redirect(pty.terminal);
    ProgressBar bar("read", 0.0);
    sleep_ms(150);
    bar.update(123.0, "42 MiB");
  }
  std::string out = pty.drain();
  INFO("output: " << out);
  CHECK(out.find("\rread ") == 0);
  CHECK(out.find('%') == std::string::npos);  // no total: no bar, no percentage
  CHECK(out.find("42 MiB") != std::string::npos);
  CHECK(count(out, '\n') == 1);  // ended by the destructor
  {
    StderrTo redirect(pty.terminal);
    ProgressBar bar("x", 4.0);
    sleep_ms(150);
    bar.update(-3.0);
    sleep_ms(150);
    bar.update(9.0);
    // threads may update at the same time
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&bar, t] {
        for (int i = 0; i < 2000; ++i) bar.update(double(i % 4), "thread " + std::to_string(t));
      });
    for (auto& th : threads) th.join();
    bar.finish();
  }
  out = pty.drain();
  INFO("output: " << out);
  CHECK(out.find("[............................]   0.0%") != std::string::npos);  // below 0
  CHECK(out.find("[############################] 100.0%") != std::string::npos);   // beyond the total
  CHECK(count(out, '\n') == 1);
  CHECK(out.back() == '\n');
}

TEST_CASE("progress: silent when disabled or when stderr is not a terminal") {
  PseudoTerminal pty;
  if (pty.ok()) {
    {
      StderrTo redirect(pty.terminal);
      ProgressBar bar("quiet", 10.0, false);
      sleep_ms(150);
      bar.update(5.0, "status");
      bar.finish("done");
    }
    CHECK(pty.drain().empty());
  }
  TempDir dir("progress");
  const std::string log = dir.file("stderr.log");
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  {
    StderrTo redirect(fd);
    ProgressBar bar("logged", 10.0);
    sleep_ms(150);
    bar.update(5.0, "status");
    bar.finish("done");
    std::fputs("marker", stderr);  // the redirection itself works
  }
  ::close(fd);
  std::FILE* f = std::fopen(log.c_str(), "rb");
  REQUIRE(f);
  char buf[256] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  CHECK(std::string(buf, n) == "marker");
}
