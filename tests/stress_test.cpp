// Concurrency stress (ctest label "stress"; run under TSan in CI): threads hammer one cache with
// random get/lookup/peek/put/put_if_absent/erase/erase_if/invalidate_tag/cleanup while one
// thread moves a ManualClock. Catch2 assertions are not thread-safe: threads only record, and
// every check runs after join.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "larder/cache.h"

using namespace std::chrono_literals;

namespace {

// "prefix" + number. (Spelled out: GCC 12 reports a false -Wrestrict for
// "literal" + std::to_string(n), GCC bug 105651.)
std::string cat(std::string_view prefix, long long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

constexpr std::uint64_t kKeys = 2048;
// value = key << 32 | thread << 24 | sequence: a read can say which key it belongs to.
std::uint64_t make_value(std::uint64_t key, std::uint64_t thread, std::uint64_t seq) {
  return key << 32 | thread << 24 | (seq & 0xFFFFFF);
}

struct ThreadResult {
  std::uint64_t gets = 0;
  std::uint64_t bad_values = 0;
  std::uint64_t listener_bad = 0;
};

void run_stress(std::size_t shards, int threads, int ops_per_thread,
                larder::Policy policy = larder::Policy::kLru) {
  auto clock = std::make_shared<larder::ManualClock>();
  std::atomic<std::uint64_t> listener_bad{0};
  std::atomic<std::uint64_t> listener_calls{0};
  larder::Cache<std::uint64_t, std::uint64_t> cache(
      {.name = "stress",
       .max_entries = 512,
       .max_bytes = 400 * 40,
       .weigher = [](const std::uint64_t&, const std::uint64_t& v) { return 16 + (v & 63); },
       .default_ttl = 50ms,
       .shards = shards,
       .clock = clock,
       .on_removal =
           [&](const std::uint64_t& k, const std::uint64_t& v, larder::RemovalCause) {
             listener_calls.fetch_add(1, std::memory_order_relaxed);
             if ((v >> 32) != k) listener_bad.fetch_add(1, std::memory_order_relaxed);
           },
       .background_cleanup = 1ms,  // the real sweeper runs concurrently too
       .policy = policy});

  std::vector<ThreadResult> results(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(1234 + t);
      ThreadResult& r = results[t];
      for (int n = 0; n < ops_per_thread; ++n) {
        const std::uint64_t key = rng() % kKeys;
        const unsigned op = rng() % 100;
        auto check = [&](const std::optional<std::uint64_t>& v) {
          if (v && (*v >> 32) != key) ++r.bad_values;
        };
        if (op < 40) {
          check(cache.get(key));
          ++r.gets;
        } else if (op < 45) {
          auto l = cache.lookup(key);
          check(l.value);
          if (l.hit != l.value.has_value()) ++r.bad_values;
          ++r.gets;
        } else if (op < 50) {
          check(cache.peek(key));
        } else if (op < 75) {
          const auto ttl = std::chrono::milliseconds(1 + rng() % 100);
          cache.put(key, make_value(key, t, n), {.ttl = ttl});
        } else if (op < 82) {
          cache.put(key, make_value(key, t, n), {.tags = {cat("tag", key % 16)}});
        } else if (op < 88) {
          (void)cache.put_if_absent(key, make_value(key, t, n));
        } else if (op < 95) {
          (void)cache.erase(key);
        } else if (op < 96) {
          (void)cache.invalidate_tag(cat("tag", rng() % 16));
        } else if (op < 97) {
          const std::uint64_t m = rng() % 64;
          (void)cache.erase_if(
              [m](const std::uint64_t& k, const std::uint64_t&) { return k % 64 == m; });
        } else if (op < 99) {
          (void)cache.cleanup();
        } else {
          (void)cache.stats();
        }
        if (t == 0 && n % 64 == 0) clock->advance(1ms);
      }
    });
  }
  for (auto& th : pool) th.join();

  std::uint64_t gets = 0;
  for (const ThreadResult& r : results) {
    CHECK(r.bad_values == 0);
    gets += r.gets;
  }
  CHECK(listener_bad.load() == 0);
  const larder::Stats s = cache.stats();
  INFO("hits " << s.hits << " misses " << s.misses << " puts " << s.puts << " updates " << s.updates
               << " evictions " << s.evictions << " expirations " << s.expirations << " explicit "
               << s.explicit_removals << " size " << s.size);
  CHECK(s.size <= 512);
  CHECK(s.bytes <= 400 * 40);
  CHECK(s.hits + s.misses == gets);
  CHECK(s.inserts() == s.size + s.evictions + s.expirations + s.explicit_removals);
  CHECK(listener_calls.load() == s.updates + s.evictions + s.expirations + s.explicit_removals);
  CHECK(s.evictions > 0);
  CHECK(s.rejected <= s.evictions);
  if (policy == larder::Policy::kTinyLfu) CHECK(s.admissions + s.rejected > 0);
  CHECK(s.expirations > 0);
  CHECK(s.explicit_removals > 0);
  // Every surviving value belongs to its key, and size/bytes agree with what is reachable.
  std::uint64_t live = 0;
  for (std::uint64_t k = 0; k < kKeys; ++k) {
    if (auto v = cache.peek(k)) {
      CHECK((*v >> 32) == k);
      ++live;
    }
  }
  CHECK(live <= s.size);
  clock->advance(1h);
  cache.cleanup();
  CHECK(cache.size() == 0);
  CHECK(cache.bytes() == 0);
}

}  // namespace

TEST_CASE("stress: 4 threads on 8 shards keep bounds, stats identities and values", "[stress]") {
  run_stress(8, 4, 60'000);
}

TEST_CASE("stress: 4 threads on 1 shard (max contention)", "[stress]") { run_stress(1, 4, 30'000); }

TEST_CASE("stress: 3 threads on 64 shards (cross-shard eviction)", "[stress]") {
  run_stress(64, 3, 40'000);
}

TEST_CASE("stress: TinyLFU, 4 threads on 8 shards keep bounds, stats identities and values",
          "[stress]") {
  run_stress(8, 4, 30'000, larder::Policy::kTinyLfu);
}

TEST_CASE("stress: TinyLFU, 4 threads on 1 shard", "[stress]") {
  run_stress(1, 4, 20'000, larder::Policy::kTinyLfu);
}

TEST_CASE("stress: concurrent puts into a full sharded cache keep the entry bound and count exact",
          "[stress]") {
  // Every put of a new key into the full cache evicts one entry; the shard publishes the net
  // change to the shared totals (nothing, for such a swap) once, at the end of its critical
  // section. Whatever interleaving, the totals must match what is stored, within the bound.
  constexpr std::size_t kMax = 1000;
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPuts = 20'000;
  larder::Cache<std::uint64_t, std::uint64_t> cache({.max_entries = kMax, .shards = 8});
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (std::uint64_t n = 0; n < kPuts; ++n) {
        const std::uint64_t key = std::uint64_t(t) << 32 | n;
        cache.put(key, key);
      }
    });
  }
  for (auto& th : pool) th.join();
  const larder::Stats s = cache.stats();
  INFO("size " << s.size << " evictions " << s.evictions);
  CHECK(s.size <= kMax);
  CHECK(s.size + kThreads >= kMax);  // evictions stop at the bound, give or take a racing put
  CHECK(s.inserts() == kThreads * kPuts);
  CHECK(s.inserts() == s.size + s.evictions);
  std::size_t live = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (std::uint64_t n = 0; n < kPuts; ++n) {
      const std::uint64_t key = std::uint64_t(t) << 32 | n;
      if (auto v = cache.peek(key)) {
        CHECK(*v == key);
        ++live;
      }
    }
  }
  CHECK(live == s.size);  // the published total is exactly what is stored
  cache.clear();
  CHECK(cache.size() == 0);
}

TEST_CASE("stress: lock-free readers while a shard's slot storage grows", "[stress]") {
  // One shard, unbounded: the writer's inserts add slot chunks and double the chunk directory
  // again and again (256 slots a chunk) while readers look up keys they know are present. A
  // reader reaches a slot through whichever directory it loads (slot_pool.h): that load must
  // acquire what the writer published, or TSan reports a race on the directory's entries.
  larder::Cache<std::uint64_t, std::uint64_t> c({.shards = 1, .background_cleanup = 0s});
  constexpr std::uint64_t kInserts = 200'000;
  std::atomic<std::uint64_t> published{0};  // keys [0, published) are in the cache
  std::atomic<bool> stop{false};
  std::vector<ThreadResult> results(2);
  std::vector<std::thread> readers;
  for (std::size_t r = 0; r < results.size(); ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(r);
      while (!stop.load(std::memory_order_acquire)) {
        const std::uint64_t n = published.load(std::memory_order_acquire);
        if (n == 0) continue;
        const std::uint64_t k = rng() % n;
        const auto v = c.get(k);
        ++results[r].gets;
        if (!v || *v != k * 3) ++results[r].bad_values;
      }
    });
  }
  for (std::uint64_t k = 0; k < kInserts; ++k) {
    c.put(k, k * 3);
    published.store(k + 1, std::memory_order_release);
  }
  stop = true;
  for (auto& t : readers) t.join();
  for (const ThreadResult& r : results) {
    CHECK(r.gets > 0);
    CHECK(r.bad_values == 0);
  }
  CHECK(c.size() == kInserts);
}
