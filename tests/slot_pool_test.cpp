// detail/slot_pool.h on its own: allocation through chunks, the free list, keys and payloads
// built and destroyed, addresses stable across growth, the optional per-slot arrays; and the
// per-entry sizes the memory figure rests on.
#include "larder/detail/slot_pool.h"

#include <larder/cache.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace {
using larder::detail::kNil;
using Pool = larder::detail::SlotPool<std::string, std::string>;

larder::detail::Payload<std::string> value(std::string v) {
  larder::detail::Payload<std::string> p;
  p.value.emplace(std::move(v));
  return p;
}
}  // namespace

TEST_CASE("slot pool: slots across chunks keep their address, and freed slots are reused",
          "[slot_pool]") {
  Pool pool;
  std::vector<std::uint32_t> ids;
  std::vector<const void*> where;
  for (int k = 0; k < 1000; ++k) {  // four chunks of 256
    const std::uint32_t i = pool.allocate("k" + std::to_string(k), value("v" + std::to_string(k)));
    ids.push_back(i);
    where.push_back(&pool[i]);
  }
  CHECK(pool.high_water() == 1000);
  CHECK(std::set<std::uint32_t>(ids.begin(), ids.end()).size() == 1000);
  for (int k = 0; k < 1000; ++k) {
    CHECK(&pool[ids[k]] == where[k]);  // growth moved nothing
    CHECK(&pool.unlocked(ids[k]) == where[k]);
    CHECK(pool[ids[k]].key() == "k" + std::to_string(k));
    CHECK(pool[ids[k]].value() == "v" + std::to_string(k));
    CHECK(pool.link(ids[k]).heap_pos == kNil);
  }
  pool.release(ids[10]);
  pool.release(ids[500]);
  CHECK(pool[ids[10]].state == larder::detail::kFree);
  const std::uint32_t a = pool.allocate(std::string("again"), value("x"));
  const std::uint32_t b = pool.allocate(std::string("again2"), value("y"));
  CHECK(std::set<std::uint32_t>{a, b} == std::set<std::uint32_t>{ids[10], ids[500]});
  CHECK(pool.high_water() == 1000);  // reused, not grown
  CHECK(pool[a].state == larder::detail::kLive);
  pool.clear();
  CHECK(pool.high_water() == 0);
}

TEST_CASE("slot pool: the per-slot arrays exist only when asked for", "[slot_pool]") {
  larder::detail::SlotPool<std::uint64_t, std::uint64_t> pool(
      {.access_deadlines = true, .weights = true});
  larder::detail::Payload<std::uint64_t> p;
  p.value.emplace(7);
  const std::uint32_t i = pool.allocate(std::uint64_t{1}, std::move(p));
  pool.access_deadline(i) = 123;
  pool.weight(i) = 45;
  CHECK(pool.access_deadline(i) == 123);
  CHECK(pool.weight(i) == 45);
  CHECK(pool.extras().access_deadlines);
  CHECK(pool.extras().weights);
  larder::detail::SlotPool<std::uint64_t, std::uint64_t> plain;
  CHECK(!plain.extras().access_deadlines);
  CHECK(!plain.extras().weights);
}

TEST_CASE("per-entry storage: a 40 B slot and 12 B of links, weights kept only when they vary",
          "[engine]") {
  // The memory figure in bench/README.md rests on these sizes (key 8, value 8, write time 8,
  // TTL deadline 8, version and flags 8; LRU links and heap position 12).
  STATIC_REQUIRE(sizeof(larder::detail::Slot<std::uint64_t, std::uint64_t>) == 40);
  STATIC_REQUIRE(sizeof(larder::detail::Link) == 12);
  // Every entry weighs 16 here, so no weight is stored: bytes() and evicted_bytes still add up
  // through inserts, updates, evictions and erases.
  larder::Cache<std::uint64_t, std::uint64_t> c(
      {.max_entries = 100, .shards = 1, .background_cleanup = larder::Duration{0}});
  for (std::uint64_t k = 0; k < 250; ++k) c.put(k, k);
  c.put(249, 1);  // an update
  CHECK(c.bytes() == 100 * 16);
  CHECK(c.erase(249));
  CHECK(c.bytes() == 99 * 16);
  const larder::Stats s = c.stats();
  CHECK(s.evictions == 150);
  CHECK(s.evicted_bytes == 150 * 16);
  CHECK(s.bytes == 99 * 16);
}
