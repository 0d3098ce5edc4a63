// Cache's bulk calls: get_many, put_many and get_all (one bulk load for what is missing,
// single-flight per key with get_or_load and other get_alls).
#include <larder/cache.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_util.h"

using namespace std::chrono_literals;
using StrCache = larder::Cache<std::string, std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;
using Keys = std::vector<std::string>;

TEST_CASE("get_many answers in the caller's order and counts each key like get", "[cache][bulk]") {
  StrCache c({.max_entries = 100});
  c.put("a", "1");
  c.put("c", "3");
  const auto r = c.get_many(Keys{"a", "b", "c", "a"});
  REQUIRE(r.size() == 4);
  CHECK(r[0] == "1");
  CHECK_FALSE(r[1]);
  CHECK(r[2] == "3");
  CHECK(r[3] == "1");
  CHECK(c.stats().hits == 3);
  CHECK(c.stats().misses == 1);
  CHECK(c.get_many({"c", "zz"}) == std::vector<std::optional<std::string>>{"3", std::nullopt});
  larder::Cache<std::uint64_t, std::uint64_t> ints({.max_entries = 10});
  ints.put(7, 70);
  CHECK(ints.get_many({7, 8}) == std::vector<std::optional<std::uint64_t>>{70, std::nullopt});
}

TEST_CASE("put_many stores every pair with the options, or nothing when one is refused",
          "[cache][bulk]") {
  auto clock = std::make_shared<larder::ManualClock>();
  StrCache c({.max_bytes = 4096, .clock = clock});
  c.put_many(Pairs{{"a", "1"}, {"b", "2"}}, {.ttl = 10s, .tags = {"batch"}});
  CHECK(c.get("a") == "1");
  CHECK(c.lookup("b").ttl == 10s);
  std::map<std::string, std::string> more{{"c", "3"}};
  c.put_many(more);
  CHECK(c.get("c") == "3");
  // One value over max_bytes: refused before anything is stored.
  CHECK_THROWS_AS(c.put_many(Pairs{{"d", "4"}, {"e", larder_test::random_bytes(8192)}}),
                  larder::ValueTooLarge);
  CHECK_FALSE(c.contains("d"));
  CHECK_THROWS_AS(c.put_many(Pairs{{"f", "6"}}, {.ttl = -1s}), larder::InvalidArgument);
  CHECK_FALSE(c.contains("f"));
  CHECK(c.size() == 3);
  CHECK(c.invalidate_tag("batch") == 2);
  clock->advance(11s);
  CHECK(c.get("c") == "3");  // put without a TTL
}

TEST_CASE("get_all loads what is missing in one call, each key once, and stores it",
          "[cache][bulk]") {
  auto clock = std::make_shared<larder::ManualClock>();
  StrCache c({.max_entries = 100, .clock = clock});
  c.put("hit", "cached");
  std::vector<Keys> calls;
  auto loader = [&](const Keys& missing) {
    calls.push_back(missing);
    Pairs out;
    for (const std::string& k : missing) {
      if (k != "nowhere") out.emplace_back(k, "loaded " + k);
    }
    out.emplace_back("unasked", "ignored");
    return out;
  };
  const auto r = c.get_all(Keys{"hit", "x", "nowhere", "y", "x"}, loader, {.ttl = 5s});
  REQUIRE(calls.size() == 1);
  CHECK(calls[0] == Keys{"x", "nowhere", "y"});  // each missing key once, in first-asked order
  REQUIRE(r.size() == 5);
  CHECK(r[0] == "cached");
  CHECK(r[1] == "loaded x");
  CHECK_FALSE(r[2]);  // left out by the loader: absent
  CHECK(r[3] == "loaded y");
  CHECK(r[4] == "loaded x");  // a key asked twice
  CHECK(c.peek("x") == "loaded x");
  CHECK(c.lookup("y").ttl == 5s);
  CHECK_FALSE(c.contains("nowhere"));
  CHECK_FALSE(c.contains("unasked"));
  // Now everything loaded is a hit: the loader is not called again.
  CHECK(c.get_all(Keys{"x", "y"}, loader) ==
        std::vector<std::optional<std::string>>{"loaded x", "loaded y"});
  CHECK(calls.size() == 1);
  clock->advance(6s);  // the TTL it was stored with
  c.get_all(Keys{"x"}, loader);
  CHECK(calls.size() == 2);
}

TEST_CASE("get_all: 64 threads over overlapping keys load each key exactly once", "[cache][bulk]") {
  constexpr int kThreads = 64, kKeys = 300, kPerThread = 40;
  StrCache c({.max_entries = 1000});
  std::vector<std::atomic<int>> loads(kKeys);
  std::atomic<int> calls{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Keys keys;
      for (int k = 0; k < kPerThread; ++k) keys.push_back(std::to_string((t * 4 + k) % kKeys));
      const auto r = c.get_all(keys, [&](const Keys& missing) {
        calls.fetch_add(1);
        Pairs out;
        for (const std::string& k : missing) {
          loads[std::stoi(k)].fetch_add(1);
          out.emplace_back(k, "v" + k);
        }
        return out;
      });
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (r[i] != "v" + keys[i]) wrong.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
  int asked = 0;
  for (int k = 0; k < kKeys; ++k) {
    const bool requested = k < (kThreads - 1) * 4 + kPerThread;
    if (requested) ++asked;
    CHECK(loads[k].load() == (requested ? 1 : 0));
  }
  CHECK(c.size() == static_cast<std::size_t>(asked));
  CHECK(calls.load() <= kThreads);
}

TEST_CASE("get_all waits for a get_or_load of the same key instead of loading it again",
          "[cache][bulk]") {
  StrCache c({.max_entries = 100});
  std::atomic<bool> release{false};
  std::thread loader_thread([&] {
    c.get_or_load("k", [&] {
      larder_test::wait_until([&] { return release.load(); });
      return std::string("from get_or_load");
    });
  });
  REQUIRE(larder_test::wait_until([&] { return c.stats().misses == 1; }));
  Keys bulk_asked;
  std::optional<std::string> got;
  std::thread bulk([&] {
    got = c.get_all(Keys{"k", "j"}, [&](const Keys& missing) {
      bulk_asked = missing;
      return Pairs{{"j", "from get_all"}};
    })[0];
  });
  const auto bulk_id = bulk.get_id();
  REQUIRE(larder_test::wait_until([&] { return larder::detail::is_waiting(bulk_id); }));
  release = true;
  bulk.join();
  loader_thread.join();
  CHECK(bulk_asked == Keys{"j"});
  CHECK(got == "from get_or_load");
  CHECK(c.peek("j") == "from get_all");
}

TEST_CASE("get_all's loader failure and left-out keys reach a get_or_load waiting on them",
          "[cache][bulk]") {
  StrCache c({.max_entries = 100});
  for (const bool fail : {true, false}) {
    c.clear();
    std::thread::id waiter_id;
    std::atomic<bool> caller_done{false};
    std::string waiter_saw;
    std::thread waiter;
    // The waiter and this thread handle the same exception object (one exception_ptr): the
    // waiter leaves its handler only after this thread has left its own, so the object's end is
    // ordered after every read of it in a way TSan sees (its refcount lives in libstdc++).
    auto after_caller = [&] { larder_test::wait_until([&] { return caller_done.load(); }); };
    auto loader = [&](const Keys&) -> Pairs {
      waiter = std::thread([&] {
        try {
          c.get_or_load("k", [] { return std::string("never"); });
          waiter_saw = "value";
        } catch (const larder::NotLoaded&) {
          waiter_saw = "not loaded";
          after_caller();
        } catch (const std::runtime_error& e) {
          waiter_saw = e.what();
          after_caller();
        }
      });
      waiter_id = waiter.get_id();
      REQUIRE(larder_test::wait_until([&] { return larder::detail::is_waiting(waiter_id); }));
      if (fail) throw std::runtime_error("database down");
      return Pairs{};
    };
    if (fail) {
      CHECK_THROWS_WITH(c.get_all(Keys{"k"}, loader), "database down");
    } else {
      CHECK_FALSE(c.get_all(Keys{"k"}, loader)[0]);
    }
    caller_done = true;
    waiter.join();
    CHECK(waiter_saw == (fail ? "database down" : "not loaded"));
    CHECK_FALSE(c.contains("k"));
  }
}

TEST_CASE("get_all returns a value erased while it loaded, without storing it", "[cache][bulk]") {
  StrCache c({.max_entries = 100});
  const auto r = c.get_all(Keys{"k"}, [&](const Keys&) {
    c.erase("k");  // a write of the key lands while it loads
    return Pairs{{"k", "stale"}};
  });
  CHECK(r[0] == "stale");
  CHECK_FALSE(c.contains("k"));
}

TEST_CASE("keys and erase_matching take Redis globs, for_each sees every entry", "[cache][glob]") {
  StrCache c({.max_entries = 1000, .shards = 4});
  for (int u = 0; u < 50; ++u) {
    c.put("user:" + std::to_string(u) + ":profile", "p");
    c.put("user:" + std::to_string(u) + ":feed", "f");
  }
  c.put("other", "o");
  auto profiles = c.keys("user:*:profile");
  CHECK(profiles.size() == 50);
  CHECK(c.keys().size() == 101);
  CHECK(c.keys("user:4?:feed").size() == 10);
  CHECK(c.keys("nothing*").empty());
  const auto before = c.stats();
  std::size_t seen = 0, bytes = 0;
  c.for_each([&](const std::string& k, const std::string& v) {
    ++seen;
    bytes += v.size();
    if (k == "other") c.put("added during the walk", "x");  // fn may call the cache
  });
  CHECK(seen >= 101);
  CHECK(seen <= 102);  // the entry put during the walk may or may not be seen
  CHECK(bytes >= 101);
  CHECK(bytes == seen);                           // every value is one byte
  CHECK(c.stats().hits == before.hits);           // no stats
  CHECK(c.erase_matching("user:1*:feed") == 11);  // 1, 10..19
  CHECK_FALSE(c.contains("user:12:feed"));
  CHECK(c.contains("user:12:profile"));
  CHECK(c.contains("user:2:feed"));
  CHECK(c.erase_matching("user:[0-4]:*") == 9);  // 0..4 profiles, 0 and 2..4 feeds (1 is gone)
  CHECK(c.size() == 102 - 11 - 9);
}

TEST_CASE("for_each shows compressed values decoded, and integer-keyed caches too",
          "[cache][glob]") {
  StrCache c({.max_entries = 100, .compression = {.min_size = 64}});
  const std::string big(4096, 'z');
  c.put("big", big);
  std::string got;
  c.for_each([&](const std::string&, const std::string& v) { got = v; });
  CHECK(got == big);
  larder::Cache<std::uint64_t, std::uint64_t> ints({.max_entries = 100});
  for (std::uint64_t k = 0; k < 10; ++k) ints.put(k, k * 10);
  std::uint64_t sum = 0;
  ints.for_each([&](const std::uint64_t& k, const std::uint64_t& v) { sum += k + v; });
  CHECK(sum == 45 + 450);
}

TEST_CASE("erase_matching: a load in flight of a matching key stores nothing", "[cache][glob]") {
  StrCache c({.max_entries = 100});
  const std::string v = c.get_or_load("user:1:x", [&] {
    c.erase_matching("user:*");
    return std::string("loaded");
  });
  CHECK(v == "loaded");
  CHECK_FALSE(c.contains("user:1:x"));
}
