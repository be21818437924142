// Timing helpers shared by the benchmarks: clock readings and medians of runs.
#pragma once
#include <ctime>

#include <algorithm>
#include <vector>

namespace vbq::bench {

// Seconds on clock `id` (CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC, ...).
inline double seconds(clockid_t id) {
  timespec t{};
  clock_gettime(id, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// One reading of the clocks. Thread CPU time stays meaningful on a shared, loaded
// machine; process CPU time sums all threads; wall is the monotonic clock.
struct Stamp {
  double cpu, process_cpu, wall;
};
inline Stamp now() {
  return {seconds(CLOCK_THREAD_CPUTIME_ID), seconds(CLOCK_PROCESS_CPUTIME_ID), seconds(CLOCK_MONOTONIC)};
}

// The middle value (the upper one of an even count); v must not be empty.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace vbq::bench
