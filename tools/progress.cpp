#include "tools/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace vbq {

ProgressBar::ProgressBar(std::string label, double total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(double done, const std::string& status) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  done_ = done;
  if (!status.empty()) status_ = status;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(false);
}

void ProgressBar::finish(const std::string& status) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (!status.empty()) status_ = status;
  if (total_ > 0) done_ = total_;
  draw(true);
}

void ProgressBar::draw(bool final_line) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  constexpr int width = 28;
  if (total_ > 0) {
    double f = done_ / total_;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    int fill = int(f * width);
    std::string bar(fill, '#');
    bar.resize(width, '.');
    double eta = f > 0 ? secs * (1 - f) / f : 0;
    std::fprintf(stderr, "\r%s [%s] %5.1f%% %6.1fs eta %5.0fs %s\033[K", label_.c_str(), bar.c_str(), 100 * f, secs,
                 eta, status_.c_str());
  } else {
    std::fprintf(stderr, "\r%s %6.1fs %s\033[K", label_.c_str(), secs, status_.c_str());
  }
  if (final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
}

std::function<void(double, double, const std::string&)> progress_callback(std::unique_ptr<ProgressBar>& bar,
                                                                          std::string label) {
  return [&bar, label = std::move(label)](double done, double planned, const std::string& status) {
    if (!bar) bar = std::make_unique<ProgressBar>(label, planned);
    bar->update(done, status);
  };
}

}  // namespace vbq
