// tools/: a terminal progress bar on stderr, in the style of zstd/xz -v.
//
// Redraws at most ~10 times per second; silent when disabled or when stderr is not
// a terminal (then prints nothing, so logs stay clean). Thread-safe update().
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace vbq {

class ProgressBar {
 public:
  // total: units of work (0 = unknown). label: short text before the bar.
  ProgressBar(std::string label, double total, bool enabled = true);
  ~ProgressBar();  // finishes the line
  // Sets absolute progress `done` and an optional status text (e.g. "loss 0.31").
  void update(double done, const std::string& status = "");
  void finish(const std::string& status = "");

 private:
  void draw(bool final_line);
  std::string label_, status_;
  double total_, done_ = 0;
  bool enabled_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
};

// A sweep's progress callback (done, planned, status) that draws into `bar`,
// made at the first report; `bar` finishes its line when it goes.
std::function<void(double, double, const std::string&)> progress_callback(std::unique_ptr<ProgressBar>& bar,
                                                                          std::string label);

}  // namespace vbq
