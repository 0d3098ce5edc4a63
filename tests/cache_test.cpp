// Unit tests for larder/cache.h: every operation, TTL edges on a ManualClock, LRU order, both
// bounds, tags, prefixes, listener causes, stats identities.
#include "larder/cache.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "larder/memoize.h"
#include "test_util.h"

using namespace std::chrono_literals;
using larder::RemovalCause;

namespace {

// "prefix" + number. (Spelled out: GCC 12 reports a false -Wrestrict for
// "literal" + std::to_string(n), GCC bug 105651.)
std::string cat(std::string_view prefix, long long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

using StrCache = larder::Cache<std::string, std::string>;
using IntCache = larder::Cache<std::uint64_t, std::uint64_t>;

struct Event {
  std::string key;
  std::string value;
  RemovalCause cause;
  bool operator==(const Event&) const = default;
};

// A string cache on a manual clock, one shard (exact LRU), recording listener events.
struct Fixture {
  std::shared_ptr<larder::ManualClock> clock = std::make_shared<larder::ManualClock>();
  std::vector<Event> events;
  StrCache::Options options() {
    return {.shards = 1,
            .clock = clock,
            .on_removal =
                [this](const std::string& k, const std::string& v, RemovalCause c) {
                  events.push_back({k, v, c});
                },
            .background_cleanup = 0s};
  }
};

}  // namespace

TEST_CASE("get, put, peek, contains on a fresh cache", "[cache]") {
  StrCache c({.background_cleanup = 0s});
  CHECK_FALSE(c.get("a"));
  c.put("a", "1");
  CHECK(c.get("a") == "1");
  CHECK(c.peek("a") == "1");
  CHECK(c.contains("a"));
  CHECK_FALSE(c.contains("b"));
  CHECK(c.size() == 1);
  c.put("a", "2");
  CHECK(c.get("a") == "2");
  CHECK(c.size() == 1);
  const larder::Stats s = c.stats();
  CHECK(s.hits == 2);
  CHECK(s.misses == 1);
  CHECK(s.puts == 2);
  CHECK(s.updates == 1);
  CHECK(s.hit_rate() == Approx(2.0 / 3.0));
}

TEST_CASE("string keys look up by string_view, const char* and std::string", "[cache]") {
  StrCache c({.background_cleanup = 0s});
  static_assert(std::is_same_v<StrCache::key_view, std::string_view>);
  c.put(std::string("user:42"), "v");
  const char* cstr = "user:42";
  std::string_view sv = "user:42-and-more";
  CHECK(c.get(cstr) == "v");
  CHECK(c.get(sv.substr(0, 7)) == "v");
  CHECK(c.get(std::string("user:42")) == "v");
  CHECK(c.erase(sv.substr(0, 7)));
  CHECK_FALSE(c.contains("user:42"));
}

TEST_CASE("peek and contains change neither stats nor recency", "[cache][lru]") {
  Fixture f;
  auto o = f.options();
  o.max_entries = 2;
  StrCache c(o);
  c.put("a", "1");
  c.put("b", "2");
  CHECK(c.peek("a") == "1");  // would make "a" most recent if it promoted
  CHECK(c.contains("a"));
  c.put("c", "3");  // evicts the LRU: still "a"
  CHECK_FALSE(c.contains("a"));
  CHECK(c.contains("b"));
  const auto s = c.stats();
  CHECK(s.hits == 0);
  CHECK(s.misses == 0);
  REQUIRE(f.events.size() == 1);
  CHECK(f.events[0] == Event{"a", "1", RemovalCause::kEvicted});
}

TEST_CASE("get refreshes recency: LRU order", "[cache][lru]") {
  Fixture f;
  auto o = f.options();
  o.max_entries = 3;
  StrCache c(o);
  c.put("a", "1");
  c.put("b", "2");
  c.put("c", "3");
  REQUIRE(c.get("a"));  // order (MRU..LRU): a c b
  c.put("d", "4");      // evicts b
  CHECK_FALSE(c.contains("b"));
  c.put("c", "33");  // update promotes: c d a
  c.put("e", "5");   // evicts a
  CHECK_FALSE(c.contains("a"));
  CHECK(c.contains("c"));
  CHECK(c.contains("d"));
  CHECK(c.contains("e"));
  CHECK(c.size() == 3);
  const auto s = c.stats();
  CHECK(s.evictions == 2);
  std::vector<Event> evicted;
  for (auto& e : f.events) {
    if (e.cause == RemovalCause::kEvicted) evicted.push_back(e);
  }
  CHECK(evicted ==
        std::vector<Event>{{"b", "2", RemovalCause::kEvicted}, {"a", "1", RemovalCause::kEvicted}});
}

TEST_CASE("lookup reports hit and age since the put", "[cache][ttl]") {
  Fixture f;
  StrCache c(f.options());
  auto miss = c.lookup("k");
  CHECK_FALSE(miss.hit);
  CHECK_FALSE(miss.value);
  CHECK(miss.age == 0ns);
  c.put("k", "v");
  f.clock->advance(1500ms);
  auto hit = c.lookup("k");
  CHECK(hit.hit);
  CHECK(hit.value == "v");
  CHECK(hit.age == 1500ms);
  c.put("k", "w");  // a new put resets the age
  f.clock->advance(2s);
  CHECK(c.lookup("k").age == 2s);
  CHECK(c.stats().hits == 2);
  CHECK(c.stats().misses == 1);
}

TEST_CASE("TTL: an entry expires exactly at put time + ttl", "[cache][ttl]") {
  Fixture f;
  auto o = f.options();
  o.default_ttl = 10s;
  StrCache c(o);
  c.put("k", "v");
  f.clock->advance(10s - 1ns);
  CHECK(c.peek("k") == "v");
  CHECK(c.get("k") == "v");
  f.clock->advance(1ns);
  CHECK_FALSE(c.peek("k"));
  CHECK_FALSE(c.contains("k"));
  CHECK(c.size() == 1);  // peek/contains never reclaim
  CHECK_FALSE(c.get("k"));
  CHECK(c.size() == 0);  // get reclaims
  const auto s = c.stats();
  CHECK(s.expirations == 1);
  CHECK(s.misses == 1);
  CHECK(f.events == std::vector<Event>{{"k", "v", RemovalCause::kExpired}});
}

TEST_CASE("TTL: per-entry ttl overrides the default, kNoExpiry keeps an entry", "[cache][ttl]") {
  Fixture f;
  auto o = f.options();
  o.default_ttl = 10s;
  o.expire_after_access = 20s;
  StrCache c(o);
  c.put("default", "d");
  c.put("short", "s", {.ttl = 1s});
  c.put("long", "l", {.ttl = 15s});
  c.put("forever", "f", {.ttl = larder::kNoExpiry});
  f.clock->advance(1s);
  CHECK_FALSE(c.contains("short"));
  CHECK(c.contains("default"));
  f.clock->advance(9s);
  CHECK_FALSE(c.contains("default"));
  CHECK(c.contains("long"));
  f.clock->advance(5s);
  CHECK_FALSE(c.contains("long"));
  f.clock->advance(std::chrono::hours(24 * 365));
  CHECK(c.get("forever") == "f");
  CHECK(c.cleanup() == 3);
  CHECK(c.size() == 1);
}

TEST_CASE("TTL: zero default means no expiry", "[cache][ttl]") {
  Fixture f;
  StrCache c(f.options());
  c.put("k", "v");
  f.clock->advance(std::chrono::hours(1000));
  CHECK(c.get("k") == "v");
}

TEST_CASE("expire_after_access: get and put extend, peek does not", "[cache][ttl]") {
  Fixture f;
  auto o = f.options();
  o.expire_after_access = 5s;
  StrCache c(o);
  c.put("k", "v");
  c.put("p", "v");
  f.clock->advance(4s);
  CHECK(c.get("k"));   // k now lives until t=9s
  CHECK(c.peek("p"));  // p still ends at t=5s
  f.clock->advance(1s);
  CHECK_FALSE(c.contains("p"));
  CHECK(c.contains("k"));
  f.clock->advance(4s - 1ns);
  CHECK(c.contains("k"));
  f.clock->advance(1ns);
  CHECK_FALSE(c.contains("k"));
}

TEST_CASE("expire_after_access never outlives the write TTL", "[cache][ttl]") {
  Fixture f;
  auto o = f.options();
  o.default_ttl = 6s;
  o.expire_after_access = 5s;
  StrCache c(o);
  c.put("k", "v");
  f.clock->advance(4s);
  CHECK(c.get("k"));  // access deadline 9s, but the TTL ends at 6s
  f.clock->advance(2s);
  CHECK_FALSE(c.get("k"));
}

TEST_CASE("invalid TTLs are refused with a message and change nothing", "[cache][ttl][errors]") {
  Fixture f;
  StrCache c(f.options());
  c.put("k", "old");
  CHECK_THROWS_TYPE_WITH(
      c.put("k", "new", {.ttl = -1s}), larder::InvalidArgument,
      Catch::Matchers::Contains("PutOptions.ttl") && Catch::Matchers::Contains("-1s"));
  CHECK_THROWS_TYPE_WITH(
      c.put("k", "new", {.ttl = 0s}), larder::InvalidArgument,
      Catch::Matchers::Contains("PutOptions.ttl") && Catch::Matchers::Contains("0ns"));
  CHECK_THROWS_AS(c.put_if_absent("z", "new", {.ttl = -5ms}), larder::InvalidArgument);
  CHECK(c.get("k") == "old");
  CHECK_FALSE(c.contains("z"));
  CHECK(c.stats().puts == 1);
  CHECK(f.events.empty());
}

TEST_CASE("expired entries are reclaimed by cleanup, puts, and the entry's own reads",
          "[cache][ttl]") {
  Fixture f;
  auto o = f.options();
  o.default_ttl = 1s;
  StrCache c(o);
  for (int i = 0; i < 20; ++i) c.put(cat("k", i), "v");
  f.clock->advance(1s);
  CHECK(c.size() == 20);
  c.put("fresh", "v");  // reclaims up to 8 expired entries of its shard
  CHECK(c.size() == 21 - 8);
  CHECK(c.cleanup() == 12);
  CHECK(c.size() == 1);
  CHECK(c.stats().expirations == 20);
  CHECK(f.events.size() == 20);
  for (auto& e : f.events) CHECK(e.cause == RemovalCause::kExpired);
}

TEST_CASE("cleanup reclaims in slices and finishes a large backlog", "[cache][ttl]") {
  Fixture f;
  auto o = f.options();
  o.default_ttl = 1s;
  o.on_removal = nullptr;
  o.shards = 4;
  StrCache c(o);
  for (int i = 0; i < 5000; ++i) c.put(std::to_string(i), "v", {.ttl = 1s + i * 1ms});
  f.clock->advance(2s);  // the first 1000 (ttl <= 2s) have expired
  CHECK(c.cleanup() == 1001);
  CHECK(c.size() == 3999);
  f.clock->advance(1h);
  CHECK(c.cleanup() == 3999);
  CHECK(c.size() == 0);
}

TEST_CASE("put_if_absent stores only when no live entry exists", "[cache]") {
  Fixture f;
  auto o = f.options();
  o.default_ttl = 1s;
  StrCache c(o);
  CHECK(c.put_if_absent("k", "1"));
  CHECK_FALSE(c.put_if_absent("k", "2"));
  CHECK(c.peek("k") == "1");
  f.clock->advance(1s);
  CHECK(c.put_if_absent("k", "3"));  // the expired one does not count
  CHECK(c.peek("k") == "3");
  const auto s = c.stats();
  CHECK(s.puts == 2);
  CHECK(s.updates == 0);
  CHECK(s.expirations == 1);
}

TEST_CASE("erase, erase_if, erase_prefix, clear report explicit removals", "[cache]") {
  Fixture f;
  StrCache c(f.options());
  for (const char* k : {"u:1", "u:2", "u:10", "o:1", "o:2", "x"}) c.put(k, k);
  CHECK(c.erase("x"));
  CHECK_FALSE(c.erase("x"));
  CHECK(c.erase_prefix("u:1") == 2);  // u:1, u:10
  CHECK(c.contains("u:2"));
  CHECK(c.erase_if([](const std::string&, const std::string& v) { return v == "o:2"; }) == 1);
  CHECK(c.size() == 2);
  c.clear();
  CHECK(c.size() == 0);
  CHECK(c.bytes() == 0);
  CHECK_FALSE(c.get("o:1"));
  CHECK(c.stats().explicit_removals == 6);
  CHECK(f.events.size() == 6);
  for (auto& e : f.events) CHECK(e.cause == RemovalCause::kExplicit);
}

TEST_CASE("erase_prefix treats glob characters literally", "[cache]") {
  StrCache c({.background_cleanup = 0s});
  c.put("a*1", "v");
  c.put("ab", "v");
  c.put("a?", "v");
  CHECK(c.erase_prefix("a*") == 1);
  CHECK(c.size() == 2);
  CHECK(c.erase_prefix("") == 2);
}

TEST_CASE("tags: invalidate_tag removes every entry carrying the tag", "[cache][tags]") {
  Fixture f;
  auto o = f.options();
  o.shards = 8;
  StrCache c(o);
  for (int i = 0; i < 100; ++i) {
    c.put(cat("a", i), "v", {.tags = {"user:1", i % 2 ? "odd" : "even"}});
    c.put(cat("b", i), "v", {.tags = {"user:2"}});
  }
  CHECK(c.invalidate_tag("odd") == 50);
  CHECK(c.invalidate_tag("user:1") == 50);
  CHECK(c.invalidate_tag("user:1") == 0);
  CHECK(c.invalidate_tag("nobody") == 0);
  CHECK(c.size() == 100);
  // A put replaces tags: b0 no longer carries user:2.
  c.put("b0", "v2");
  CHECK(c.invalidate_tag("user:2") == 99);
  CHECK(c.get("b0") == "v2");
  CHECK(c.stats().explicit_removals == 199);
}

TEST_CASE("tags are dropped with evicted and expired entries", "[cache][tags]") {
  Fixture f;
  auto o = f.options();
  o.max_entries = 1;
  StrCache c(o);
  c.put("a", "v", {.tags = {"t"}});
  c.put("b", "v");  // evicts a
  CHECK(c.invalidate_tag("t") == 0);
  c.put("c", "v", {.ttl = 1s, .tags = {"t"}});
  f.clock->advance(1s);
  CHECK(c.cleanup() == 1);
  CHECK(c.invalidate_tag("t") == 0);
}

TEST_CASE("max_bytes bounds the total weight, heavier values are refused", "[cache][bytes]") {
  Fixture f;
  auto o = f.options();
  o.max_bytes = 100;
  o.weigher = [](const std::string&, const std::string& v) { return v.size(); };
  StrCache c(o);
  c.put("a", std::string(40, 'a'));
  c.put("b", std::string(40, 'b'));
  CHECK(c.bytes() == 80);
  c.put("c", std::string(30, 'c'));  // 110 > 100: evicts a
  CHECK(c.bytes() == 70);
  CHECK_FALSE(c.contains("a"));
  c.put("b", std::string(90, 'B'));  // grows b: 120 > 100: evicts c
  CHECK(c.bytes() == 90);
  CHECK_FALSE(c.contains("c"));
  CHECK_THROWS_TYPE_WITH(
      c.put("b", std::string(101, 'x')), larder::ValueTooLarge,
      Catch::Matchers::Contains("101 bytes") && Catch::Matchers::Contains("max_bytes (100 bytes)"));
  CHECK(c.get("b") == std::string(90, 'B'));           // nothing already cached is lost
  CHECK(c.put_if_absent("d", std::string(100, 'd')));  // exactly max_bytes fits
  CHECK(c.bytes() == 100);
  const auto s = c.stats();
  CHECK(s.evictions == 3);
  CHECK(s.evicted_bytes == 40 + 30 + 90);
  CHECK(s.capacity_bytes == 100);
}

TEST_CASE("the default weigher counts sizeof plus string contents", "[cache][bytes]") {
  StrCache c({.background_cleanup = 0s});
  c.put("key", std::string(1000, 'x'));
  CHECK(c.bytes() == 2 * sizeof(std::string) + 3 + 1000);
  IntCache i({.background_cleanup = 0s});
  i.put(1, 2);
  CHECK(i.bytes() == 16);
  larder::Cache<int, std::vector<std::uint32_t>> v({.background_cleanup = 0s});
  v.put(1, std::vector<std::uint32_t>(10));
  CHECK(v.bytes() == sizeof(int) + sizeof(std::vector<std::uint32_t>) + 40);
}

TEST_CASE("max_entries holds across shards, evicting from other shards when needed",
          "[cache][lru]") {
  IntCache c({.max_entries = 1000, .shards = 16, .background_cleanup = 0s});
  for (std::uint64_t k = 0; k < 100'000; ++k) {
    c.put(k, k);
    REQUIRE(c.size() <= 1000);
  }
  CHECK(c.size() == 1000);
  const auto s = c.stats();
  CHECK(s.evictions == 99'000);
  CHECK(s.inserts() == s.size + s.evictions);
  // The most recent keys survive (each shard keeps its own most recent ones).
  std::size_t recent = 0;
  for (std::uint64_t k = 99'000; k < 100'000; ++k) recent += c.contains(k);
  CHECK(recent > 800);
}

TEST_CASE("a byte-bounded cache with many shards still accepts any value up to max_bytes",
          "[cache][bytes]") {
  larder::Cache<int, std::string> c(
      {.max_bytes = 10'000,
       .weigher = [](const int&, const std::string& v) { return v.size(); },
       .shards = 64,
       .background_cleanup = 0s,
       .compression = {.min_size = 0}});  // raw sizes: this is about the byte bound
  for (int i = 0; i < 100; ++i) c.put(i, std::string(100, 'x'));
  CHECK(c.bytes() == 10'000);
  c.put(1000, std::string(10'000, 'y'));  // evicts everything else, in every shard
  CHECK(c.size() == 1);
  CHECK(c.bytes() == 10'000);
  CHECK(c.get(1000)->size() == 10'000);
}

TEST_CASE("removal listener: causes, values, and it runs outside the shard lock",
          "[cache][listener]") {
  auto clock = std::make_shared<larder::ManualClock>();
  std::vector<Event> events;
  std::unique_ptr<StrCache> c;
  c = std::make_unique<StrCache>(
      StrCache::Options{.max_entries = 2,
                        .shards = 1,
                        .clock = clock,
                        .on_removal =
                            [&](const std::string& k, const std::string& v, RemovalCause cause) {
                              events.push_back({k, v, cause});
                              // Re-entering the same cache (same shard) would deadlock if called
                              // under the lock.
                              (void)c->peek(k);
                              (void)c->size();
                            },
                        .background_cleanup = 0s});
  c->put("a", "1");
  c->put("a", "2");  // replaced (old value)
  c->put("b", "1", {.ttl = 1s});
  c->put("c", "1");  // evicts a (LRU)
  clock->advance(1s);
  CHECK_FALSE(c->get("b"));  // expired
  CHECK(c->erase("c"));      // explicit
  c->put("d", "1");
  c.reset();  // destructor: no events
  CHECK(events == std::vector<Event>{{"a", "1", RemovalCause::kReplaced},
                                     {"a", "2", RemovalCause::kEvicted},
                                     {"b", "1", RemovalCause::kExpired},
                                     {"c", "1", RemovalCause::kExplicit}});
}

TEST_CASE("a throwing listener is counted and does not lose later notifications",
          "[cache][listener]") {
  int calls = 0;
  StrCache c({.shards = 1,
              .on_removal =
                  [&](const std::string&, const std::string&, RemovalCause) {
                    ++calls;
                    throw std::runtime_error("listener bug");
                  },
              .background_cleanup = 0s});
  for (int i = 0; i < 5; ++i) c.put(std::to_string(i), "v");
  c.clear();
  CHECK(calls == 5);
  CHECK(c.stats().listener_errors == 5);
  CHECK(c.size() == 0);
}

TEST_CASE("stats identities and reset_stats", "[cache][stats]") {
  Fixture f;
  auto o = f.options();
  o.max_entries = 10;
  o.default_ttl = 5s;
  StrCache c(o);
  std::uint64_t gets = 0;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 20; ++i) {
      c.put(std::to_string(i * 7 % 13), "v");
      (void)c.get(std::to_string(i));
      ++gets;
      if (i % 5 == 0) c.erase(std::to_string(i + 1));
    }
    f.clock->advance(3s);
  }
  c.cleanup();
  const auto s = c.stats();
  CHECK(s.hits + s.misses == gets);
  CHECK(s.inserts() == s.size + s.evictions + s.expirations + s.explicit_removals);
  CHECK(s.capacity == 10);
  CHECK(s.size <= 10);
  c.reset_stats();
  const auto z = c.stats();
  CHECK(z.hits == 0);
  CHECK(z.misses == 0);
  CHECK(z.puts == 0);
  CHECK(z.evictions == 0);
  CHECK(z.size == s.size);
}

TEST_CASE("auto shard count keeps small caches exact and bounded caches coarse",
          "[cache][options]") {
  CHECK(IntCache::auto_shards({.max_entries = 100}) == 1);
  CHECK(IntCache::auto_shards({.max_entries = 1023}) == 1);
  CHECK(IntCache::auto_shards({.max_entries = 4096}) <= 4);
  CHECK(IntCache::auto_shards({.max_bytes = 64 * 1024}) == 1);
  const std::size_t unbounded = IntCache::auto_shards({});
  CHECK(unbounded >= 4);
  CHECK(unbounded <= 64);
  CHECK((unbounded & (unbounded - 1)) == 0);
  IntCache c({.shards = 3, .background_cleanup = 0s});
  CHECK(c.shard_count() == 3);
}

// A user key type with a larder::Hash specialization, and one relying on std::hash.
struct OrderId {
  std::uint32_t region;
  std::uint64_t number;
  bool operator==(const OrderId&) const = default;
};
template <>
struct larder::Hash<OrderId> {
  std::uint64_t operator()(const OrderId& id, std::uint64_t seed) const noexcept {
    return larder::hash_u64(id.number ^ (std::uint64_t{id.region} << 48), seed);
  }
};
struct Sku {
  std::string code;
  bool operator==(const Sku&) const = default;
};
template <>
struct std::hash<Sku> {
  std::size_t operator()(const Sku& s) const noexcept { return std::hash<std::string>{}(s.code); }
};

TEST_CASE("user key types: a larder::Hash specialization or std::hash", "[cache][hash]") {
  larder::Cache<OrderId, int> orders({.background_cleanup = 0s});
  orders.put({1, 42}, 7);
  CHECK(orders.get({1, 42}) == 7);
  CHECK_FALSE(orders.get({2, 42}));
  larder::Cache<Sku, int> skus({.background_cleanup = 0s});
  skus.put({"A-1"}, 1);
  CHECK(skus.get({"A-1"}) == 1);
  CHECK_FALSE(skus.contains({"A-2"}));
  // A std::hash-style hasher as the Hash argument (mixed with the seed).
  larder::Cache<std::string, int, std::hash<std::string>> plain({.background_cleanup = 0s});
  static_assert(std::is_same_v<decltype(plain)::key_view, const std::string&>);
  plain.put("x", 1);
  CHECK(plain.get("x") == 1);
}

TEST_CASE("integer keys: a Cache<uint64_t, uint64_t> stores, evicts and reads back", "[cache]") {
  larder::Cache<std::uint64_t, std::uint64_t> c({.max_entries = 32768});
  c.put(1, 2);
  CHECK(c.get(1) == 2);
  for (std::uint64_t k = 0; k < 40'000; ++k) c.put(k, k * 2);
  CHECK(c.size() == 32768);
  CHECK(c.get(39'999) == 79'998);
}

TEST_CASE("hashes are seeded per instance but agree between string and string_view", "[hash]") {
  const larder::Hash<std::string> h;
  CHECK(h(std::string("abc"), 1) == h(std::string_view("abc"), 1));
  CHECK(h(std::string("abc"), 1) != h(std::string("abc"), 2));
  const larder::Hash<std::uint64_t> hi;
  CHECK(hi(5, 1) != hi(5, 2));
  CHECK(hi(5, 1) != hi(6, 1));
}

TEST_CASE("a cache on a CoarseClock keeps TTL entries and reports their age", "[cache]") {
  larder::Cache<std::uint64_t, std::uint64_t> c({.max_entries = 64,
                                                 .default_ttl = std::chrono::hours(1),
                                                 .clock = std::make_shared<larder::CoarseClock>()});
  c.put(1, 10);
  c.put(2, 20, {.ttl = larder::kNoExpiry});
  const auto before = std::chrono::steady_clock::now();
  c.put(1, 11);  // an update (lock-free when it can be)
  CHECK(c.get(1) == 11u);
  CHECK(c.get(2) == 20u);
  const auto r = c.lookup(1);
  CHECK(r.hit);
  CHECK(r.ttl == std::chrono::hours(1));
  CHECK(r.age >= larder::Duration{0});
  CHECK(r.age < std::chrono::seconds(1));
  // The age is measured on the coarse clock: the real time since the put plus the clock's lag
  // (a tick, more when the kernel's tick runs late, as on a busy VM: 4.4 ms seen at a 4 ms tick).
  // Bounded at a second: what this checks is the timeline.
  CHECK(r.age <= std::chrono::steady_clock::now() - before + 1s);
  CHECK(c.stats().hits == 3);
}

TEST_CASE("on the default clock a put's write time reads the steady clock only for a deadline",
          "[cache][ttl]") {
  using larder::detail::LazyNow;
  const auto ns = [](larder::TimePoint t) { return t.time_since_epoch().count(); };
  // The coarse clock's lag: a tick, more when the kernel's tick runs late (a busy VM); bounded
  // at a second here, which still fails for any other timeline.
  const std::int64_t lag = std::chrono::nanoseconds(1s).count();
  {  // No clock of its own: stamp() is the coarse clock, never ahead of steady time.
    LazyNow now(nullptr);
    const std::int64_t before = ns(std::chrono::steady_clock::now());
    const std::int64_t stamp = now.stamp();
    const std::int64_t precise = now();  // read after the stamp: never behind it
    CHECK(stamp <= precise);
    CHECK(stamp >= before - lag);
    CHECK(now.stamp() == precise);  // once now() is read, stamps are that reading
  }
  {  // A clock of its own (a ManualClock here): stamp() is that clock's reading, exactly.
    larder::ManualClock manual;
    LazyNow now(&manual);
    CHECK(now.stamp() == ns(manual.now()));
  }
  larder::Cache<std::uint64_t, std::uint64_t> c({.max_entries = 64});
  const auto before = std::chrono::steady_clock::now();
  c.put(1, 10);                                  // no TTL: stamped on the coarse clock
  c.put(2, 20, {.ttl = std::chrono::hours(1)});  // a deadline: the steady clock, exactly
  c.put(1, 11);                                  // an in-place update, stamped the same way
  const auto r1 = c.lookup(1);
  const auto r2 = c.lookup(2);
  const auto elapsed = std::chrono::steady_clock::now() - before;
  REQUIRE(r1.hit);
  REQUIRE(r2.hit);
  CHECK(r1.ttl == larder::kNoExpiry);
  CHECK(r2.ttl == std::chrono::hours(1));  // deadline - write time, both from one reading
  CHECK(r1.age >= larder::Duration{0});
  CHECK(r1.age <= elapsed + 1s);  // early stamp: overstated by the lag at most
  CHECK(r2.age >= larder::Duration{0});
  CHECK(r2.age <= elapsed);
}

TEST_CASE("a write that lands while a load of its key runs keeps the load's result out",
          "[cache][load]") {
  // The loader read the old row; meanwhile the row changed and the writer erased (or put) the
  // key. The load's callers still get what it loaded, but it is not stored over the write.
  auto clock = std::make_shared<larder::ManualClock>();
  StrCache c({.clock = clock, .background_cleanup = 0s});
  const std::string write =
      GENERATE(as<std::string>{}, "erase", "erase_prefix", "clear", "put", "put_if_absent");
  INFO("write: " << write);
  const std::string got = c.get_or_load("k", [&] {
    if (write == "erase") c.erase("k");
    if (write == "erase_prefix") c.erase_prefix("k");
    if (write == "clear") c.clear();
    if (write == "put") c.put("k", "new");
    if (write == "put_if_absent") c.put_if_absent("k", "new");
    return std::string("old row");
  });
  CHECK(got == "old row");
  const bool put = write.starts_with("put");
  CHECK(c.peek("k") == (put ? std::optional<std::string>("new") : std::nullopt));
  // The next load is not affected.
  CHECK(c.get_or_load("j", [] { return std::string("fresh"); }) == "fresh");
  CHECK(c.peek("j") == "fresh");
}

TEST_CASE("a lock-free put over an entry being reloaded keeps the put's value", "[cache][load]") {
  // A refresh-ahead reload starts while its entry is live; an in-place value's put takes no lock
  // and moves only the entry's version. The reload must not store its result over that put.
  auto clock = std::make_shared<larder::ManualClock>();
  IntCache c({.clock = clock, .background_cleanup = 0s});
  int calls = 0;
  auto f = larder::cached(
      c,
      [&](std::uint64_t k) -> std::uint64_t {
        if (++calls == 2) c.put(k, 99);  // lands while the reload runs
        return 10 + calls;
      },
      [](std::uint64_t k) { return k; },
      {.ttl = 10s, .refresh_after = 5s, .executor = std::make_shared<larder::InlineExecutor>()});
  CHECK(f(1) == 11u);
  clock->advance(6s);
  CHECK(f(1) == 11u);  // a hit; the reload runs inline (fn puts 99, returns 12)
  CHECK(calls == 2);
  CHECK(c.peek(1) == 99u);
}

TEST_CASE("stats do not depend on the put path: an expired entry is expired, then inserted",
          "[cache][stats][ttl]") {
  // A lock-free in-place put (plain cache) and a locked one (a listener turns lock-free puts
  // off) over the same expired, not yet reclaimed entry must count the same.
  auto clock = std::make_shared<larder::ManualClock>();
  int removals = 0;
  IntCache plain({.clock = clock, .background_cleanup = 0s});
  IntCache locked(
      {.clock = clock,
       .on_removal = [&](const std::uint64_t&, const std::uint64_t&, RemovalCause) { ++removals; },
       .background_cleanup = 0s});
  for (IntCache* c : {&plain, &locked}) {
    c->put(1, 1, {.ttl = 1s});
    c->put(2, 2, {.ttl = 1s});
  }
  clock->advance(2s);
  for (IntCache* c : {&plain, &locked}) {
    c->put(1, 5, {.ttl = 10s});  // later deadline, no tag: the lock-free path would take it
    c->put(2, 6);                // no TTL
  }
  for (IntCache* c : {&plain, &locked}) {
    const larder::Stats s = c->stats();
    CHECK(s.puts == 4);
    CHECK(s.updates == 0);
    CHECK(s.expirations == 2);
    CHECK(c->get(1) == 5u);
    CHECK(c->get(2) == 6u);
  }
  CHECK(removals == 2);
}

TEST_CASE("max_bytes above INT64_MAX is refused, not turned into a one-entry cache",
          "[cache][bytes][errors]") {
  // SIZE_MAX meant as "unbounded" became -1 in the bounds check: every put evicted the rest.
  CHECK_THROWS_TYPE_WITH(IntCache({.max_bytes = SIZE_MAX}), larder::InvalidArgument,
                         Catch::Matchers::Contains("Options.max_bytes") &&
                             Catch::Matchers::Contains("use 0 for unbounded"));
  IntCache big({.max_bytes = IntCache::Options::kMaxBytes, .background_cleanup = 0s});
  for (std::uint64_t k = 0; k < 100; ++k) big.put(k, k);
  CHECK(big.size() == 100);
}

TEST_CASE("a clock whose readings are before its epoch still expires entries",
          "[cache][ttl][clock]") {
  // time_since_epoch() < 0: the saturating deadline arithmetic overflowed (UBSan) and the entry
  // never expired.
  auto clock = std::make_shared<larder::ManualClock>(larder::TimePoint{} - 1h);
  IntCache c({.clock = clock, .background_cleanup = 0s});
  c.put(1, 1, {.ttl = 1s});
  c.put(2, 2, {.ttl = 2h});  // a deadline past the epoch
  CHECK(c.lookup(1).ttl == 1s);
  clock->advance(999ms);
  CHECK(c.get(1) == 1u);
  clock->advance(1ms);
  CHECK(!c.get(1));
  clock->advance(2h);
  CHECK(!c.get(2));
}

TEST_CASE("TTLs the clock cannot represent are refused, and kMaxTtl reads back as put",
          "[cache][ttl][errors]") {
  // A finite TTL near Duration::max() saturated and lookup().ttl then said kNoExpiry.
  IntCache c({.background_cleanup = 0s});
  CHECK_THROWS_TYPE_WITH(c.put(1, 1, {.ttl = larder::kNoExpiry - 1ns}), larder::InvalidArgument,
                         Catch::Matchers::Contains("PutOptions.ttl must be at most"));
  CHECK_THROWS_TYPE_WITH(c.put(1, 1, {.ttl = larder::kMaxTtl + 1ns}), larder::InvalidArgument,
                         Catch::Matchers::Contains("kMaxTtl"));
  CHECK(!c.contains(1));
  c.put(1, 1, {.ttl = larder::kMaxTtl});
  CHECK(c.lookup(1).ttl == larder::kMaxTtl);
  c.put(2, 2, {.ttl = larder::kNoExpiry});
  CHECK(c.lookup(2).ttl == larder::kNoExpiry);
  CHECK_THROWS_WITH(IntCache({.default_ttl = larder::kMaxTtl * 2}),
                    Catch::Matchers::Contains("Options.default_ttl"));
  CHECK_THROWS_WITH(IntCache({.expire_after_access = larder::kNoExpiry}),
                    Catch::Matchers::Contains("Options.expire_after_access"));
  CHECK_THROWS_WITH(
      larder::cached([](int x) { return x; }, {.ttl = larder::kMaxTtl, .stale_if_error = 1s}),
      Catch::Matchers::Contains("MemoizeOptions.ttl + stale_if_error"));
}

TEST_CASE("rebuild(): old entries stay readable until the new ones are written", "[cache]") {
  larder::Cache<std::string, int> c({.background_cleanup = 0s});
  c.put("a", 1);
  c.put("b", 2);
  c.put("gone", 3);
  std::vector<std::optional<int>> seen;
  const std::size_t removed = c.rebuild([&] {
    seen = {c.get("a"), c.get("b"), c.get("gone")};  // the old contents, all of them
    c.put("a", 10);
    c.put_many(std::vector<std::pair<std::string, int>>{{"b", 20}, {"new", 30}});
    CHECK(c.get_or_load("loaded", [] { return 40; }) == 40);
  });
  CHECK(seen == std::vector<std::optional<int>>{1, 2, 3});
  CHECK(removed == 1);
  CHECK_FALSE(c.contains("gone"));
  CHECK(c.get("a") == 10);
  CHECK(c.get("b") == 20);
  CHECK(c.get("new") == 30);
  CHECK(c.get("loaded") == 40);
  CHECK(c.stats().explicit_removals == 1);
  // The next rebuild starts from nothing written: what this one wrote is old now.
  CHECK(c.rebuild([&] { c.put("a", 100); }) == 3);
  CHECK(c.keys() == std::vector<std::string>{"a"});
}

TEST_CASE("rebuild(): a fill that throws removes nothing", "[cache]") {
  larder::Cache<int, int> c({.background_cleanup = 0s});
  c.put(1, 1);
  c.put(2, 2);
  CHECK_THROWS_AS(c.rebuild([&] {
    c.put(1, 10);
    throw std::runtime_error("the database went away");
  }),
                  std::runtime_error);
  CHECK(c.get(1) == 10);
  CHECK(c.get(2) == 2);                          // the old entry is kept
  CHECK(c.rebuild([&] { c.put(2, 20); }) == 1);  // and the failed one's writes are forgotten
  CHECK_FALSE(c.contains(1));
}

TEST_CASE("rebuild(): writes from other threads while it runs are kept", "[cache][concurrency]") {
  larder::Cache<int, int> c({.background_cleanup = 0s});
  for (int i = 0; i < 100; ++i) c.put(i, i);
  std::size_t removed = 0;
  removed = c.rebuild([&] {
    std::thread other([&] { c.put(1000, 1); });  // a request writing meanwhile
    other.join();
    for (int i = 0; i < 50; ++i) c.put(i, -i);
  });
  CHECK(removed == 50);
  CHECK(c.size() == 51);
  CHECK(c.get(1000) == 1);
}

TEST_CASE("rebuild(): a reader during rebuilds never misses", "[cache][concurrency]") {
  constexpr int kKeys = 256;
  larder::Cache<int, int> c({.background_cleanup = 0s});
  for (int i = 0; i < kKeys; ++i) c.put(i, 0);
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0}, misses{0};
  std::thread reader([&] {
    while (!stop.load()) {
      for (int i = 0; i < kKeys; ++i) {
        reads.fetch_add(1, std::memory_order_relaxed);
        if (!c.get(i)) misses.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });
  // Rebuild at least 50 times, and until the reader has read every key 20 times meanwhile
  // (polling its counter, with a deadline), so the reads overlap the rebuilds.
  while (reads.load() == 0) std::this_thread::yield();
  const long start = reads.load();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::size_t removed = 0;
  int round = 0;
  while (round < 50 ||
         (reads.load() - start < 20 * kKeys && std::chrono::steady_clock::now() < deadline)) {
    ++round;
    removed += c.rebuild([&] {
      for (int i = 0; i < kKeys; ++i) c.put(i, round);
      c.put(kKeys + round, round);  // one extra key per round, dropped by the next rebuild
    });
  }
  const long during = reads.load() - start;
  stop = true;
  reader.join();
  CHECK(during >= 20 * kKeys);
  CHECK(misses.load() == 0);
  CHECK(removed == static_cast<std::size_t>(round - 1));  // each extra key, by the next round
  CHECK(c.size() == kKeys + 1);
  CHECK(c.get(0) == round);
}
