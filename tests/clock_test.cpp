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
