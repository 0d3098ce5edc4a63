// detail/eviction_order.h and its policies, exact_lru.h and coarse_lru.h, on their own, over a
// real slot pool: what each is told (add, remove, accesses with and without the lock) and the
// victims it gives back. (Through a Cache: trace_test.cpp holds both to exact LRU's hit ratio.)
#include "larder/detail/eviction_order.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <thread>
#include <vector>

#include "larder/detail/epoch.h"

namespace {
using larder::detail::CoarseLru;
using larder::detail::EvictionOrder;
using larder::detail::ExactLru;
using larder::detail::kNil;
using larder::detail::Recency;
using Pool = larder::detail::SlotPool<std::uint64_t, std::uint64_t>;

static_assert(larder::detail::EvictionPolicy<ExactLru, Pool>);
static_assert(larder::detail::EvictionPolicy<CoarseLru, Pool>);

// `n` live slots in a pool, told to `order` in allocation order (slot k added k-th).
template <class Order>
std::vector<std::uint32_t> fill(Pool& pool, Order& order, int n) {
  std::vector<std::uint32_t> slots;
  for (int k = 0; k < n; ++k) {
    larder::detail::Payload<std::uint64_t> p;
    p.value.emplace(k);
    const std::uint32_t i = pool.allocate(std::uint64_t(k), std::move(p));
    order.add(pool, i, slots.size() + 1);
    slots.push_back(i);
  }
  return slots;
}
// Evicts every entry (victim, remove, as a shard does) and returns them in eviction order.
template <class Order>
std::vector<std::uint32_t> drain(Pool& pool, Order& order) {
  std::vector<std::uint32_t> out;
  order.prepare_eviction(pool);
  for (std::uint32_t v = order.victim(pool); v != kNil; v = order.victim(pool)) {
    order.remove(pool, v);
    out.push_back(v);
  }
  return out;
}
std::vector<std::uint32_t> listed(Pool& pool, EvictionOrder& order) {
  std::vector<std::uint32_t> out;
  order.for_each(pool, [&](std::uint32_t i) { out.push_back(i); });
  return out;
}
}  // namespace

TEST_CASE("exact LRU: victims least recent first, locked accesses move to the front",
          "[eviction_order]") {
  Pool pool;
  ExactLru lru;
  const auto s = fill(pool, lru, 4);
  lru.record_access(pool, s[0]);  // 0 is now the most recent
  std::uint32_t n = 0;
  CHECK(lru.likely_victim(pool, &n) == s[1]);
  CHECK(n == s[2]);
  CHECK(drain(pool, lru) == std::vector<std::uint32_t>{s[1], s[2], s[3], s[0]});
  CHECK(lru.victim(pool) == kNil);
  CHECK(lru.likely_victim(pool, &n) == kNil);
}

TEST_CASE("exact LRU: lock-free reads reach the order on sync (own) or before evicting (all)",
          "[eviction_order]") {
  Pool pool;
  ExactLru lru;
  const auto s = fill(pool, lru, 4);
  CHECK(lru.record_read(s[0], pool[s[0]]));  // buffered: the list has not moved yet
  CHECK(lru.victim(pool) == s[0]);
  lru.sync(pool);  // this thread's reads
  CHECK(lru.victim(pool) == s[1]);
  // Another thread's read, still buffered: eviction gathers every thread's first.
  std::thread([&] {
    larder::detail::ReadSection section;  // (gives the thread its stripe)
    CHECK(lru.record_read(s[1], pool[s[1]]));
  }).join();
  CHECK(drain(pool, lru) == std::vector<std::uint32_t>{s[2], s[3], s[0], s[1]});
}

TEST_CASE("exact LRU: a buffered read of a slot removed since is skipped, a full stripe says so",
          "[eviction_order]") {
  Pool pool;
  ExactLru lru;
  const auto s = fill(pool, lru, 40);
  CHECK(lru.record_read(s[5], pool[s[5]]));
  lru.remove(pool, s[5]);
  pool.release(s[5]);  // free: replaying it must not link it back in
  lru.sync(pool);
  const auto order = drain(pool, lru);
  CHECK(order.size() == 39);
  CHECK(std::find(order.begin(), order.end(), s[5]) == order.end());
  // A stripe holds 16 reads (distinct slots): the 17th asks for a sync.
  ExactLru full;
  Pool pool2;
  const auto t = fill(pool2, full, 20);
  int accepted = 0;
  for (int k = 0; k < 20; ++k) accepted += full.record_read(t[k], pool2[t[k]]) ? 1 : 0;
  CHECK(accepted == 16);
  full.sync(pool2);
  CHECK(full.record_read(t[19], pool2[t[19]]));
}

TEST_CASE("coarse LRU: accesses stamp the tick, and an entry accessed in a later tick outlives",
          "[eviction_order]") {
  Pool pool;
  CoarseLru lru;
  const auto s = fill(pool, lru, 64);  // the tick moves every size/16 adds: many ticks
  // A read stamps the current tick: slot 0 was stamped with tick 0 when added, long ago.
  const std::uint8_t before = pool[s[0]].seen.load();
  CHECK(lru.record_read(s[0], pool[s[0]]));  // never fails
  const std::uint8_t now = pool[s[0]].seen.load();
  CHECK(now != before);
  CHECK(lru.record_read(s[0], pool[s[0]]));
  CHECK(pool[s[0]].seen.load() == now);  // the same tick: the stamp stays
  lru.record_access(pool, s[1]);         // under the lock: a stamp too
  CHECK(pool[s[1]].seen.load() == now);
  const auto order = drain(pool, lru);
  REQUIRE(order.size() == 64);
  // 0 and 1, stamped in the last tick, go after every entry last accessed in an earlier one.
  CHECK(std::find(order.begin(), order.end(), s[0]) - order.begin() >= 60);
  CHECK(std::find(order.begin(), order.end(), s[1]) - order.begin() >= 60);
  CHECK(order.front() == s[2]);  // the oldest untouched entry goes first
}

TEST_CASE("eviction order: dispatches to the policy it was built with", "[eviction_order]") {
  for (const Recency r : {Recency::kExact, Recency::kCoarse}) {
    Pool pool;
    EvictionOrder order(r);
    CHECK(order.recency() == r);
    const auto s = fill(pool, order, 8);
    CHECK(listed(pool, order) ==
          std::vector<std::uint32_t>{s[7], s[6], s[5], s[4], s[3], s[2], s[1], s[0]});
    std::uint32_t n = 0;
    // (Coarse: the tail may be a tick marker, which names no entry to prefetch.)
    const std::uint32_t likely = order.likely_victim(pool, &n);
    CHECK((likely == s[0] || (r == Recency::kCoarse && likely == kNil)));
    order.record_access(pool, s[0]);
    // (Coarse: a shard of under 16 entries ticks on every add, so the stamp is the newest.)
    CHECK(drain(pool, order).back() == s[0]);
    order.reset();
    CHECK(listed(pool, order).empty());
    CHECK(order.victim(pool) == kNil);
  }
}
