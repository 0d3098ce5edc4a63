// Scrambled Zipfian key streams (YCSB's ScrambledZipfianGenerator shape, as used by Caffeine's
// GetPutBenchmark): ranks drawn from Zipf(theta) over `items`, then FNV-1a hashed so that popular
// keys are spread over the key space instead of clustered at small numbers.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace larder_bench {

inline std::uint64_t fnv1a64(std::uint64_t v) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (int i = 0; i < 8; ++i) {
    h ^= v & 0xff;
    h *= 0x100000001b3ULL;
    v >>= 8;
  }
  return h;
}

/// `count` keys in [0, items), Zipf(theta)-distributed and scrambled; deterministic for `seed`.
inline std::vector<std::uint64_t> scrambled_zipf(std::uint64_t items, std::size_t count,
                                                 double theta = 0.99, std::uint64_t seed = 42) {
  // Gray et al. "Quickly generating billion-record synthetic databases" (as in YCSB).
  double zetan = 0;
  for (std::uint64_t i = 1; i <= items; ++i) zetan += 1.0 / std::pow(static_cast<double>(i), theta);
  const double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
  const double alpha = 1.0 / (1.0 - theta);
  const double eta =
      (1.0 - std::pow(2.0 / static_cast<double>(items), 1.0 - theta)) / (1.0 - zeta2 / zetan);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<std::uint64_t> keys;
  keys.reserve(count);
  for (std::size_t n = 0; n < count; ++n) {
    const double u = uniform(rng);
    const double uz = u * zetan;
    std::uint64_t rank;
    if (uz < 1.0) {
      rank = 0;
    } else if (uz < zeta2) {
      rank = 1;
    } else {
      rank = static_cast<std::uint64_t>(static_cast<double>(items) *
                                        std::pow(eta * u - eta + 1.0, alpha));
    }
    keys.push_back(fnv1a64(rank) % items);
  }
  return keys;
}

}  // namespace larder_bench
