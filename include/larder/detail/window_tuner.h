// The window's share for a TinyLFU cache, chosen by miniature simulations (larder::detail).
//
// IMPLEMENTATION DETAILS
// W-TinyLFU's admission window decides what it is good at: a small one (Caffeine's fixed 1%)
// lets the frequency filter guard the main area, which wins on loops, scans and skewed
// popularity; a large one behaves like LRU, which wins on recency-heavy workloads (the sprite
// trace: LRU 92.2% where a 1% window gets 87.8%). Caffeine 3 adapts it by hill climbing on the
// cache's own hit ratio, one step per 10 x capacity accesses; on the traces it needs more
// steps than the trace has to get from 1% to the ~60% sprite wants, and each step it tries
// costs real misses.
// Instead, as in Waldspurger et al. ("Cache Modeling and Optimization using Miniature
// Simulations", ATC '17), the tuner runs kShares shadow caches (shadow_cache.h) side by side,
// each the same W-TinyLFU policy at one fixed window share, on a spatially hashed sample of the
// keys scaled down to kShadowEntries (every key for a cache no bigger than that). Every
// kPeriodPerEntry x shadow-size sampled accesses it compares their hit counts (halved each
// period, so recent behaviour weighs most) and publishes the best share, switching only when the
// best beats the current by kHysteresis (an even race should not cost the real cache the
// transition). The real shards read it when sizing their windows; an entry moves between the
// areas only through the normal flow (the window's overflow, evictions), never in bulk.
// The cost: every access to a sampled key runs kShares simulated accesses under the tuner's
// lock (taken inside a shard's lock: the lock order is shard, then tuner; only try-locked, so a
// shard never waits for another's simulation and a busy tuner drops the sample); unsampled keys
// cost one hash mix. Memory: at most kShares x kShadowEntries small nodes per cache (about 0.2 MB),
// allocated as the shadows fill.
// Measured on the reference traces (bench/README.md): within 1 point of the better of exact LRU
// and Caffeine 2.6.2 on every trace and size, including both ends (sprite and loop).
#pragma once

#include <absl/base/thread_annotations.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "larder/detail/mutex.h"
#include "larder/detail/shadow_cache.h"
#include "larder/hash.h"

namespace larder::detail {

class WindowTuner {
 public:
  /// The window shares the shadows simulate, in 1/65536ths: 1%, 5%, 15%, 35%, 60%, 85%.
  static constexpr std::array<std::uint32_t, 6> kShares = {655, 3277, 9830, 22938, 39322, 55706};
  static constexpr std::size_t kShadowEntries = 1024;
  /// A cache weighed by bytes samples as if each entry weighed this much.
  static constexpr std::uint64_t kAssumedEntryBytes = 128;
  static constexpr std::size_t kPeriodPerEntry = 5;
  static constexpr double kHysteresis = 0.03;

  /// For a cache bounded at `capacity` units (entries when count_entries, else bytes).
  WindowTuner(std::uint64_t capacity, bool count_entries, std::uint64_t seed)
      : salt_(seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL) {
    const std::uint64_t per_entry = count_entries ? 1 : kAssumedEntryBytes;
    const std::uint64_t target = kShadowEntries * per_entry;
    std::uint64_t shadow = capacity;
    if (capacity > target) {
      const double rate = static_cast<double>(target) / static_cast<double>(capacity);
      threshold_ = static_cast<std::uint64_t>(rate * 18446744073709551615.0);
      shadow = target;
    }
    period_ = kPeriodPerEntry * std::max<std::uint64_t>(1, shadow / per_entry);
    for (std::size_t k = 0; k < kShares.size(); ++k) {
      shadows_[k] = std::make_unique<ShadowCache>(shadow, count_entries, kShares[k], seed);
    }
  }
  WindowTuner(const WindowTuner&) = delete;
  WindowTuner& operator=(const WindowTuner&) = delete;

  /// The share the cache's windows take now, in 1/65536ths (TinyLfuConfig::tuned_fraction).
  const std::atomic<std::uint32_t>& fraction() const noexcept { return fraction_; }

  /// TinyLfuConfig::observe: an access to the key of 32-bit hash `hash`, weighing `weight`.
  static void observe(void* self, std::uint32_t hash, std::uint32_t weight) {
    static_cast<WindowTuner*>(self)->record(hash, weight);
  }
  void record(std::uint32_t hash, std::uint32_t weight) {
    const std::uint64_t x = hash_u64(hash, salt_);
    if (x > threshold_) return;  // not sampled
    // (Another shard is simulating: drop this sample rather than wait. The shadows estimate
    // hit ratios; a sample lost now and then moves them by nothing a decision sees.)
    if (!mu_.try_lock()) return;
    MutexLock lock(mu_, std::adopt_lock);
    for (std::size_t k = 0; k < kShares.size(); ++k) {
      if (shadows_[k]->access(x, weight)) score_[k] += 1.0;
    }
    if (++accesses_ < period_) return;
    accesses_ = 0;
    std::size_t best = current_;
    for (std::size_t k = 0; k < kShares.size(); ++k) {
      if (score_[k] > score_[best]) best = k;
    }
    if (best != current_ && score_[best] > score_[current_] * (1.0 + kHysteresis)) {
      current_ = best;
      fraction_.store(kShares[best], std::memory_order_relaxed);
    }
    for (double& s : score_) s *= 0.5;
  }

 private:
  const std::uint64_t salt_;
  std::uint64_t threshold_ = ~std::uint64_t{0};  // sampled: mixed hash at or below it
  std::uint64_t period_ = 1;
  std::atomic<std::uint32_t> fraction_{kShares[0]};
  Mutex mu_;
  std::array<std::unique_ptr<ShadowCache>, kShares.size()> shadows_ ABSL_GUARDED_BY(mu_);
  std::array<double, kShares.size()> score_ ABSL_GUARDED_BY(mu_) = {};
  std::size_t current_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t accesses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace larder::detail
