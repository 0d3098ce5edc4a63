// larder::CircuitBreaker (circuit_breaker.h) on a ManualClock: opening on consecutive failures and
// on the failure rate, refusing, the half-open probe, closing; invalid options named.
#include <larder/circuit_breaker.h>
#include <larder/clock.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>

using namespace std::chrono_literals;

TEST_CASE("CircuitBreaker: opens, refuses, probes, closes", "[breaker]") {
  auto clock = std::make_shared<larder::ManualClock>();
  larder::CircuitBreaker b(
      {.consecutive_failures = 3, .failure_rate = 0, .open_for = 2s, .clock = clock});
  using CB = larder::CircuitBreaker;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(b.admit() == CB::kGo);
    b.record(true);
  }
  b.record(false);  // a success resets the run
  for (int i = 0; i < 2; ++i) b.record(true);
  CHECK(b.state() == larder::BreakerState::kClosed);
  b.record(true);
  CHECK(b.state() == larder::BreakerState::kOpen);
  CHECK(b.admit() == CB::kRefuse);
  clock->advance(1999ms);
  CHECK(b.admit() == CB::kRefuse);
  clock->advance(1ms);
  CHECK(b.admit() == CB::kProbe);
  CHECK(b.state() == larder::BreakerState::kHalfOpen);
  CHECK(b.admit() == CB::kRefuse);  // one probe at a time
  b.probe_done(false);
  CHECK(b.state() == larder::BreakerState::kOpen);
  clock->advance(2s);
  CHECK(b.admit() == CB::kProbe);
  b.probe_done(true);
  CHECK(b.state() == larder::BreakerState::kClosed);
  larder::BackendStats s;
  b.fill(s);
  CHECK(s.breaker_opened == 2);
  CHECK(s.breaker_half_open == 2);
  CHECK(s.breaker_closed == 1);
}

TEST_CASE("CircuitBreaker: probe_now() ends an open period early, nothing else", "[breaker]") {
  auto clock = std::make_shared<larder::ManualClock>();
  larder::CircuitBreaker b(
      {.consecutive_failures = 1, .failure_rate = 0, .open_for = 1h, .clock = clock});
  using CB = larder::CircuitBreaker;
  b.probe_now();  // closed: no effect
  CHECK(b.admit() == CB::kGo);
  b.record(true);
  REQUIRE(b.state() == larder::BreakerState::kOpen);
  CHECK(b.admit() == CB::kRefuse);
  b.probe_now();
  CHECK(b.admit() == CB::kProbe);  // at once, not an hour later
  b.probe_now();                   // half-open: no effect
  CHECK(b.admit() == CB::kRefuse);
  b.probe_done(true);
  CHECK(b.state() == larder::BreakerState::kClosed);
}

TEST_CASE("CircuitBreaker: opens on the failure rate over its window", "[breaker]") {
  auto clock = std::make_shared<larder::ManualClock>();
  larder::CircuitBreaker b({.consecutive_failures = 0,
                            .failure_rate = 0.5,
                            .window = 10,
                            .min_calls = 10,
                            .clock = clock});
  for (int i = 0; i < 9; ++i) b.record(i % 2 == 0);  // 5 of 9 failed: below min_calls
  CHECK(b.state() == larder::BreakerState::kClosed);
  b.record(false);  // 5 of 10
  CHECK(b.state() == larder::BreakerState::kOpen);
}

TEST_CASE("BreakerOptions: invalid values are named", "[breaker]") {
  CHECK_THROWS_WITH(larder::CircuitBreaker({.window = 0}),
                    Catch::Contains("BreakerOptions.window"));
  CHECK_THROWS_WITH(larder::CircuitBreaker({.failure_rate = 1.5}),
                    Catch::Contains("BreakerOptions.failure_rate"));
  CHECK_THROWS_WITH(larder::CircuitBreaker({.window = 5, .min_calls = 6}),
                    Catch::Contains("BreakerOptions.min_calls"));
  CHECK_THROWS_WITH(larder::CircuitBreaker({.open_for = 0s}),
                    Catch::Contains("BreakerOptions.open_for"));
}
