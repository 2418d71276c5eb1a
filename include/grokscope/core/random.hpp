#pragma once
// Keyed random streams. Every random draw in grokscope (data subsets, probe sets, manifolds,
// Gaussian samples of the geometry engines) comes from a stream keyed by a seed and a few integers,
// e.g. (seed, manifold, sample): the numbers then do not depend on how work is split over ranks or
// on the order it runs in. The generator is SplitMix64 (Steele et al. 2014) over a hashed key: tiny,
// fast, and identical on every platform, unlike std::*_distribution.
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

namespace grokscope {

// A 64-bit tag from a string, for naming what a stream is for ("train-subset", "probe").
constexpr std::uint64_t stream_tag(std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::initializer_list<std::uint64_t> key = {}) : state_(mix(seed)) {
    for (auto k : key) state_ = mix(state_ ^ mix(k + 0x9e3779b97f4a7c15ULL));
  }

  std::uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix(state_);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Standard normal (Box–Muller; the second value is kept for the next call).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 0;
    do u1 = uniform(); while (u1 <= 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }
  // Uniform integer in [0, n), unbiased (rejection of the short last interval).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
    std::uint64_t x = 0;
    do x = next(); while (x >= limit);
    return x % n;
  }
  // Fisher–Yates shuffle.
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

 private:
  static constexpr std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace grokscope
