// LRU order of one shard's entries (larder::detail): exact, or coarse (tick granularity).
//
// An intrusive doubly linked list through the slots' Link::prev/next (slot_pool.h; 32-bit
// indices, no allocation): head = most recently used, tail = least recently used.
//
// EXACT (a one-shard cache): every access moves its entry to the front (hits through the shard's
// read buffer, read_buffer.h); eviction takes the tail. All operations O(1).
//
// COARSE (a cache of several shards, which is only approximately LRU anyway: each shard evicts
// its own least recently used). Time is counted in ticks: a tick ends after a sixteenth of the
// shard's entries have been inserted. At the start of each tick a marker goes to the front, so
// the list reads, head to tail,
//     [inserted this tick] M(now) [inserted tick now-1] M(now-1) ... M(now-15) [older]
// using kTicks = 16 markers in a ring (the oldest is reused for the newest). An access does not
// move its entry: it stamps the entry's Slot::seen with the tick, and only when the stamp differs,
// so a hot entry's hits write nothing (not even its own line) until the tick moves, and a hit
// never takes the lock or writes a line another thread writes. Eviction walks from the tail: an
// entry whose stamp is newer than the span it sits in moves to the span of its stamp (behind
// M(stamp)); the first entry that does not move is evicted. That is LRU order at the grain of a
// tick (1/16 of the shard): every entry accessed in a later tick outlives it. Moves are paid for
// by the accesses that stamped them, so eviction stays O(1) amortized; a marker that reaches
// the tail (its span and everything older evicted) leaves the list until its next tick. Within a
// span the order is insertion/move order, not access order. Stamps are 8-bit ticks, so an entry
// left untouched for 256 ticks (16 turnovers of its shard) can look recent once, and is then moved
// instead of evicted: one extra lease, never a wrong answer. The trace tests hold both modes to
// exact LRU (tests/trace_test.cpp, tests/traces).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "larder/detail/slot_pool.h"

namespace larder::detail {

/// kCoarse: the coarse mode, with its tick markers (an exact list has none, and no room for
/// them).
template <bool kCoarse>
class RecencyList {
 public:
  /// Markers (coarse mode): one per tick of the last kTicks.
  static constexpr std::uint32_t kTicks = 16;
  static_assert(kMarkerBase + kTicks <= kNil);

  RecencyList() noexcept { reset(); }

  /// The current tick's low 8 bits: what an access stamps (coarse mode).
  std::uint8_t tick() const noexcept { return static_cast<std::uint8_t>(now_); }
  static bool is_marker(std::uint32_t i) noexcept { return i >= kMarkerBase; }

  std::uint32_t head() const noexcept { return head_; }
  std::uint32_t tail() const noexcept { return tail_; }
  /// The entry or marker after `i` (tailward), or kNil.
  template <class Pool>
  std::uint32_t next(Pool& pool, std::uint32_t i) noexcept {
    return at(pool, i).next;
  }

  template <class Pool>
  void push_front(Pool& pool, std::uint32_t i) noexcept {
    auto& l = at(pool, i);
    l.prev = kNil;
    l.next = head_;
    if (head_ != kNil) at(pool, head_).prev = i;
    head_ = i;
    if (tail_ == kNil) tail_ = i;
  }

  template <class Pool>
  void unlink(Pool& pool, std::uint32_t i) noexcept {
    auto& l = at(pool, i);
    if (l.prev != kNil) {
      at(pool, l.prev).next = l.next;
    } else {
      head_ = l.next;
    }
    if (l.next != kNil) {
      at(pool, l.next).prev = l.prev;
    } else {
      tail_ = l.prev;
    }
    l.prev = l.next = kNil;
  }

  /// Moves `i`, which must be in the list, to the front (exact mode). (The LRU replay runs this
  /// once per buffered hit, so it is one splice: `i` is not the head, hence has a predecessor,
  /// and the list is not empty, hence has a head to link behind `i`.)
  template <class Pool>
  void move_to_front(Pool& pool, std::uint32_t i) noexcept {
    if (head_ == i) return;
    auto& l = pool.link(i);
    const std::uint32_t prev = l.prev, next = l.next;
    pool.link(prev).next = next;
    if (next != kNil) {
      pool.link(next).prev = prev;
    } else {
      tail_ = prev;
    }
    l.prev = kNil;
    l.next = head_;
    pool.link(head_).prev = i;
    head_ = i;
  }

  /// Coarse mode: counts one entry pushed to the front of a shard now holding `size` entries;
  /// returns whether that began a new tick (its marker now at the front).
  template <class Pool>
  bool count_insert(Pool& pool, std::size_t size) noexcept {
    static_assert(kCoarse);
    if (++inserted_ < std::max<std::size_t>(1, size / kTicks)) return false;
    inserted_ = 0;
    ++now_;
    const std::uint32_t m = now_ % kTicks;
    if (placed_ & (1u << m)) unlink(pool, kMarkerBase + m);
    push_front(pool, kMarkerBase + m);
    placed_ |= 1u << m;
    return true;
  }

  /// Coarse mode: the entry to evict next, or kNil when the list holds none. seen(i) is entry
  /// i's stamp. Moves entries stamped later than the span they sit in to their stamp's span.
  template <class Pool, class Seen>
  std::uint32_t victim(Pool& pool, Seen&& seen) noexcept {
    static_assert(kCoarse);
    std::uint32_t span_age = kNil;  // age in ticks of the span being walked; tail: older than all
    for (std::uint32_t i = tail_; i != kNil;) {
      const std::uint32_t prev = at(pool, i).prev;
      if (i == tail_ && is_marker(i)) {  // nothing older left: the marker has done its work
        placed_ &= ~(1u << (i - kMarkerBase));
        unlink(pool, i);
      } else if (is_marker(i)) {
        span_age = (now_ - (i - kMarkerBase)) % kTicks;
      } else {
        const std::uint32_t age = static_cast<std::uint8_t>(tick() - seen(i));
        const std::uint32_t m = (now_ - age) % kTicks;  // the marker of the stamp's span
        // (A stamp's span whose marker is gone is older than everything left: no move.)
        // (A stamp from before the last reset names a tick whose marker is not placed either.)
        if (age >= span_age || age >= kTicks || !(placed_ & (1u << m))) return i;
        unlink(pool, i);
        insert_before(pool, kMarkerBase + m, i);
      }
      i = prev;
    }
    return kNil;
  }

  /// Empties the list; a coarse one restarts at tick 0, its first marker in place.
  void reset() noexcept {
    head_ = tail_ = kNil;
    now_ = 0;
    inserted_ = 0;
    placed_ = 0;
    if constexpr (kCoarse) {
      Link& m = markers_[0];
      m.prev = m.next = kNil;
      head_ = tail_ = kMarkerBase;
      placed_ = 1;
    }
  }

 private:
  template <class Pool>
  Link& at(Pool& pool, std::uint32_t i) noexcept {
    if constexpr (kCoarse) {
      return is_marker(i) ? markers_[i - kMarkerBase] : pool.link(i);
    } else {
      return pool.link(i);
    }
  }
  /// Links `i` just in front of (headward of) `next`, which is in the list.
  template <class Pool>
  void insert_before(Pool& pool, std::uint32_t next, std::uint32_t i) noexcept {
    auto& n = at(pool, next);
    auto& l = at(pool, i);
    l.next = next;
    l.prev = n.prev;
    if (n.prev != kNil) {
      at(pool, n.prev).next = i;
    } else {
      head_ = i;
    }
    n.prev = i;
  }

  struct NoMarkers {
    Link& operator[](std::uint32_t) noexcept;  // (never called: at() does not look)
  };

  std::uint32_t head_ = kNil;
  std::uint32_t tail_ = kNil;
  std::uint32_t now_ = 0;     // coarse: the current tick
  std::size_t inserted_ = 0;  // coarse: entries pushed to the front during this tick
  std::uint32_t placed_ = 0;  // coarse: bit m set when marker m is in the list
  // coarse: the markers' links (indices kMarkerBase + m)
  [[no_unique_address]] std::conditional_t<kCoarse, Link[kTicks], NoMarkers> markers_ = {};
};

}  // namespace larder::detail
