// larder/stats.h — a snapshot of a cache's counters.
//
// `Cache::stats()` returns a `larder::Stats` by value. Counters are kept per shard, next to the
// data they describe (no cache line shared by all threads), and summed when a snapshot is taken;
// a snapshot taken while other threads work is a consistent view of each shard, not of the whole
// cache at one instant.
//
// Identities that hold once all operations have returned (and since the last reset_stats()):
//   hits + misses                          == number of get() and lookup() calls
//   puts - updates  (new keys inserted)    == size + evictions + expirations + explicit_removals
#pragma once

#include <chrono>
#include <cstdint>

namespace larder {

struct Stats {
  std::uint64_t hits = 0;           ///< get()/lookup() calls that found a live entry.
  std::uint64_t misses = 0;         ///< get()/lookup() calls that did not.
  std::uint64_t puts = 0;           ///< Entries stored by put()/put_if_absent() (new or replaced).
  std::uint64_t updates = 0;        ///< Of those, the ones that replaced a live entry.
  std::uint64_t evictions = 0;      ///< Entries removed to stay within max_entries/max_bytes.
  std::uint64_t evicted_bytes = 0;  ///< Sum of the weights of evicted entries.
  std::uint64_t expirations = 0;    ///< Entries removed because their TTL/TTI ran out.
  std::uint64_t explicit_removals = 0;  ///< erase, erase_if, erase_prefix, invalidate_tag, clear.
  std::uint64_t listener_errors = 0;    ///< Exceptions thrown by on_removal (caught, counted).
  std::uint64_t size = 0;            ///< Entries held now (may include not-yet-reclaimed expired).
  std::uint64_t bytes = 0;           ///< Sum of the weights of the entries held now.
  std::uint64_t capacity = 0;        ///< Options::max_entries (0 = unbounded).
  std::uint64_t capacity_bytes = 0;  ///< Options::max_bytes (0 = unbounded).
  std::uint64_t compressed = 0;      ///< Puts stored compressed.
  std::uint64_t compression_skipped =
      0;  ///< Puts big enough to try, stored raw (saved too little).
  std::uint64_t bytes_before_compression = 0;  ///< Sum of the original sizes of compressed puts.
  std::uint64_t bytes_after_compression = 0;   ///< Sum of their stored (frame) sizes.
  std::uint64_t decode_errors = 0;  ///< Stored bytes that failed to decode (read as misses).
  /// Values a read or a load returned without storing them: heavier than max_bytes or over
  /// compression.max_value_size (get_or_load, memoized calls, a TieredCache's L2 fills).
  std::uint64_t uncacheable = 0;
  /// Policy::kTinyLfu: window entries the frequency filter let into the main area.
  std::uint64_t admissions = 0;
  /// Policy::kTinyLfu: window entries the frequency filter refused (evicted instead of the main
  /// area's victim; also counted in evictions, and passed to listeners as kEvicted).
  std::uint64_t rejected = 0;
  /// Policy::kTinyLfu: the admission window's current share of the capacity (0..1); 0 otherwise.
  double window_fraction = 0;

  /// hits + misses.
  std::uint64_t requests() const noexcept { return hits + misses; }
  /// hits / (hits + misses), or 0 when there were no requests.
  double hit_rate() const noexcept {
    return requests() == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(requests());
  }
  /// bytes_after_compression / bytes_before_compression (1 when nothing was compressed).
  double compression_ratio() const noexcept {
    return bytes_before_compression == 0 ? 1.0
                                         : static_cast<double>(bytes_after_compression) /
                                               static_cast<double>(bytes_before_compression);
  }
  /// puts - updates: the number of entries that were inserted under a key not present before.
  std::uint64_t inserts() const noexcept { return puts - updates; }
};

/// Counters of one memoized function (a snapshot).
struct MemoizeStats {
  std::uint64_t hits = 0;           ///< Calls answered from the cache (fresh entry).
  std::uint64_t misses = 0;         ///< Calls that needed a load (their own or one in flight).
  std::uint64_t loads = 0;          ///< Calls of fn (misses that led a flight, refreshes, fresh()).
  std::uint64_t load_failures = 0;  ///< Calls of fn that threw.
  std::chrono::nanoseconds total_load_time{};  ///< Wall time spent in fn, summed.
  std::uint64_t refreshes = 0;                 ///< Background reloads started (refresh-ahead).
  std::uint64_t stale_served = 0;              ///< Expired values returned because a load threw.

  /// hits / (hits + misses), or 0 with no calls.
  double hit_rate() const noexcept {
    const std::uint64_t n = hits + misses;
    return n == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(n);
  }
  /// total_load_time / loads, or zero with no loads.
  std::chrono::nanoseconds average_load_time() const noexcept {
    return loads == 0 ? std::chrono::nanoseconds{}
                      : total_load_time / static_cast<std::int64_t>(loads);
  }
};

}  // namespace larder
