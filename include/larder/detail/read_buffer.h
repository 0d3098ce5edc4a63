// Lossy per-thread-stripe buffers of hits awaiting their LRU update (larder::detail).
// Used by exact-LRU (one-shard) caches only; shards of a several-shard cache stamp ticks instead
// (recency_list.h).
//
// IMPLEMENTATION DETAILS
// A hit must not write to a line other threads write (Caffeine's read buffers, Manes 2015). So a
// hit does not splice the LRU list; it appends its slot index to one of a shard's stripes, picked
// per thread, and whoever holds the shard lock next replays the stripes in order (move to front).
// A writer replays its own stripe before every change, and every stripe before it evicts, so with
// one thread the order of gets and puts reaching the list is exactly the program order: exact
// LRU. (Other threads' pending hits are concurrent with the write; they need to be in the list
// only when an eviction is about to read its order. Not reading their stripes on every write
// keeps writers off lines the readers write.) A full stripe makes its producer try the lock and
// replay; if the lock is busy the hit is dropped (recency is then approximate, never wrong about
// what is cached). Producers sharing a stripe may overwrite each other's record: also a drop.
// Replaying checks each index is a live slot (it may have been removed or reused since). A hit on
// the slot a stripe recorded last, still pending, is not recorded again.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "larder/detail/epoch.h"

namespace larder::detail {

/// kCoalesce: a hit on the slot the stripe recorded last, still pending, is not recorded again
/// (right for recency; a frequency count wants every hit).
template <bool kCoalesce = true>
class ReadBuffer {
 public:
  static constexpr std::uint32_t kStripes = 4;
  static constexpr std::uint32_t kCapacity = 16;

  /// Records a hit on `slot`; false when the caller's stripe is full (replay, then retry).
  bool record(std::uint32_t slot) noexcept {
    Stripe& s = stripes_[t_thread_id % kStripes];  // set by the caller's ReadSection
    const std::uint32_t t = s.tail.load(std::memory_order_relaxed);
    const std::uint32_t h = s.head.load(std::memory_order_acquire);
    // A repeat of the stripe's last pending record changes nothing (moving an entry to the
    // front twice in a row is moving it once), so hot keys do not fill the stripe.
    if (kCoalesce && t != h && s.cells[(t - 1) % kCapacity].load(std::memory_order_relaxed) == slot)
      return true;
    if (t - h >= kCapacity) return false;
    s.cells[t % kCapacity].store(slot, std::memory_order_relaxed);
    s.tail.store(t + 1, std::memory_order_release);
    return true;
  }

  /// Replays every recorded hit, oldest first per stripe, through f(slot). Shard lock held.
  template <class F>
  void drain(F&& f) {
    for (Stripe& s : stripes_) drain(s, f);
  }
  /// Replays the calling thread's stripe only. Shard lock held.
  template <class F>
  void drain_mine(F&& f) {
    drain(stripes_[t_thread_id % kStripes], f);
  }

 private:
  struct alignas(128) Stripe {
    std::atomic<std::uint32_t> tail{0};  // producers
    std::atomic<std::uint32_t> head{0};  // the lock holder
    std::atomic<std::uint32_t> cells[kCapacity] = {};
  };
  /// (An empty stripe, what most writers find, costs two loads inline; the replay is out of line.)
  template <class F>
  [[gnu::always_inline]] static void drain(Stripe& s, F& f) {
    const std::uint32_t t = s.tail.load(std::memory_order_acquire);
    const std::uint32_t h = s.head.load(std::memory_order_relaxed);
    if (t != h) replay(s, f, t, h);
  }
  template <class F>
  [[gnu::noinline]] static void replay(Stripe& s, F& f, std::uint32_t t, std::uint32_t h) {
    if (static_cast<std::int32_t>(t - h) < 0) {  // racing producers moved tail back: resync
      s.head.store(t, std::memory_order_release);
      return;
    }
    if (t - h > kCapacity) h = t - kCapacity;
    for (; h != t; ++h) f(s.cells[h % kCapacity].load(std::memory_order_relaxed));
    s.head.store(t, std::memory_order_release);
  }

  Stripe stripes_[kStripes];
};

}  // namespace larder::detail
