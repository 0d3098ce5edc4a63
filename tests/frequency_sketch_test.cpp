// The TinyLFU frequency sketch (detail/frequency_sketch.h): counts, saturation, aging, size.
#include "larder/detail/frequency_sketch.h"

#include <catch2/catch.hpp>
#include <cstdint>

using larder::detail::FrequencySketch;

TEST_CASE("sketch: counts what was incremented, never less, up to 15", "[sketch]") {
  FrequencySketch s(42);
  s.ensure_capacity(1000);
  CHECK(s.frequency(7) == 0);
  for (int i = 0; i < 5; ++i) s.increment(7);
  CHECK(s.frequency(7) >= 5);
  for (int i = 0; i < 20; ++i) s.increment(7);
  CHECK(s.frequency(7) == 15);  // 4-bit counters saturate
  // Count-min never under-estimates (before any aging): every key counted k times reads >= k.
  FrequencySketch t(7);
  t.ensure_capacity(512);
  for (std::uint32_t k = 0; k < 500; ++k) {
    for (std::uint32_t n = 0; n < k % 4; ++n) t.increment(k * 2654435761u);
  }
  int exact = 0;
  for (std::uint32_t k = 0; k < 500; ++k) {
    const unsigned f = t.frequency(k * 2654435761u);
    CHECK(f >= k % 4);
    exact += f == k % 4;
  }
  CHECK(exact > 400);  // and is mostly exact at this load
}

TEST_CASE("sketch: halves every counter after 10 increments per key", "[sketch]") {
  FrequencySketch s(1);
  s.ensure_capacity(16);  // (the smallest table: sample 160)
  for (int i = 0; i < 12; ++i) s.increment(99);
  const unsigned before = s.frequency(99);
  CHECK(before == 12);
  s.age();
  CHECK(s.frequency(99) == before / 2);
  // The periodic aging: 160 increments of other keys later, 99 has aged again.
  for (std::uint32_t i = 0; i < 200; ++i) s.increment(1000 + i);
  CHECK(s.frequency(99) <= before / 4 + 1);
}

TEST_CASE("sketch: at most 8 bytes per key of capacity, allocated on first use", "[sketch]") {
  FrequencySketch s(3);
  CHECK(s.bytes() == 0);
  CHECK(s.frequency(1) == 0);  // (an unallocated sketch reads zero)
  for (std::size_t cap : {16u, 100u, 1000u, 1024u, 1025u, 70000u, 1000000u}) {
    FrequencySketch t(3);
    t.ensure_capacity(cap);
    INFO("capacity " << cap << ": " << t.bytes() << " bytes");
    CHECK(t.bytes() <= 8 * cap);
    CHECK(t.bytes() >= 4 * cap);
  }
  s.ensure_capacity(100);
  s.increment(5);
  s.ensure_capacity(50);  // (smaller: no change)
  CHECK(s.frequency(5) == 1);
  s.clear();
  CHECK(s.frequency(5) == 0);
}

TEST_CASE("sketch: the seed decides the collisions", "[sketch]") {
  // The same keys, each counted once, in two small sketches with different seeds: the keys that
  // collide (read above 1) are not the same ones.
  FrequencySketch a(1), b(2);
  a.ensure_capacity(16);
  b.ensure_capacity(16);
  for (std::uint32_t k = 0; k < 200; ++k) {
    a.increment(k);
    b.increment(k);
  }
  int differ = 0, over = 0;
  for (std::uint32_t k = 0; k < 200; ++k) {
    differ += a.frequency(k) != b.frequency(k);
    over += a.frequency(k) > 1;
  }
  CHECK(over > 0);  // (16 words for 200 keys: collisions are certain)
  CHECK(differ > 0);
}
