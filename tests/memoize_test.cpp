// Tests for larder/memoize.h and Cache::get_or_load: single-flight under 64 threads, exceptions,
// refresh-ahead and stale-if-error on a ManualClock with the InlineExecutor, negative caching,
// re-entrancy (LoaderCycle; these run under a ctest TIMEOUT so a deadlock fails instead of
// hanging), stats, and sharing one cache between functions.
#include "larder/memoize.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

using namespace std::chrono_literals;

namespace {

constexpr int kThreads = 64;

using larder_test::wait_until;

struct Clocked {
  std::shared_ptr<larder::ManualClock> clock = std::make_shared<larder::ManualClock>();
  std::shared_ptr<larder::Executor> inline_executor = std::make_shared<larder::InlineExecutor>();
};

}  // namespace

TEST_CASE("cached(fn) calls fn once per key and counts hits and misses", "[memoize]") {
  int calls = 0;
  auto square = larder::cached(
      [&](int x) {
        ++calls;
        return x * x;
      },
      {.max_entries = 100, .background_cleanup = 0s});
  CHECK(square(3) == 9);
  CHECK(square(3) == 9);
  CHECK(square(4) == 16);
  CHECK(calls == 2);
  const larder::MemoizeStats s = square.stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 2);
  CHECK(s.loads == 2);
  CHECK(s.load_failures == 0);
  CHECK(s.hit_rate() == Approx(1.0 / 3.0));
  CHECK(square.cache().size() == 2);
}

TEST_CASE("cached(fn) with several and string arguments keys on the whole tuple", "[memoize]") {
  int calls = 0;
  auto greet = larder::cached(
      [&](const std::string& name, int times) {
        ++calls;
        std::string s;
        for (int i = 0; i < times; ++i) s += name;
        return s;
      },
      {.background_cleanup = 0s});
  CHECK(greet("ab", 2) == "abab");
  CHECK(greet("ab", 3) == "ababab");
  CHECK(greet(std::string("ab"), 2) == "abab");
  CHECK(calls == 2);
}

TEST_CASE("64 threads missing one cold key call fn exactly once", "[memoize][concurrency]") {
  std::atomic<int> calls{0};
  const larder::Memoized<larder::Cache<std::tuple<int>, int>, int>* self = nullptr;
  std::atomic<bool> saw_all{false};
  auto slow = larder::cached(
      [&](int x) {
        calls.fetch_add(1);
        // Hold the load open until every thread has missed and joined it.
        saw_all = wait_until([&] { return self->stats().misses >= kThreads; });
        return x + 1;
      },
      {.background_cleanup = 0s});
  self = &slow;
  std::vector<int> results(kThreads, -1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { results[t] = slow(41); });
  }
  for (auto& th : threads) th.join();
  CHECK(saw_all.load());
  CHECK(calls.load() == 1);
  for (int r : results) CHECK(r == 42);
  const auto s = slow.stats();
  CHECK(s.misses == kThreads);
  CHECK(s.loads == 1);
}

TEST_CASE("a throwing fn: every waiter gets the exception, nothing is cached, next call retries",
          "[memoize][concurrency]") {
  std::atomic<int> calls{0};
  const larder::Memoized<larder::Cache<std::tuple<int>, int>, int>* self = nullptr;
  std::atomic<bool> fail{true};
  auto flaky = larder::cached(
      [&](int x) {
        calls.fetch_add(1);
        if (fail) {
          wait_until([&] { return self->stats().misses >= kThreads; });
          throw std::runtime_error("backend down");
        }
        return x;
      },
      {.background_cleanup = 0s});
  self = &flaky;
  std::atomic<int> got_error{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      try {
        (void)flaky(7);
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()) == "backend down") got_error.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(calls.load() == 1);
  CHECK(got_error.load() == kThreads);
  CHECK(flaky.cache().size() == 0);
  CHECK(flaky.stats().load_failures == 1);
  fail = false;
  CHECK(flaky(7) == 7);
  CHECK(calls.load() == 2);
}

TEST_CASE("ttl: results expire and are reloaded", "[memoize][ttl]") {
  Clocked c;
  int calls = 0;
  auto f = larder::cached([&](int x) { return x + ++calls * 100; },
                          {.ttl = 10s, .clock = c.clock, .background_cleanup = 0s});
  CHECK(f(1) == 101);
  c.clock->advance(10s - 1ns);
  CHECK(f(1) == 101);
  c.clock->advance(1ns);
  CHECK(f(1) == 201);
  CHECK(calls == 2);
}

TEST_CASE("refresh-ahead returns the current value and reloads it in the background",
          "[memoize][refresh]") {
  Clocked c;
  int calls = 0;
  bool fail = false;
  auto f = larder::cached(
      [&](int x) {
        ++calls;
        if (fail) throw std::runtime_error("reload failed");
        return x * 1000 + calls;
      },
      {.ttl = 10s,
       .refresh_after = 5s,
       .executor = c.inline_executor,
       .clock = c.clock,
       .background_cleanup = 0s});
  CHECK(f(1) == 1001);
  c.clock->advance(4s);
  CHECK(f(1) == 1001);  // young: no refresh
  CHECK(calls == 1);
  c.clock->advance(2s);  // age 6s >= refresh_after
  CHECK(f(1) == 1001);   // the current value at once...
  CHECK(calls == 2);     // ...and a reload (inline executor: already done)
  CHECK(f(1) == 1002);   // the reloaded value, now young again
  CHECK(calls == 2);
  CHECK(f.stats().refreshes == 1);

  // A failed refresh keeps the old value until its ttl.
  fail = true;
  c.clock->advance(6s);
  CHECK(f(1) == 1002);
  CHECK(calls == 3);
  CHECK(f.stats().load_failures == 1);
  CHECK(f(1) == 1002);  // still there; each hit past refresh_after tries again
  CHECK(calls == 4);
  c.clock->advance(4s);  // age 10s: expired
  CHECK_THROWS_AS(f(1), std::runtime_error);
}

TEST_CASE("refresh-ahead on a thread pool runs one reload per key at a time",
          "[memoize][refresh][concurrency]") {
  Clocked c;
  std::atomic<int> calls{0};
  std::atomic<bool> release{false};
  auto pool = std::make_shared<larder::ThreadPool>(2);
  auto f = larder::cached(
      [&](int x) {
        if (calls.fetch_add(1) == 1) wait_until([&] { return release.load(); });
        return x;
      },
      {.ttl = 10s,
       .refresh_after = 1s,
       .executor = pool,
       .clock = c.clock,
       .background_cleanup = 0s});
  CHECK(f(5) == 5);
  c.clock->advance(2s);
  for (int i = 0; i < 100; ++i) CHECK(f(5) == 5);  // all stale-ish hits; one refresh in flight
  release = true;
  CHECK(wait_until([&] { return f.cache().stats().puts == 2; }));  // the refresh stored
  CHECK(f.stats().refreshes == 1);
  CHECK(calls.load() == 2);
}

TEST_CASE("stale-if-error serves the expired value while loads fail", "[memoize][stale]") {
  Clocked c;
  int calls = 0;
  bool fail = false;
  auto f = larder::cached(
      [&](int x) {
        ++calls;
        if (fail) throw std::runtime_error("db down");
        return x + calls;
      },
      {.ttl = 10s, .stale_if_error = 30s, .clock = c.clock, .background_cleanup = 0s});
  CHECK(f(1) == 2);
  fail = true;
  c.clock->advance(11s);  // expired, within the stale window
  CHECK(f(1) == 2);
  CHECK(calls == 2);  // it did try to load
  CHECK(f.stats().stale_served == 1);
  CHECK(f.stats().load_failures == 1);
  fail = false;
  CHECK(f(1) == 4);  // recovers: a fresh value replaces the stale one
  fail = true;
  c.clock->advance(10s + 30s);  // past ttl + stale_if_error: nothing to serve
  CHECK_THROWS_AS(f(1), std::runtime_error);
  CHECK(f.stats().stale_served == 1);
}

TEST_CASE("negative caching: absent results are cached only for negative_ttl", "[memoize]") {
  Clocked c;
  int calls = 0;
  auto find = [&](int id) -> std::optional<std::string> {
    ++calls;
    if (id < 0) return std::nullopt;
    return "user" + std::to_string(id);
  };
  SECTION("off by default: every call for a missing id calls fn") {
    auto f = larder::cached(find, {.ttl = 1min, .clock = c.clock, .background_cleanup = 0s});
    CHECK_FALSE(f(-1));
    CHECK_FALSE(f(-1));
    CHECK(calls == 2);
    CHECK(f(1) == "user1");
    CHECK(f(1) == "user1");
    CHECK(calls == 3);
  }
  SECTION("with negative_ttl the absence is remembered that long") {
    auto f = larder::cached(
        find, {.ttl = 1min, .negative_ttl = 5s, .clock = c.clock, .background_cleanup = 0s});
    CHECK_FALSE(f(-1));
    CHECK_FALSE(f(-1));
    CHECK(calls == 1);
    c.clock->advance(5s);
    CHECK_FALSE(f(-1));
    CHECK(calls == 2);
  }
  SECTION("a user predicate decides what is absent") {
    auto f = larder::cached([&](int id) { return ++calls, id < 0 ? std::string() : "x"; },
                            {.ttl = 1min,
                             .negative_ttl = 5s,
                             .is_absent = [](const std::string& s) { return s.empty(); },
                             .clock = c.clock,
                             .background_cleanup = 0s});
    CHECK(f(-1).empty());
    c.clock->advance(5s - 1ns);
    CHECK(f(-1).empty());
    CHECK(calls == 1);
    c.clock->advance(1ns);
    CHECK(f(-1).empty());
    CHECK(calls == 2);
  }
}

TEST_CASE("re-entrancy: fn calling itself for the same key throws LoaderCycle",
          "[memoize][cycle]") {
  std::function<int(int)> call;
  auto f = larder::cached(
      [&](int x) {
        if (x > 0) return call(x);  // same key: would wait on its own load
        return 0;
      },
      {.background_cleanup = 0s});
  call = [&](int x) { return f(x); };
  CHECK_THROWS_AS(f(1), larder::LoaderCycle);
  CHECK(f.cache().size() == 0);
  CHECK(f(0) == 0);  // other keys still work
}

TEST_CASE("re-entrancy through another key (a -> b -> a) throws LoaderCycle", "[memoize][cycle]") {
  std::function<int(int)> call;
  auto f = larder::cached(
      [&](int x) {
        if (x == 1) return call(2) + 1;
        if (x == 2) return call(1) + 1;
        return x;
      },
      {.background_cleanup = 0s});
  call = [&](int x) { return f(x); };
  CHECK_THROWS_AS(f(1), larder::LoaderCycle);
  CHECK_THROWS_AS(f(2), larder::LoaderCycle);
  CHECK(f(3) == 3);
}

TEST_CASE("re-entrancy across threads (T1 loads a, needs b, T2 loads b, needs a) ends",
          "[memoize][cycle][concurrency]") {
  std::function<int(int)> call;
  std::atomic<bool> a_started{false}, b_started{false};
  auto f = larder::cached(
      [&](int x) {
        if (x == 1) {
          a_started = true;
          wait_until([&] { return b_started.load(); });
          return call(2);
        }
        b_started = true;
        wait_until([&] { return a_started.load(); });
        return call(1);
      },
      {.background_cleanup = 0s});
  call = [&](int x) { return f(x); };
  std::atomic<int> cycles{0};
  auto run = [&](int key) {
    try {
      (void)f(key);
    } catch (const larder::LoaderCycle&) {
      cycles.fetch_add(1);
    }
  };
  std::thread t1(run, 1), t2(run, 2);
  t1.join();
  t2.join();
  CHECK(cycles.load() == 2);  // one thread detects it; the other gets it through the flight
}

TEST_CASE("fresh() bypasses, peek() never loads, invalidate() drops", "[memoize]") {
  Clocked c;
  int calls = 0;
  auto f = larder::cached([&](int x) { return x * 10 + ++calls; },
                          {.ttl = 10s, .clock = c.clock, .background_cleanup = 0s});
  CHECK_FALSE(f.peek(1));
  CHECK(f(1) == 11);
  CHECK(f.peek(1) == 11);
  CHECK(f.fresh(1) == 12);  // calls fn even though cached
  CHECK(f(1) == 12);        // and stored the result
  CHECK(f.invalidate(1));
  CHECK_FALSE(f.invalidate(1));
  CHECK_FALSE(f.peek(1));
  CHECK(f(1) == 13);
  c.clock->advance(10s);
  CHECK_FALSE(f.peek(1));  // expired: peek does not return it
  CHECK(calls == 3);
}

TEST_CASE("copies of a memoized function share cache and stats", "[memoize]") {
  int calls = 0;
  auto f = larder::cached([&](int x) { return ++calls + x; }, {.background_cleanup = 0s});
  auto g = f;
  std::function<int(int)> h = f;  // usable as a std::function
  CHECK(f(1) == 2);
  CHECK(g(1) == 2);
  CHECK(h(1) == 2);
  CHECK(calls == 1);
  CHECK(f.stats().hits == 2);
}

TEST_CASE("cached(cache, fn, key_fn): functions sharing one bounded cache", "[memoize]") {
  larder::Cache<std::string, std::string> shared({.max_entries = 2, .background_cleanup = 0s});
  int calls = 0;
  auto by_id = larder::cached(
      shared, [&](int id) { return ++calls, "user" + std::to_string(id); },
      [](int id) { return "id:" + std::to_string(id); }, {.ttl = 1min});
  auto by_name = larder::cached(
      shared, [&](const std::string& n) { return ++calls, "user-" + n; },
      [](const std::string& n) { return "name:" + n; });
  CHECK(by_id(1) == "user1");
  CHECK(by_name("ada") == "user-ada");
  CHECK(shared.get("id:1") == "user1");
  CHECK(shared.contains("name:ada"));
  CHECK(by_id(2) == "user2");  // evicts the LRU entry ("name:ada" after the get of id:1)
  CHECK(shared.size() == 2);
  CHECK(by_name("ada") == "user-ada");
  CHECK(calls == 4);
}

TEST_CASE("a completed load is no edge of the wait-for graph: no LoaderCycle without a cycle",
          "[memoize][cycle][concurrency]") {
  // B leads key b and, inside its loader, waits for key a, which A leads. A finishes a and at
  // once asks for b: that is a plain wait (B will finish b), not a cycle. The old walk followed
  // B's edge to a's flight, already complete but still naming A as its leader, and threw.
  std::atomic<std::thread::id> b_thread{};
  std::atomic<bool> a_leading{false};
  std::function<int(int)> call;
  auto f = larder::cached(
      [&](int x) {
        if (x % 2 == 1) return 10 * call(x - 1);  // b = a + 1: B's load waits for a
        // A's load of a: returns once B is waiting for it.
        a_leading = true;
        REQUIRE(wait_until([&] {
          const std::thread::id b = b_thread.load();
          return b != std::thread::id() && larder::detail::is_waiting(b);
        }));
        return x;
      },
      {.background_cleanup = 0s});
  call = [&](int x) { return f(x); };
  int cycles = 0, wrong = 0;
  for (int round = 0; round < 200; ++round) {
    const int a = 2 * round, b = a + 1;
    a_leading = false;
    std::thread tb([&] {
      b_thread = std::this_thread::get_id();
      wait_until([&] { return a_leading.load(); });
      (void)f(b);
    });
    int got = -1;
    try {
      (void)f(a);  // A leads a; its loader returns once B waits for it
      got = f(b);  // at once: B's edge to a's (completed) flight must not count
    } catch (const larder::LoaderCycle&) {
      ++cycles;
    }
    tb.join();
    b_thread = std::thread::id();
    if (got != -1 && got != 10 * a) ++wrong;
  }
  CHECK(cycles == 0);
  CHECK(wrong == 0);
}

TEST_CASE("a memoized recursive function on several threads never sees a LoaderCycle",
          "[memoize][cycle][concurrency]") {
  // Strictly acyclic: f(n) calls f(n - 1) and f(n - 2). Six threads race over the same keys, so
  // loads wait on loads that complete while others still walk the graph.
  std::function<std::uint64_t(int)> call;
  auto f =
      larder::cached([&](int n) -> std::uint64_t { return n < 2 ? n : call(n - 1) + call(n - 2); },
                     {.background_cleanup = 0s});
  call = [&](int n) { return f(n); };
  constexpr int kRounds = 200, kWorkers = 6;
  std::atomic<int> cycles{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWorkers; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const int n = 20 + (r * kWorkers + t) % 40;
        try {
          std::uint64_t a = 0, b = 1;  // fib(n), iteratively
          for (int i = 0; i < n; ++i) b = std::exchange(a, b) + b;
          if (f(n) != a) wrong.fetch_add(1);
        } catch (const larder::LoaderCycle&) {
          cycles.fetch_add(1);
        }
        if (r % 4 == 3) f.cache().clear();  // load the chain again
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(cycles.load() == 0);
  CHECK(wrong.load() == 0);
}

TEST_CASE("Cache::get_or_load is single-flight and detects cycles", "[memoize][cache]") {
  larder::Cache<int, int> c({.background_cleanup = 0s});
  std::atomic<int> calls{0};
  std::vector<std::thread> threads;
  std::vector<int> results(16);
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      results[t] = c.get_or_load(1, [&] {
        calls.fetch_add(1);
        wait_until([&] { return c.stats().misses >= 16; });
        return 7;
      });
    });
  }
  for (auto& th : threads) th.join();
  CHECK(calls.load() == 1);
  for (int r : results) CHECK(r == 7);
  CHECK(c.get(1) == 7);
  CHECK(c.get_or_load(2, [] { return 9; }, {.ttl = 1s}) == 9);
  CHECK_THROWS_AS(c.get_or_load(3, [&] { return c.get_or_load(3, [] { return 0; }); }),
                  larder::LoaderCycle);
  CHECK_FALSE(c.contains(3));
}

TEST_CASE("MemoizeOptions validation names the field", "[memoize][options]") {
  auto id = [](int x) { return x; };
  CHECK_THROWS_WITH(larder::cached(id, {.ttl = -1s}),
                    Catch::Matchers::Contains("MemoizeOptions.ttl"));
  CHECK_THROWS_WITH(larder::cached(id, {.ttl = 5s, .refresh_after = 5s}),
                    Catch::Matchers::Contains("refresh_after (5s) must be shorter than ttl (5s)"));
  CHECK_THROWS_AS(larder::cached(id, {.stale_if_error = -1ms}), larder::InvalidArgument);
}

TEST_CASE("load time is accounted", "[memoize]") {
  auto f = larder::cached(
      [](int x) {
        volatile std::uint64_t s = 0;
        for (int i = 0; i < 100000; ++i) s = s + i;
        return x;
      },
      {.background_cleanup = 0s});
  (void)f(1);
  (void)f(2);
  const auto s = f.stats();
  CHECK(s.loads == 2);
  CHECK(s.total_load_time > 0ns);
  CHECK(s.average_load_time() == s.total_load_time / 2);
}

TEST_CASE("the last copy going cancels its queued refreshes, and a waiter gets Cancelled",
          "[memoize][refresh]") {
  auto clock = std::make_shared<larder::ManualClock>();
  auto pool = std::make_shared<larder::ThreadPool>(1);
  std::promise<void> unblock;
  std::shared_future<void> unblocked = unblock.get_future().share();
  pool->execute([unblocked] { unblocked.wait(); });  // the pool's one thread is busy
  larder::Cache<int, int> c({.clock = clock, .background_cleanup = 0s});
  std::atomic<int> calls{0};
  std::optional<larder::Memoized<larder::Cache<int, int>, int>> f;
  f.emplace(larder::cached(
      c, [&](int x) { return ++calls, x * 10; }, [](int x) { return x; },
      {.ttl = 1h, .refresh_after = 1min, .executor = pool}));
  CHECK((*f)(1) == 10);
  clock->advance(2min);
  CHECK((*f)(1) == 10);  // a hit: its refresh is queued behind the blocked task
  CHECK(f->stats().refreshes == 1);
  c.erase(1);  // now a get_or_load of 1 finds the refresh's flight and waits for it

  std::atomic<std::thread::id> waiter_id{};
  std::atomic<int> outcome{0};  // 1: Cancelled, 2: a value, 3: something else
  std::thread waiter([&] {
    waiter_id = std::this_thread::get_id();
    try {
      (void)c.get_or_load(1, [] { return -1; });
      outcome = 2;
    } catch (const larder::Cancelled&) {
      outcome = 1;
    } catch (...) {
      outcome = 3;
    }
  });
  REQUIRE(wait_until([&] {
    const std::thread::id id = waiter_id.load();
    return id != std::thread::id() && larder::detail::is_waiting(id);
  }));
  f.reset();  // the last copy: the queued refresh is cancelled, its waiter told so
  waiter.join();
  CHECK(outcome.load() == 1);
  CHECK(calls.load() == 1);  // fn never ran for the refresh
  unblock.set_value();
  pool.reset();  // joins the pool, which runs the cancelled task: it does nothing
  CHECK(calls.load() == 1);
  CHECK(!c.contains(1));
}
