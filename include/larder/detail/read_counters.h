// Hit, miss and lock-free update counts without a shared write (larder::detail).
//
// Each thread counts into the line of its epoch record id (epoch.h: threads alive at the same time
// have different ids, and an id passes to a new thread only after its owner exited), so a
// lock-free hit writes only a line its own thread writes, with a plain load and store (no locked
// instruction). Threads with ids beyond the owned lines share one line with atomic adds. Counts
// stay exact either way; reading sums the lines. reset() racing with counting may lose either.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "larder/detail/epoch.h"

namespace larder::detail {

class ReadCounters {
 public:
  void hit() noexcept { add(&Line::hits); }
  void miss() noexcept { add(&Line::misses); }
  /// hit() and miss() for a thread that has opened a ReadSection (its t_thread_id is its own):
  /// one thread-local load fewer.
  void registered_hit() noexcept { add_registered(&Line::hits); }
  void registered_miss() noexcept { add_registered(&Line::misses); }
  /// A put that updated an entry without the shard lock (Shard::update_unlocked, inside a
  /// ReadSection: the thread is registered).
  void update() noexcept { add_registered(&Line::updates); }
  std::uint64_t hits() const noexcept { return sum(&Line::hits); }
  std::uint64_t misses() const noexcept { return sum(&Line::misses); }
  std::uint64_t updates() const noexcept { return sum(&Line::updates); }
  void reset() noexcept {
    for (Line& l : lines_) {
      l.hits.store(0, std::memory_order_relaxed);
      l.misses.store(0, std::memory_order_relaxed);
      l.updates.store(0, std::memory_order_relaxed);
    }
  }

 private:
  static constexpr std::size_t kOwned = 16;
  static constexpr std::size_t kLines = kOwned + 1;  // the last one is shared
  struct alignas(64) Line {
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> misses{0};
    std::atomic<std::uint64_t> updates{0};
  };
  [[gnu::always_inline]] void add(std::atomic<std::uint64_t> Line::*field) noexcept {
    if (t_epoch_record) {  // else t_thread_id is 0, another thread's: the shared line
      add_registered(field);
    } else {
      (lines_[kOwned].*field).fetch_add(1, std::memory_order_relaxed);
    }
  }
  [[gnu::always_inline]] void add_registered(std::atomic<std::uint64_t> Line::*field) noexcept {
    const std::uint32_t id = t_thread_id;
    if (id < kOwned) {
      auto& c = lines_[id].*field;
      c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    } else {
      (lines_[kOwned].*field).fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::uint64_t sum(std::atomic<std::uint64_t> Line::*field) const noexcept {
    std::uint64_t s = 0;
    for (const Line& l : lines_) s += (l.*field).load(std::memory_order_relaxed);
    return s;
  }

  Line lines_[kLines];
};

}  // namespace larder::detail
