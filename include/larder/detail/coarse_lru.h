// LRU order at tick grain for one shard (larder::detail): the eviction order of each shard of a
// cache of several shards.
//
// IMPLEMENTATION DETAILS
// The entries sit in a RecencyList (recency_list.h) in coarse mode: a tick ends after a
// sixteenth of the shard's entries were inserted, and markers in the list split it into the
// spans of the last 16 ticks. An access does not move its entry: it stamps the entry's
// Slot::seen with the current tick, and only when the stamp differs, so a hot entry's hits store
// nothing until the tick moves, and a lock-free hit never writes a line another thread writes.
// The tick a reader stamps is published in an atomic of its own (tick_), written under the shard
// lock when a tick begins. Eviction walks from the tail and sorts stamped entries into the span
// of their stamp, evicting the first that stays: every entry accessed in a later tick outlives
// it. (Several shards are only approximately LRU anyway: each evicts its own least recent.)
//
// One of the policies of an EvictionOrder (eviction_order.h): its methods that change the list
// take the shard's pool, which only the shard lock's holder can name; record_read alone runs
// without the lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "larder/detail/recency_list.h"
#include "larder/detail/slot_pool.h"

namespace larder::detail {

class CoarseLru {
 public:
  CoarseLru() noexcept : list_() {}
  CoarseLru(const CoarseLru&) = delete;
  CoarseLru& operator=(const CoarseLru&) = delete;

  // ---- without the lock ----

  /// Records a lock-free access to live slot `e`: stamps it with the tick if the tick moved
  /// since its last stamp. Never fails. (A stamp may land on a slot removed meanwhile: its next
  /// owner is stamped when added.)
  template <class SlotT>
  [[gnu::always_inline]] bool record_read(std::uint32_t, const SlotT& e) noexcept {
    const std::uint8_t t = tick_.load(std::memory_order_relaxed);
    if (e.seen.load(std::memory_order_relaxed) != t) [[unlikely]]
      e.seen.store(t, std::memory_order_relaxed);
    return true;
  }

  // ---- under the shard lock ----

  /// Nothing is buffered: accesses are stamped where they happen.
  template <class Pool>
  void sync(Pool&) noexcept {}
  /// New entry `i` (the shard now holds `size` entries), most recently used; it counts toward
  /// the tick.
  template <class Pool>
  void add(Pool& pool, std::uint32_t i, std::size_t size) noexcept {
    pool[i].seen.store(list_.tick(), std::memory_order_relaxed);
    list_.push_front(pool, i);
    if (list_.count_insert(pool, size)) tick_.store(list_.tick(), std::memory_order_relaxed);
  }
  /// Entry `i` leaves the order.
  template <class Pool>
  void remove(Pool& pool, std::uint32_t i) noexcept {
    list_.unlink(pool, i);
  }
  /// A put over a live key: `now` replaces `old`, most recently used.
  template <class Pool>
  void replace(Pool& pool, std::uint32_t old, std::uint32_t now, std::size_t size) noexcept {
    remove(pool, old);
    add(pool, now, size);
  }
  /// Nothing pending between evictions.
  void settle() noexcept {}
  /// An access to live entry `i` under the lock: a stamp.
  template <class Pool>
  void record_access(Pool& pool, std::uint32_t i) noexcept {
    pool[i].seen.store(list_.tick(), std::memory_order_relaxed);
  }
  /// Nothing to gather before evicting.
  template <class Pool>
  void prepare_eviction(Pool&) noexcept {}
  /// The least recently used entry at tick grain, or kNil when there is none; sorts the stamped
  /// entries it passes into place (recency_list.h).
  template <class Pool>
  std::uint32_t victim(Pool& pool) noexcept {
    return list_.victim(
        pool, [&pool](std::uint32_t i) { return pool[i].seen.load(std::memory_order_relaxed); });
  }
  /// The entry victim() will likely return (the tail, if it is an entry), for prefetching (kNil:
  /// none), and its headward neighbour if that is an entry.
  template <class Pool>
  std::uint32_t likely_victim(Pool& pool, std::uint32_t* neighbour) noexcept {
    const std::uint32_t t = list_.tail();
    *neighbour = kNil;
    if (List::is_marker(t)) return kNil;
    const std::uint32_t p = pool.link(t).prev;
    if (!List::is_marker(p)) *neighbour = p;
    return t;
  }
  /// Calls f(i) for every entry (not the markers), most recent span first; f may remove i.
  template <class Pool, class F>
  void for_each(Pool& pool, F&& f) {
    for (std::uint32_t i = list_.head(); i != kNil;) {
      const std::uint32_t next = list_.next(pool, i);
      if (!List::is_marker(i)) f(i);
      i = next;
    }
  }
  /// Empties the order; it restarts at tick 0.
  void reset() noexcept {
    list_.reset();
    tick_.store(list_.tick(), std::memory_order_relaxed);
  }

 private:
  using List = RecencyList</*kCoarse=*/true>;
  List list_;
  std::atomic<std::uint8_t> tick_{0};  // list_.tick(), for lock-free record_read
};

}  // namespace larder::detail
