// larder/registry.h — named caches: look them up, sum them, invalidate one or all.
//
//   larder::Registry& reg = larder::Registry::global();       // or a Registry of your own
//   larder::Cache<std::string, Task> tasks({.name = "task_status", .max_entries = 500,
//                                          .default_ttl = 2s, .registry = &reg});
//   auto health = larder::cached(check, {.name = "health", .ttl = 10s, .registry = &reg});
//   reg.invalidate("task_status");   // clear one cache by name
//   reg.invalidate_all();
//   larder::RegistrySummary s = reg.summary();   // totals across all caches
//
// A cache (or memoized function) with Options::registry set registers under its name when it is
// built (a duplicate name throws larder::InvalidArgument) and unregisters when it is destroyed, so
// the registry never holds a dangling entry. larder/export.h renders a registry as Prometheus text
// or JSON.
//
// THREAD SAFETY. Every member may be called concurrently, also while caches come and go. A cache's
// destructor waits for registry calls that are using it. Removal listeners run inside
// invalidate()/invalidate_all(): they must not destroy their own cache.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "larder/backend.h"
#include "larder/stats.h"

namespace larder {

/// The remote tier of a registered TieredCache (larder/tiered.h).
struct RemoteInfo {
  std::string backend;              ///< Backend::kind(): "redis", "memory", ...
  BackendStats stats;               ///< the backend's counters (breaker state included)
  std::uint64_t l2_hits = 0;        ///< L1 misses answered by L2
  std::uint64_t l2_misses = 0;      ///< L1 misses L2 did not have either
  std::uint64_t l2_errors = 0;      ///< this cache's failed L2 operations
  std::uint64_t decode_errors = 0;  ///< L2 values that did not decode
  bool channel_up = false;          ///< the invalidation channel is live
  /// Backend::label(): which backend object this is (the caches sharing one have the same), the
  /// `backend` label of its counters in the Prometheus export.
  std::string backend_label;
};

/// One registered cache or memoized function, as the registry reports it.
struct CacheInfo {
  std::string name;
  std::string kind;                  ///< "cache", "memoizer" or "tiered"
  Stats stats;                       ///< the cache's counters (a memoizer's: its cache's; a
                                     ///< tiered cache's: its L1's)
  std::optional<MemoizeStats> memo;  ///< a memoizer's own counters
  std::optional<RemoteInfo> remote;  ///< a tiered cache's remote tier

  /// size / capacity (by entries; by bytes for a cache bounded only by bytes); 0 if unbounded.
  double utilization() const noexcept {
    if (stats.capacity)
      return static_cast<double>(stats.size) / static_cast<double>(stats.capacity);
    if (stats.capacity_bytes) {
      return static_cast<double>(stats.bytes) / static_cast<double>(stats.capacity_bytes);
    }
    return 0.0;
  }
};

/// Totals across a registry.
struct RegistrySummary {
  std::uint64_t caches = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t size = 0;
  std::uint64_t bytes = 0;
  /// hits / (hits + misses) over all caches, or 0.
  double hit_rate() const noexcept {
    return hits + misses == 0 ? 0.0
                              : static_cast<double>(hits) / static_cast<double>(hits + misses);
  }
};

/// Totals of these reports.
RegistrySummary summarize(const std::vector<CacheInfo>& caches);

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// The process-wide registry.
  static Registry& global();

  /// What a registered object offers the registry (caches and memoizers fill this in; you do not
  /// need it unless you register something of your own).
  struct Hooks {
    std::function<CacheInfo()> info;
    std::function<void()> clear;
    std::function<std::size_t()> cleanup;
    /// rebuild(fill): runs fill, then drops the entries it did not write (Cache::rebuild); returns
    /// how many. Optional: without it, Registry::rebuild clears, then runs fill.
    std::function<std::size_t(const std::function<void()>& fill)> rebuild{};
  };
  using Id = std::uint64_t;
  /// Registers `name`; throws larder::InvalidArgument for an empty or taken name.
  Id add(std::string name, std::string kind, Hooks hooks);
  /// Unregisters; waits for registry calls using the entry to finish. No-op for an unknown id.
  void remove(Id id) noexcept;

  /// Registered names, sorted.
  std::vector<std::string> names() const;
  /// One entry's report, or nullopt.
  std::optional<CacheInfo> find(std::string_view name) const;
  /// Every entry's report, sorted by name.
  std::vector<CacheInfo> snapshot() const;
  /// Totals across all entries.
  RegistrySummary summary() const;
  /// Clears the cache registered as `name`; returns whether there was one.
  bool invalidate(std::string_view name);
  /// Rebuilds the cache registered as `name` without a window of misses (Cache::rebuild and
  /// TieredCache::rebuild: fill() writes the new contents while readers see the old ones, then
  /// the entries fill() did not write are dropped); returns whether there was one. A memoized
  /// function is cleared, then fill() runs (its calls would otherwise hit the old results).
  /// Exceptions from fill() propagate.
  bool rebuild(std::string_view name, const std::function<void()>& fill);
  /// Clears every registered cache; returns how many.
  std::size_t invalidate_all();
  /// Runs expiry cleanup on every registered cache; returns the entries reclaimed.
  std::size_t cleanup_all();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace larder
