// larder/maintenance.h, driven deterministically with a ManualClock and run_due(); the
// background thread is checked with events (futures), never sleeps.
#include "larder/maintenance.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "larder/cache.h"
#include "larder/memoize.h"

using namespace std::chrono_literals;

namespace {
struct Fixture {
  std::shared_ptr<larder::ManualClock> clock = std::make_shared<larder::ManualClock>();
  std::vector<std::string> log;
  larder::Maintenance jobs{
      {.clock = clock, .log = [this](std::string_view job, std::string_view error) {
         log.push_back(std::string(job) + ": " + std::string(error));
       }}};
};
}  // namespace

TEST_CASE("every(): runs each interval, once after falling behind", "[maintenance]") {
  Fixture f;
  int runs = 0;
  f.jobs.every("warm", 30min, [&] { ++runs; });
  CHECK(f.jobs.run_due() == 0);
  f.clock->advance(30min - 1ns);
  CHECK(f.jobs.run_due() == 0);
  f.clock->advance(1ns);
  CHECK(f.jobs.run_due() == 1);
  CHECK(f.jobs.run_due() == 0);
  f.clock->advance(5h);  // fell far behind: one run, not ten
  CHECK(f.jobs.run_due() == 1);
  f.clock->advance(29min);
  CHECK(f.jobs.run_due() == 0);
  f.clock->advance(1min);
  CHECK(f.jobs.run_due() == 1);
  CHECK(runs == 3);
  CHECK(f.jobs.jobs()[0].runs == 3);
}

TEST_CASE("at_start(): runs once", "[maintenance]") {
  Fixture f;
  int runs = 0;
  f.jobs.at_start("warm", [&] { ++runs; });
  CHECK(f.jobs.run_due() == 1);
  f.clock->advance(24h);
  CHECK(f.jobs.run_due() == 0);
  CHECK(runs == 1);
}

TEST_CASE("cleanup() reclaims expired entries of every registered cache", "[maintenance]") {
  Fixture f;
  larder::Registry reg;
  larder::Cache<int, int> a({.name = "a",
                             .default_ttl = 2s,
                             .clock = f.clock,
                             .background_cleanup = 0s,
                             .registry = &reg});
  larder::Cache<int, int> b({.name = "b",
                             .default_ttl = 5s,
                             .clock = f.clock,
                             .background_cleanup = 0s,
                             .registry = &reg});
  for (int i = 0; i < 10; ++i) {
    a.put(i, i);
    b.put(i, i);
  }
  f.jobs.cleanup(reg, 60s);
  f.clock->advance(60s);
  CHECK(a.size() == 10);  // expired, not yet reclaimed
  CHECK(f.jobs.run_due() == 1);
  CHECK(a.size() == 0);
  CHECK(b.size() == 0);
  CHECK(a.stats().expirations == 10);
}

TEST_CASE("rebuild(): readers see the old contents until the new ones are written",
          "[maintenance]") {
  Fixture f;
  larder::Registry reg;
  larder::Cache<std::string, int> board(
      {.name = "leaderboard", .background_cleanup = 0s, .registry = &reg});
  board.put("top", 0);
  board.put("stale", 1);
  int generation = 0;
  std::vector<std::optional<int>> seen_during;  // what a reader saw while precompute ran
  f.jobs.rebuild(reg, "leaderboard", 1h, [&] {
    seen_during.push_back(board.get("top"));
    seen_during.push_back(board.get("stale"));
    board.put("top", ++generation);
    seen_during.push_back(board.get("top"));
  });
  f.jobs.rebuild(reg, "missing", 1h, [] {});
  f.clock->advance(1h);
  CHECK(f.jobs.run_due() == 2);
  CHECK(seen_during == std::vector<std::optional<int>>{0, 1, 1});  // never a miss
  CHECK_FALSE(board.contains("stale"));                            // not rewritten: dropped
  CHECK(board.get("top") == 1);
  CHECK(board.stats().explicit_removals == 1);
  const auto stats = f.jobs.jobs();
  CHECK(stats[0].failures == 0);
  CHECK(stats[1].failures == 1);
  CHECK_THAT(stats[1].last_error, Catch::Matchers::Contains("no cache named \"missing\""));
  REQUIRE(f.log.size() == 1);
  CHECK(f.log[0] == "rebuild missing: no cache named \"missing\" is registered");
}

TEST_CASE("rebuild(): a memoized function is cleared, then precomputed", "[maintenance]") {
  Fixture f;
  larder::Registry reg;
  int calls = 0;
  auto square = larder::cached([&](int x) { return ++calls, x * x; },
                               {.name = "square", .background_cleanup = 0s, .registry = &reg});
  CHECK(square(3) == 9);
  f.jobs.rebuild(reg, "square", 1h, [&] { square(3); });
  f.clock->advance(1h);
  CHECK(f.jobs.run_due() == 1);
  CHECK(calls == 2);  // recomputed, not a hit on the old result
}

TEST_CASE("every() is fixed-rate: a slow run does not move the schedule", "[maintenance]") {
  Fixture f;
  const auto t0 = f.clock->now();
  std::vector<larder::Duration> started;
  f.jobs.every("slow", 10s, [&] {
    started.push_back(f.clock->now() - t0);
    f.clock->advance(3s);  // the run takes 3 s
  });
  for (int i = 0; i < 3; ++i) {
    f.clock->advance(10s - 3s * (i > 0));  // to the next multiple of 10 s
    CHECK(f.jobs.run_due() == 1);
  }
  CHECK(started == std::vector<larder::Duration>{10s, 20s, 30s});  // not 10, 23, 36
  CHECK(f.jobs.jobs()[0].skipped == 0);
}

TEST_CASE("every(): due times a run overran are skipped, not made up", "[maintenance]") {
  Fixture f;
  int runs = 0;
  f.jobs.every("long", 10s, [&] {
    if (++runs == 1) f.clock->advance(25s);  // the first run, due at 10 s, ends at 35 s
  });
  f.clock->advance(10s);
  CHECK(f.jobs.run_due() == 1);
  CHECK(f.jobs.jobs()[0].skipped == 2);  // 20 s and 30 s passed while it ran
  CHECK(f.jobs.run_due() == 0);          // 35 s: next due at 40 s
  f.clock->advance(5s);
  CHECK(f.jobs.run_due() == 1);
  CHECK(runs == 2);
}

TEST_CASE("run_now(): runs a job by name at once, keeps its schedule", "[maintenance]") {
  Fixture f;
  int runs = 0;
  f.jobs.every("warm", 1h, [&] { ++runs; });
  f.clock->advance(10min);
  CHECK(f.jobs.run_now("warm") == 1);
  CHECK(runs == 1);
  f.clock->advance(50min);  // still due one hour after it was added
  CHECK(f.jobs.run_due() == 1);
  CHECK(runs == 2);
  CHECK_THROWS_WITH(f.jobs.run_now("cold"),
                    Catch::Matchers::Contains("Maintenance has no job named \"cold\""));
}

TEST_CASE("run_now(): an at_start job it ran does not run again", "[maintenance]") {
  Fixture f;
  int runs = 0;
  f.jobs.at_start("seed", [&] { ++runs; });
  CHECK(f.jobs.run_now("seed") == 1);
  CHECK(f.jobs.run_due() == 0);
  CHECK(runs == 1);
}

TEST_CASE("a failing job is counted, logged, and runs again next time", "[maintenance]") {
  Fixture f;
  int calls = 0;
  f.jobs.every("flaky", 1min, [&] {
    if (++calls == 1) throw std::runtime_error("boom");
  });
  f.clock->advance(1min);
  CHECK(f.jobs.run_due() == 1);
  f.clock->advance(1min);
  CHECK(f.jobs.run_due() == 1);
  const auto s = f.jobs.jobs()[0];
  CHECK(s.runs == 2);
  CHECK(s.failures == 1);
  CHECK(s.last_error == "boom");
  CHECK(f.log == std::vector<std::string>{"flaky: boom"});
}

TEST_CASE("a job never overlaps itself", "[maintenance][concurrency]") {
  Fixture f;
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> runs{0};
  f.jobs.every("slow", 1min, [&] {
    if (runs.fetch_add(1) == 0) {
      entered.set_value();
      released.wait();
    }
  });
  f.clock->advance(1min);
  std::thread first([&] { f.jobs.run_due(); });
  REQUIRE(entered.get_future().wait_for(30s) == std::future_status::ready);
  f.clock->advance(1min);              // due again while it runs
  CHECK(f.jobs.run_due() == 0);        // not started twice
  CHECK(f.jobs.run_now("slow") == 0);  // refused, counted
  release.set_value();
  first.join();
  CHECK(runs.load() == 1);
  CHECK(f.jobs.jobs()[0].skipped == 2);  // run_now, and the due time at 2 min
}

TEST_CASE("a slow job does not hold up the others", "[maintenance][concurrency]") {
  larder::Maintenance jobs;  // steady clock, 2 threads
  std::promise<void> entered, release, other_ran;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> slow_runs{0}, other_runs{0};
  jobs.every("slow", 1ms, [&] {
    if (slow_runs.fetch_add(1) == 0) {
      entered.set_value();
      released.wait();
    }
  });
  jobs.every("other", 1ms, [&] {
    if (other_runs.fetch_add(1) == 0) other_ran.set_value();
  });
  jobs.start();
  REQUIRE(entered.get_future().wait_for(30s) == std::future_status::ready);
  CHECK(other_ran.get_future().wait_for(30s) == std::future_status::ready);
  release.set_value();
  jobs.shutdown();
  CHECK(slow_runs.load() >= 1);
  CHECK(other_runs.load() >= 1);
}

TEST_CASE("the background thread runs jobs, shutdown is prompt and idempotent",
          "[maintenance][concurrency]") {
  larder::Maintenance jobs;  // steady clock
  std::promise<void> ran_at_start, ran_every;
  std::atomic<int> every_runs{0};
  jobs.at_start("hello", [&] { ran_at_start.set_value(); });
  jobs.every("tick", 1ms, [&] {
    if (every_runs.fetch_add(1) == 0) ran_every.set_value();
  });
  jobs.every("hourly", 1h, [] {});  // the thread must not wait an hour to shut down
  jobs.start();
  jobs.start();
  CHECK(ran_at_start.get_future().wait_for(30s) == std::future_status::ready);
  CHECK(ran_every.get_future().wait_for(30s) == std::future_status::ready);
  jobs.shutdown();
  const int after = every_runs.load();
  jobs.shutdown();
  CHECK(jobs.jobs()[1].runs >= 1);
  CHECK(every_runs.load() == after);  // nothing runs after shutdown returned
}

TEST_CASE("bad intervals are refused", "[maintenance]") {
  larder::Maintenance jobs;
  CHECK_THROWS_WITH(jobs.every("x", 0s, [] {}),
                    Catch::Matchers::Contains("Maintenance job \"x\": interval must be positive"));
  CHECK_THROWS_WITH(jobs.at("x", nullptr, [] {}),
                    Catch::Matchers::Contains("Maintenance job \"x\": the schedule is null"));
  CHECK_THROWS_WITH(larder::Maintenance({.threads = 0}),
                    Catch::Matchers::Contains("MaintenanceOptions.threads must be at least 1"));
}
