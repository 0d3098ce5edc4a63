// The background sweep (larder/detail/sweeper.h, Options::background_cleanup). Waits are on
// events (futures) with generous timeouts, never sleeps.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "larder/cache.h"

using namespace std::chrono_literals;

TEST_CASE("the background sweep reclaims expired entries with no other activity", "[sweeper]") {
  auto clock = std::make_shared<larder::ManualClock>();
  std::promise<void> expired;
  std::atomic<int> calls{0};
  larder::Cache<int, int> c({.default_ttl = 1s,
                             .clock = clock,
                             .on_removal =
                                 [&](const int&, const int&, larder::RemovalCause cause) {
                                   if (cause == larder::RemovalCause::kExpired &&
                                       calls.fetch_add(1) == 0) {
                                     expired.set_value();
                                   }
                                 },
                             .background_cleanup = 1ms});
  c.put(1, 1);
  clock->advance(1s);
  REQUIRE(expired.get_future().wait_for(60s) == std::future_status::ready);
  CHECK(calls.load() == 1);
  CHECK(c.size() == 0);
  CHECK(c.stats().expirations == 1);
}

TEST_CASE("destroying a cache waits for its sweep in progress", "[sweeper]") {
  auto clock = std::make_shared<larder::ManualClock>();
  std::promise<void> in_sweep;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> order{0};
  std::atomic<int> listener_done_at{0};
  auto cache = std::make_unique<larder::Cache<int, int>>(
      larder::Cache<int, int>::Options{.default_ttl = 1s,
                                       .clock = clock,
                                       .on_removal =
                                           [&](const int&, const int&, larder::RemovalCause) {
                                             in_sweep.set_value();
                                             released.wait();
                                             listener_done_at = ++order;
                                           },
                                       .background_cleanup = 1ms});
  cache->put(1, 1);
  clock->advance(1s);
  REQUIRE(in_sweep.get_future().wait_for(60s) == std::future_status::ready);
  // The sweeper thread is inside the listener now. Destroy the cache from another thread.
  std::atomic<int> destroyed_at{0};
  std::thread destroyer([&] {
    cache.reset();
    destroyed_at = ++order;
  });
  release.set_value();
  destroyer.join();
  CHECK(listener_done_at.load() == 1);
  CHECK(destroyed_at.load() == 2);
}

TEST_CASE("background_cleanup = 0 registers no sweep", "[sweeper]") {
  larder::detail::Sweeper& sweeper = larder::detail::Sweeper::instance();
  const std::size_t before = sweeper.tasks();
  {
    larder::Cache<int, int> swept;  // default options: a sweep every second
    CHECK(sweeper.tasks() == before + 1);
  }
  CHECK(sweeper.tasks() == before);  // released by the destructor
  auto clock = std::make_shared<larder::ManualClock>();
  larder::Cache<int, int> c({.default_ttl = 1s, .clock = clock, .background_cleanup = 0s});
  CHECK(sweeper.tasks() == before);
  c.put(1, 1);
  clock->advance(1s);
  // Nothing reclaims it but an explicit cleanup.
  CHECK(c.size() == 1);
  CHECK(c.cleanup() == 1);
  CHECK(c.size() == 0);
}
