// larder/clock.h — time sources for expiry.
//
// A cache reads time through a `larder::Clock`. By default (Options::clock == nullptr) it reads
// std::chrono::steady_clock directly, without a virtual call. Tests pass a `ManualClock` and move
// time by hand, so TTL behaviour is checked without sleeping:
//
//   auto clock = std::make_shared<larder::ManualClock>();
//   larder::Cache<int, int> c({.default_ttl = 5s, .clock = clock});
//   c.put(1, 1);
//   clock->advance(5s);   // c.get(1) is now empty
//
// Thread safety: every member of every clock here is safe to call concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace larder {

/// Durations everywhere in larder (TTLs, ages, intervals) are nanoseconds.
using Duration = std::chrono::nanoseconds;
/// Points in time, on the steady clock's timeline.
using TimePoint = std::chrono::steady_clock::time_point;

/// Interface of a time source. Implementations must be monotonic (never go backwards) and
/// thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  /// The current time.
  virtual TimePoint now() const noexcept = 0;
};

/// std::chrono::steady_clock behind the Clock interface (what a cache uses when Options::clock is
/// null, minus the virtual call).
class SteadyClock final : public Clock {
 public:
  TimePoint now() const noexcept override { return std::chrono::steady_clock::now(); }
};

/// A clock that only moves when told to: for deterministic tests of expiry.
/// Starts at `start` (default: one hour after the steady clock's epoch).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{} + std::chrono::hours(1)) noexcept
      : ns_(start.time_since_epoch().count()) {}

  TimePoint now() const noexcept override {
    return TimePoint{Duration{ns_.load(std::memory_order_acquire)}};
  }
  /// Moves time forward by `d` (a negative `d` is ignored: clocks are monotonic).
  void advance(Duration d) noexcept {
    if (d.count() > 0) ns_.fetch_add(d.count(), std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::int64_t> ns_;
};

}  // namespace larder
