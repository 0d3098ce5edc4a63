// One contract across configurations: put / get / update / erase / evict / expire, the stats
// identities and the listener's causes, for each value kind (a small POD updated in place, a
// short string, a compressed string) × 1 and 8 shards × TTL on and off × listener on and off.
// The configurations take different paths through the engine (lock-free in-place puts for PODs
// without a listener, the locked path otherwise, compressed frames, tick-grain recency with
// several shards); they answer to the same assertions. (The shape of Caffeine's CacheSpec.)
#include <larder/cache.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

using namespace std::chrono_literals;

namespace {

struct PodValue {
  using V = std::uint64_t;
  static V make(std::uint64_t i) { return i * 7 + 1; }
  static constexpr bool kCompressed = false;
};
struct ShortString {
  using V = std::string;
  static V make(std::uint64_t i) { return "v" + std::to_string(i); }
  static constexpr bool kCompressed = false;
};
struct CompressedString {
  using V = std::string;  // 2 KiB, above the default 1 KiB threshold, and compressible
  static V make(std::uint64_t i) {
    return std::string(2048, static_cast<char>('a' + i % 26)) + std::to_string(i);
  }
  static constexpr bool kCompressed = true;
};

/// Removal causes the listener saw, by cause.
struct Causes {
  std::mutex mu;
  std::map<larder::RemovalCause, std::uint64_t> n;
  std::uint64_t of(larder::RemovalCause c) {
    std::lock_guard<std::mutex> lock(mu);
    return n[c];
  }
};

}  // namespace

TEMPLATE_TEST_CASE("contract: every configuration keeps the same put, get, evict and expire rules",
                   "[matrix]", PodValue, ShortString, CompressedString) {
  using V = typename TestType::V;
  const std::size_t shards = GENERATE(1, 8);
  const bool ttl = GENERATE(false, true);
  const bool listener = GENERATE(false, true);
  INFO("shards " << shards << ", ttl " << ttl << ", listener " << listener);

  constexpr std::size_t kCap = 64;
  auto clock = std::make_shared<larder::ManualClock>();
  Causes causes;
  larder::Options<std::uint64_t, V> o{
      .max_entries = kCap, .shards = shards, .clock = clock, .background_cleanup = 0s};
  if (listener) {
    o.on_removal = [&](const std::uint64_t&, const V&, larder::RemovalCause c) {
      std::lock_guard<std::mutex> lock(causes.mu);
      ++causes.n[c];
    };
  }
  larder::Cache<std::uint64_t, V> c(o);
  const larder::PutOptions po = ttl ? larder::PutOptions{.ttl = 10s} : larder::PutOptions{};
  auto make = [](std::uint64_t i) { return TestType::make(i); };
  std::uint64_t gets = 0, put_calls = 0;

  // Puts and gets.
  for (std::uint64_t k = 0; k < 32; ++k, ++put_calls) c.put(k, make(k), po);
  for (std::uint64_t k = 0; k < 32; ++k, ++gets) CHECK(c.get(k) == make(k));
  CHECK(!c.get(1000));
  ++gets;
  const larder::LookupResult<V> r = c.lookup(5);
  ++gets;
  CHECK(r.hit);
  CHECK(r.ttl == (ttl ? larder::Duration{10s} : larder::kNoExpiry));
  if constexpr (TestType::kCompressed) CHECK(c.stats().compressed == 32);

  // Updates replace the value in place or by a new entry: the same answers either way.
  for (std::uint64_t k = 0; k < 16; ++k, ++put_calls) c.put(k, make(k + 100), po);
  for (std::uint64_t k = 0; k < 16; ++k, ++gets) CHECK(c.get(k) == make(k + 100));
  CHECK(c.stats().updates == 16);
  CHECK(c.size() == 32);

  // Erase.
  CHECK(c.erase(3));
  CHECK(!c.erase(3));
  CHECK(!c.get(3));
  ++gets;
  CHECK(!c.contains(3));

  // Eviction keeps the bound after every put, and counts what it removed.
  for (std::uint64_t k = 1000; k < 1200; ++k, ++put_calls) {
    c.put(k, make(k), po);
    REQUIRE(c.size() <= kCap);
  }
  CHECK(c.get(1199) == make(1199));  // the newest entry stays
  ++gets;

  larder::Stats s = c.stats();
  CHECK(s.puts == put_calls);
  CHECK(s.updates == 16);
  CHECK(s.explicit_removals == 1);
  CHECK(s.size == kCap);  // 231 distinct keys live at some point: the bound is reached exactly
  CHECK(s.evictions == 32 + 200 - 1 - kCap);
  CHECK(s.expirations == 0);
  CHECK(s.inserts() - s.explicit_removals - s.evictions == s.size);
  CHECK(s.size == c.size());
  CHECK(s.bytes == c.bytes());
  CHECK(s.hits + s.misses == gets);
  if (listener) {
    CHECK(causes.of(larder::RemovalCause::kReplaced) == 16);
    CHECK(causes.of(larder::RemovalCause::kExplicit) == 1);
    CHECK(causes.of(larder::RemovalCause::kEvicted) == s.evictions);
    CHECK(causes.of(larder::RemovalCause::kExpired) == 0);
  }

  // Expiry: at the TTL an entry is gone for every reader; without one nothing expires.
  const std::uint64_t held = c.size();
  clock->advance(10s);
  const bool present = c.get(1199).has_value();
  ++gets;
  CHECK(present == !ttl);
  c.cleanup();
  s = c.stats();
  CHECK(s.hits + s.misses == gets);
  if (ttl) {
    CHECK(c.size() == 0);
    CHECK(c.bytes() == 0);
    CHECK(s.expirations == held);
  } else {
    CHECK(c.size() == held);
    CHECK(s.expirations == 0);
  }
  CHECK(s.inserts() - s.explicit_removals - s.evictions - s.expirations == s.size);
  if (listener) CHECK(causes.of(larder::RemovalCause::kExpired) == s.expirations);
}
