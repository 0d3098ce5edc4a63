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
// Reading the clock is most of what a TTL costs: a get of an entry with a deadline reads it to
// check the deadline, and a put with a TTL reads it for the deadline. (A put without a deadline,
// on the default clock, stamps its write time, which only lookup()'s age reads, from the
// kernel's last tick: see Options::clock.) steady_clock costs ~25-35 ns a read on a typical VM;
// `CoarseClock` reads the kernel's last tick instead (~6-10 ns, and never a system call), at the
// price of the tick's resolution (1-4 ms on Linux):
//
//   larder::Cache<std::string, User> users({.default_ttl = 5min,
//                                          .clock = std::make_shared<larder::CoarseClock>()});
//
// Thread safety: every member of every clock here is safe to call concurrently.
#pragma once

#include <time.h>

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

/// The monotonic clock at the resolution of the kernel's tick: CLOCK_MONOTONIC_COARSE, the same
/// timeline as std::chrono::steady_clock (libstdc++ and libc++ read CLOCK_MONOTONIC), updated
/// once per tick (resolution(): 4 ms at the common HZ=250, 1 ms at HZ=1000) and read without a
/// system call. For caches whose TTLs are much longer than a tick (seconds and up): a get or a
/// put of an entry with a TTL costs ~20-25 ns less on a VM where steady_clock costs ~25-35 ns
/// (bench/README.md, "TTL and the clock").
///
/// What it changes: the time a cache sees lags real time by about a tick (more when the kernel's
/// tick runs late, as on a busy VM: 4.4 ms seen at a 4 ms tick). An entry put with TTL d lives
/// about d +- resolution() of real time (never less than d on this clock's own timeline), and
/// lookup()'s age is accurate to about a tick. Everything else
/// (monotonic, thread-safe, shared by any number of caches) is as with the default clock.
/// Where CLOCK_MONOTONIC_COARSE does not exist (not Linux), it reads steady_clock.
class CoarseClock final : public Clock {
 public:
  TimePoint now() const noexcept override {
#ifdef CLOCK_MONOTONIC_COARSE
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return TimePoint{to_duration(ts)};
#else
    return std::chrono::steady_clock::now();
#endif
  }
  /// The step between two different readings: the kernel's tick (1 ns where the coarse clock
  /// does not exist).
  static Duration resolution() noexcept {
#ifdef CLOCK_MONOTONIC_COARSE
    timespec ts;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts) == 0) return to_duration(ts);
#endif
    return Duration{1};
  }

 private:
  static Duration to_duration(const timespec& ts) noexcept {
    return std::chrono::seconds{ts.tv_sec} + Duration{ts.tv_nsec};
  }
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
