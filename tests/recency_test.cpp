// Recency order (detail/recency_list.h): a one-shard cache keeps exact LRU (trace_test.cpp checks
// it to the hundredth); a cache of several shards keeps LRU order per shard at the grain of a
// tick (a sixteenth of the shard's entries inserted), and its hits write only their own entry's
// stamp, and only when the tick has moved.
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <vector>

#include "larder/cache.h"
#include "larder/detail/recency_list.h"

namespace {

using larder::detail::kNil;
using larder::detail::Link;
using RecencyList = larder::detail::RecencyList</*kCoarse=*/true>;

// The list only needs link(i) from a pool.
struct ToyPool {
  std::vector<Link> links;
  Link& link(std::uint32_t i) { return links[i]; }
};

// A coarse list of `n` entries inserted in order, each stamped with the tick it was inserted at;
// `size` is the shard size count_insert is told (a tick every size / 16 inserts).
struct Coarse {
  ToyPool pool;
  std::vector<std::uint8_t> seen;
  RecencyList list;

  Coarse(std::uint32_t n, std::size_t size) : pool{std::vector<Link>(n)}, seen(n) {
    for (std::uint32_t i = 0; i < n; ++i) {
      seen[i] = list.tick();
      list.push_front(pool, i);
      list.count_insert(pool, size);
    }
  }
  std::uint32_t evict() {
    const std::uint32_t v = list.victim(pool, [&](std::uint32_t i) { return seen[i]; });
    if (v != kNil) list.unlink(pool, v);
    return v;
  }
};

}  // namespace

TEST_CASE("coarse recency: a tick every 1/16 of the shard, markers in a ring of 16", "[recency]") {
  Coarse c(64, 64);  // a tick every 4 inserts: entries 4k..4k+3 were inserted in tick k
  CHECK(c.seen[0] == 0);
  CHECK(c.seen[3] == 0);
  CHECK(c.seen[4] == 1);
  CHECK(c.seen[63] == 15);
  CHECK(c.list.tick() == 16);
  // Head to tail: the newest entries first, and never more than 16 markers.
  std::vector<std::uint32_t> entries;
  int markers = 0;
  for (std::uint32_t i = c.list.head(); i != kNil; i = c.list.next(c.pool, i)) {
    if (RecencyList::is_marker(i)) {
      ++markers;
    } else {
      entries.push_back(i);
    }
  }
  CHECK(markers == 16);
  REQUIRE(entries.size() == 64);
  CHECK(entries.front() == 63);
  CHECK(entries.back() == 0);
}

TEST_CASE("coarse recency: evicts in insertion order when nothing was accessed", "[recency]") {
  Coarse c(64, 64);
  for (std::uint32_t i = 0; i < 64; ++i) CHECK(c.evict() == i);
  CHECK(c.evict() == kNil);  // only markers left
}

TEST_CASE("coarse recency: an access stamped in a later tick outlives every entry of earlier ones",
          "[recency]") {
  Coarse c(64, 64);
  // Exact LRU after accessing 5 then 0: 1, 2, 3, 4, 6, ..., 63, 5, 0. At tick grain 0 and 5 are
  // both "now": they come after every other entry, in either order.
  c.seen[5] = c.list.tick();
  c.seen[0] = c.list.tick();
  std::vector<std::uint32_t> order;
  for (std::uint32_t v = c.evict(); v != kNil; v = c.evict()) order.push_back(v);
  REQUIRE(order.size() == 64);
  std::vector<std::uint32_t> expected;
  for (std::uint32_t i = 1; i < 64; ++i) {
    if (i != 5) expected.push_back(i);
  }
  CHECK(std::vector<std::uint32_t>(order.begin(), order.begin() + 62) == expected);
  CHECK(std::set<std::uint32_t>(order.begin() + 62, order.end()) == std::set<std::uint32_t>{0, 5});
}

TEST_CASE("coarse recency: an access in an older tick ranks by that tick, not as new",
          "[recency]") {
  Coarse c(64, 64);
  // Entry 1 (inserted in tick 0) accessed in tick 10: it ranks with entries 40..43 (inserted in
  // tick 10), after 39 and before 44; its place among 40..43 is not specified (tick grain).
  c.seen[1] = 10;
  std::vector<std::uint32_t> order;
  for (std::uint32_t v = c.evict(); v != kNil; v = c.evict()) order.push_back(v);
  REQUIRE(order.size() == 64);
  std::size_t pos1 = 0, pos39 = 0, pos44 = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (order[k] == 1) pos1 = k;
    if (order[k] == 39) pos39 = k;
    if (order[k] == 44) pos44 = k;
  }
  CHECK(pos39 < pos1);
  CHECK(pos1 < pos44);
  CHECK(order.front() == 0);
  CHECK(order.back() == 63);
}

TEST_CASE("coarse recency: a cleared list starts over at tick 0", "[recency]") {
  Coarse c(64, 64);
  c.list.reset();
  CHECK(c.list.tick() == 0);
  CHECK(c.evict() == kNil);
  // The first marker is in place again: inserts after the reset tick as before.
  for (std::uint32_t i = 0; i < 8; ++i) {
    c.seen[i] = c.list.tick();
    c.list.push_front(c.pool, i);
    c.list.count_insert(c.pool, 64);
  }
  CHECK(c.list.tick() == 2);
  for (std::uint32_t i = 0; i < 8; ++i) CHECK(c.evict() == i);
}

TEST_CASE("several shards: entries read since a scan began survive it, unread ones go first",
          "[recency]") {
  larder::Cache<std::uint64_t, std::uint64_t> c(
      {.max_entries = 1024, .shards = 4, .background_cleanup = std::chrono::seconds(0)});
  for (std::uint64_t k = 0; k < 1024; ++k) c.put(k, k);
  for (std::uint64_t k = 0; k < 100; ++k) REQUIRE(c.get(k) == k);  // the working set
  for (std::uint64_t k = 1024; k < 1024 + 512; ++k) c.put(k, k);   // a scan of new keys
  for (std::uint64_t k = 0; k < 100; ++k) CHECK(c.contains(k));
  std::size_t old_unread = 0;
  for (std::uint64_t k = 100; k < 1024; ++k) old_unread += c.contains(k) ? 1 : 0;
  const larder::Stats s = c.stats();
  CHECK(s.size == 1024);
  CHECK(s.evictions == 512);
  CHECK(old_unread == 1024 - 100 - 512);
}

TEST_CASE("one shard: exact LRU order, every read counts", "[recency]") {
  larder::Cache<std::uint64_t, std::uint64_t> c(
      {.max_entries = 4, .shards = 1, .background_cleanup = std::chrono::seconds(0)});
  for (std::uint64_t k = 0; k < 4; ++k) c.put(k, k);
  REQUIRE(c.get(0));
  REQUIRE(c.get(1));
  REQUIRE(c.get(0));
  c.put(4, 4);  // evicts 2, the least recently used
  CHECK_FALSE(c.contains(2));
  c.put(5, 5);  // then 3
  CHECK_FALSE(c.contains(3));
  c.put(6, 6);  // then 1 (read before the last read of 0)
  CHECK_FALSE(c.contains(1));
  CHECK(c.contains(0));
}
