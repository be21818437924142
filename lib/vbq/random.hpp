// The project's random numbers: one implementation of each generator, so that the
// prior's subsample, the trainers' draws and their tests agree bit for bit.
//  - splitmix64(x): Steele, Lea & Flood's SplitMix64 output function of the
//    counter x (a stateless hash: counter-based streams, order independent).
//  - SplitMix64: the sequential generator, x_k = splitmix64(seed + k * golden).
//  - Xoshiro256Plus: Blackman & Vigna's xoshiro256+, seeded through SplitMix64.
// Only exact integer arithmetic: identical on every platform and compiler.
#pragma once
#include <cstdint>

namespace vbq {

inline constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;  // 2^64 / golden ratio, odd

constexpr uint64_t splitmix64(uint64_t x) {
  x += kGoldenGamma;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class SplitMix64 {
 public:
  explicit constexpr SplitMix64(uint64_t seed) : state_(seed) {}
  constexpr uint64_t next() {
    const uint64_t r = splitmix64(state_);
    state_ += kGoldenGamma;
    return r;
  }

 private:
  uint64_t state_;
};

class Xoshiro256Plus {
 public:
  explicit constexpr Xoshiro256Plus(uint64_t seed) {
    SplitMix64 init(seed);
    for (uint64_t& x : s_) x = init.next();
  }
  constexpr uint64_t next() {
    const uint64_t r = s_[0] + s_[3], t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 45) | (s_[3] >> 19);
    return r;
  }
  // Uniform on [0, 1) with 53 random bits.
  constexpr double uniform() { return double(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_[4] = {};
};

// Uniform integer in [0, n) from the high 32 bits of `bits` (Lemire's
// multiply-shift, no division; n < 2^32).
constexpr uint64_t below(uint64_t bits, uint64_t n) { return (bits >> 32) * n >> 32; }

}  // namespace vbq
