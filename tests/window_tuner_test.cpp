// The adaptive window (detail/window_tuner.h) and its shadow caches (detail/shadow_cache.h).
#include "larder/detail/window_tuner.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>

using larder::detail::ShadowCache;
using larder::detail::WindowTuner;

namespace {
double share(const WindowTuner& t) { return t.fraction().load() / 65536.0; }
}  // namespace

TEST_CASE("shadow cache: answers hit or miss like a bounded cache of keys", "[tuner]") {
  ShadowCache s(/*capacity=*/4, /*count_entries=*/true, /*fraction=*/16384, /*seed=*/1);
  CHECK(!s.access(1, 1));
  CHECK(s.access(1, 1));
  for (std::uint64_t k = 2; k <= 4; ++k) CHECK(!s.access(k, 1));
  CHECK(s.size() == 4);
  for (std::uint64_t k = 2; k <= 4; ++k) CHECK(s.access(k, 1));
  CHECK(!s.access(5, 1));  // full: something leaves
  CHECK(s.size() == 4);
  // By weight: a 3-unit key in a 4-unit shadow leaves room for one more unit.
  ShadowCache w(/*capacity=*/4, /*count_entries=*/false, 16384, 1);
  CHECK(!w.access(10, 3));
  CHECK(!w.access(11, 1));
  CHECK(w.access(10, 3));
  CHECK(w.access(11, 1));
  CHECK(!w.access(12, 2));
  CHECK(w.size() <= 2);
}

namespace {
/// Phases that each read `keys` keys of their own, 5 times over in random order, then never
/// again: recency wins (a large window), frequency has nothing to go on.
void moving_working_set(WindowTuner& t, std::uint32_t keys, std::uint32_t phases,
                        std::uint32_t first = 0) {
  std::mt19937 rng(3);
  for (std::uint32_t phase = first; phase < first + phases; ++phase) {
    for (std::uint32_t n = 0; n < 5 * keys; ++n) {
      const std::uint32_t k = phase * keys + rng() % keys;
      t.record(k * 2654435761u, 1);
    }
  }
}
/// A loop over `keys` keys, `rounds` times: LRU gets nothing, a frequency filter half.
void loop(WindowTuner& t, std::uint32_t keys, int rounds) {
  for (int r = 0; r < rounds; ++r) {
    for (std::uint32_t k = 0; k < keys; ++k) t.record((k + 1'000'000'000u) * 2654435761u, 1);
  }
}
}  // namespace

TEST_CASE("tuner: a moving working set grows the window, a loop shrinks it back", "[tuner]") {
  constexpr std::uint32_t kCap = 500;
  WindowTuner t(kCap, true, 7);
  CHECK(share(t) == Approx(0.01).margin(0.001));  // (it starts at Caffeine's 1%)
  moving_working_set(t, 400, 40);
  CHECK(share(t) >= 0.35);
  loop(t, 2 * kCap, 40);
  CHECK(share(t) <= 0.05);
}

TEST_CASE("tuner: a big cache samples its keys and adapts the same way", "[tuner]") {
  // 100K entries: the shadows hold about kShadowEntries keys, a 1-in-100 sample.
  constexpr std::uint32_t kCap = 100'000;
  WindowTuner t(kCap, true, 11);
  moving_working_set(t, 80'000, 20);
  CHECK(share(t) >= 0.35);
  loop(t, 2 * kCap, 30);
  CHECK(share(t) <= 0.05);
}
