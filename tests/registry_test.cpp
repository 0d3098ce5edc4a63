// larder/registry.h: registration by name for the life of a cache or memoizer, lookups,
// summary, invalidation, and concurrent register/unregister while others read.
#include "larder/registry.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "larder/cache.h"
#include "larder/memoize.h"

using namespace std::chrono_literals;
using IntCache = larder::Cache<int, int>;

TEST_CASE("caches register under their name for their lifetime", "[registry]") {
  larder::Registry reg;
  {
    IntCache tasks(
        {.name = "task_status", .max_entries = 500, .background_cleanup = 0s, .registry = &reg});
    IntCache workers(
        {.name = "worker_status", .max_entries = 100, .background_cleanup = 0s, .registry = &reg});
    CHECK(reg.names() == std::vector<std::string>{"task_status", "worker_status"});
    CHECK_THROWS_WITH(IntCache({.name = "task_status", .registry = &reg}),
                      Catch::Matchers::Contains("\"task_status\" is already registered"));
    CHECK_THROWS_WITH(IntCache({.registry = &reg}), Catch::Matchers::Contains("needs a name"));
    for (int i = 0; i < 50; ++i) tasks.put(i, i);
    (void)tasks.get(1);
    (void)tasks.get(999);
    auto info = reg.find("task_status");
    REQUIRE(info);
    CHECK(info->kind == "cache");
    CHECK(info->stats.size == 50);
    CHECK(info->stats.hits == 1);
    CHECK(info->utilization() == Approx(0.1));
    CHECK_FALSE(reg.find("nope"));
  }
  CHECK(reg.names().empty());  // released with the caches: nothing dangles
  CHECK_FALSE(reg.find("task_status"));
}

TEST_CASE("summary, invalidate by name, invalidate_all, cleanup_all", "[registry]") {
  larder::Registry reg;
  auto clock = std::make_shared<larder::ManualClock>();
  IntCache a(
      {.name = "a", .default_ttl = 1s, .clock = clock, .background_cleanup = 0s, .registry = &reg});
  IntCache b({.name = "b", .background_cleanup = 0s, .registry = &reg});
  auto health =
      larder::cached([](int x) { return x; },
                     {.name = "health", .ttl = 10s, .background_cleanup = 0s, .registry = &reg});
  for (int i = 0; i < 10; ++i) {
    a.put(i, i);
    b.put(i, i);
  }
  (void)a.get(1);
  (void)b.get(100);
  (void)health(7);
  (void)health(7);
  const larder::RegistrySummary s = reg.summary();
  CHECK(s.caches == 3);
  CHECK(s.size == 21);
  CHECK(s.hits == 2);    // a.get(1); health's second call
  CHECK(s.misses == 2);  // b.get(100); health's first call
  CHECK(s.hit_rate() == Approx(0.5));
  auto memo = reg.find("health");
  REQUIRE(memo);
  CHECK(memo->kind == "memoizer");
  REQUIRE(memo->memo);
  CHECK(memo->memo->loads == 1);

  CHECK(reg.invalidate("b"));
  CHECK_FALSE(reg.invalidate("zzz"));
  CHECK(b.size() == 0);
  CHECK(a.size() == 10);
  clock->advance(1s);
  CHECK(reg.cleanup_all() == 10);  // a's entries expired
  CHECK(reg.invalidate_all() == 3);
  CHECK(health.cache().size() == 0);
}

TEST_CASE("caches come and go while other threads read the registry", "[registry][concurrency]") {
  larder::Registry reg;
  std::atomic<bool> stop{false};
  std::atomic<int> snapshots{0};
  std::thread reader([&] {
    while (!stop) {
      for (const auto& c : reg.snapshot()) (void)c.stats.size;
      (void)reg.invalidate_all();
      snapshots.fetch_add(1);
    }
  });
  std::vector<std::thread> makers;
  for (int t = 0; t < 3; ++t) {
    makers.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string name = std::to_string(t);  // (appended: GCC 12 -Wrestrict false positive)
        name.append("_").append(std::to_string(i % 5));
        IntCache c({.name = name, .background_cleanup = 0s, .registry = &reg});
        c.put(i, i);
      }
    });
  }
  for (auto& m : makers) m.join();
  stop = true;
  reader.join();
  CHECK(reg.names().empty());
  CHECK(snapshots.load() > 0);
}
