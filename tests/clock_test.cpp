// larder/clock.h: the manual clock moves only when told, never backwards.
#include "larder/clock.h"

#include <catch2/catch.hpp>
#include <chrono>

using namespace std::chrono_literals;

TEST_CASE("ManualClock advances by exactly what it is told", "[clock]") {
  larder::ManualClock c;
  const larder::TimePoint t0 = c.now();
  CHECK(c.now() == t0);
  c.advance(5s);
  CHECK(c.now() - t0 == 5s);
  c.advance(-3s);  // ignored: monotonic
  CHECK(c.now() - t0 == 5s);
  c.advance(1ns);
  CHECK(c.now() - t0 == 5s + 1ns);
}

TEST_CASE("SteadyClock is monotonic", "[clock]") {
  larder::SteadyClock c;
  const auto a = c.now();
  const auto b = c.now();
  CHECK(b >= a);
}

TEST_CASE("CoarseClock reads steady_clock's timeline, never ahead of it, and moves", "[clock]") {
  larder::CoarseClock coarse;
  const auto s1 = std::chrono::steady_clock::now();
  const auto c = coarse.now();
  const auto s2 = std::chrono::steady_clock::now();
  CHECK(c <= s2);      // the coarse clock is the last tick's time: behind, never ahead
  CHECK(s1 - c < 1s);  // and the same timeline (CLOCK_REALTIME or an offset would be years off)
  const larder::Duration res = larder::CoarseClock::resolution();
  CHECK(res > 0ns);
  CHECK(res <= 100ms);  // a kernel tick: 1-10 ms
  // Monotonic, and live: it moves within a second of steady time (a few ticks).
  auto last = coarse.now();
  bool moved = false;
  while (!moved && std::chrono::steady_clock::now() - s2 < 1s) {
    const auto now = coarse.now();
    REQUIRE(now >= last);
    moved = now > last;
    last = now;
  }
  CHECK(moved);
}
