// Exact LRU order of one shard (larder::detail): the eviction order of a one-shard cache.
//
// IMPLEMENTATION DETAILS
// The entries sit in a RecencyList (recency_list.h) in exact mode: head most recently used, tail
// least. An access under the shard lock moves its entry to the front. A lock-free hit must not
// splice the list (or write a line other threads write), so it appends its slot to its thread's
// stripe of a ReadBuffer (read_buffer.h); the lock holder replays them: its own stripe before
// every change (sync), so one thread's gets and puts reach the list in program order, and every
// stripe before evicting (prepare_eviction), so the order eviction reads includes every hit.
// With one thread that is exact LRU; the trace tests hold it to exact LRU's hit ratio.
//
// One of the policies of an EvictionOrder (eviction_order.h): its methods that change the list
// take the shard's pool, which only the shard lock's holder can name; record_read alone runs
// without the lock.
#pragma once

#include <cstddef>
#include <cstdint>

#include "larder/detail/read_buffer.h"
#include "larder/detail/recency_list.h"
#include "larder/detail/slot_pool.h"

namespace larder::detail {

class ExactLru {
 public:
  ExactLru() noexcept : list_() {}
  ExactLru(const ExactLru&) = delete;
  ExactLru& operator=(const ExactLru&) = delete;

  // ---- without the lock ----

  /// Records a lock-free hit on live slot `i`; false when the thread's stripe is full: the
  /// caller then takes the lock if it can, sync()s, and records again (or drops the hit).
  template <class SlotT>
  [[gnu::always_inline]] bool record_read(std::uint32_t i, const SlotT&) noexcept {
    return reads_.record(i);
  }

  // ---- under the shard lock ----

  /// Replays the calling thread's buffered hits (before every change to the shard).
  template <class Pool>
  void sync(Pool& pool) {
    reads_.drain_mine(replay(pool));
  }
  /// New entry `i` (the shard now holds `size` entries), most recently used.
  template <class Pool>
  void add(Pool& pool, std::uint32_t i, std::size_t /*size*/) noexcept {
    list_.push_front(pool, i);
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
  /// An access to live entry `i` under the lock: to the front.
  template <class Pool>
  void record_access(Pool& pool, std::uint32_t i) noexcept {
    list_.move_to_front(pool, i);
  }
  /// Before a run of victim() calls: every thread's buffered hits reach the list.
  template <class Pool>
  void prepare_eviction(Pool& pool) {
    reads_.drain(replay(pool));
  }
  /// The entry to evict next (the tail), or kNil when there is none.
  template <class Pool>
  std::uint32_t victim(Pool&) noexcept {
    return list_.tail();
  }
  /// The entry victim() will likely return, for prefetching (kNil: none), and its headward
  /// neighbour, which evicting it writes.
  template <class Pool>
  std::uint32_t likely_victim(Pool& pool, std::uint32_t* neighbour) noexcept {
    const std::uint32_t t = list_.tail();
    *neighbour = t == kNil ? kNil : pool.link(t).prev;
    return t;
  }
  /// Calls f(i) for every entry, most recent first; f may remove i.
  template <class Pool, class F>
  void for_each(Pool& pool, F&& f) {
    for (std::uint32_t i = list_.head(); i != kNil;) {
      const std::uint32_t next = list_.next(pool, i);
      f(i);
      i = next;
    }
  }
  /// Empties the order (the pool's entries are all being removed).
  void reset() noexcept { list_.reset(); }

 private:
  /// Applies one buffered hit; the slot may have been removed or reused since: dead ones skip.
  template <class Pool>
  auto replay(Pool& pool) noexcept {
    return [this, &pool](std::uint32_t i) {
      if (i < pool.high_water() && pool[i].state == kLive) list_.move_to_front(pool, i);
    };
  }

  ReadBuffer<> reads_;  // (first: its stripes' alignment pads nothing before it)
  RecencyList</*kCoarse=*/false> list_;
};

}  // namespace larder::detail
