// An entry's times (larder::detail): when it was written, when it expires, and the arithmetic.
//
// IMPLEMENTATION DETAILS
// Times are nanoseconds on the cache's clock (Options::clock, else std::chrono::steady_clock),
// as std::int64_t. An entry keeps its write time (lookup()'s age) and its TTL deadline, kNever
// when it has none; with expire_after_access its effective deadline is the earlier of that and
// its last access plus the access TTL (slot_pool.h keeps it apart). Deadlines saturate at
// kNever: a TTL of 100 years never wraps into the past. An operation reads the clock at most
// once, and only when an entry with a deadline is involved (LazyNow); an entry without one is
// stamped at the kernel tick's resolution (LazyNow::stamp), which is all its age needs.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include "larder/clock.h"
#include "larder/options.h"

namespace larder::detail {

/// The deadline of an entry that never expires.
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

/// Reads the clock at most once, on first use (nanoseconds since the clock's epoch).
class LazyNow {
 public:
  explicit LazyNow(const Clock* clock) noexcept : clock_(clock) {}
  std::int64_t operator()() noexcept {
    if (!read_) {
      now_ = (clock_ ? clock_->now() : std::chrono::steady_clock::now()).time_since_epoch().count();
      read_ = true;
    }
    return now_;
  }
  /// A write time for an entry whose age is all it is used for (no deadline is computed from
  /// it): now() if that has been read or the cache has a clock of its own; else, on the default
  /// clock, the kernel's last tick (CoarseClock: the steady clock's timeline, never ahead of
  /// it, about a tick behind), a quarter of steady_clock's cost. Not cached: a later now()
  /// still reads the steady clock.
  std::int64_t stamp() noexcept {
    if (read_ || clock_) return (*this)();
    return CoarseClock{}.now().time_since_epoch().count();
  }

 private:
  const Clock* clock_;
  std::int64_t now_ = 0;
  bool read_ = false;
};

/// t + d, or kNever where that would reach it; d >= 0. (A clock's epoch may lie after its
/// readings: t < 0 cannot overflow, and kNever - t would.)
inline std::int64_t saturating_add(std::int64_t t, std::int64_t d) noexcept {
  return t > 0 && d >= kNever - t ? kNever : t + d;
}

/// Whether deadline `expires` has passed at now().
inline bool due(std::int64_t expires, LazyNow& now) noexcept {
  // (An entry with a deadline costs a clock read here, which dwarfs a taken branch: the
  // straight path is the entry without one.)
  if (expires == kNever) [[likely]]
    return false;
  return expires <= now();
}

/// The TTL entry `e` (anything with `written` and `write_deadline`) was stored with: kNoExpiry
/// if none.
template <class Entry>
Duration stored_ttl(const Entry& e) noexcept {
  return e.write_deadline == kNever ? kNoExpiry : Duration{e.write_deadline - e.written};
}

/// The age of entry `e` at now(), never negative.
template <class Entry>
Duration age_of(const Entry& e, LazyNow& now) noexcept {
  return Duration{std::max<std::int64_t>(0, now() - e.written)};
}

/// Times and weight of an entry being stored.
struct EntryMeta {
  std::int64_t written;
  std::int64_t write_deadline;  // kNever: no TTL
  std::int64_t expires;         // min(write_deadline, access deadline)
  std::uint32_t weight;
  bool immortal;  // put with kNoExpiry: exempt from expire_after_access too
};

/// A cache's expiry settings: what a put's times are made from.
struct EntryTimes {
  Duration default_ttl{};       // Options::default_ttl (zero: none)
  std::int64_t access_ttl = 0;  // Options::expire_after_access in ns (zero: off)

  /// The times of a put with PutOptions::ttl `ttl`. Reads the clock only for an entry with a
  /// deadline (a TTL, or expire_after_access): the write time of one without is only ever an
  /// age (lookup()), taken at the kernel tick's resolution on the default clock (LazyNow::stamp).
  EntryMeta meta(const std::optional<Duration>& ttl, std::uint32_t weight,
                 LazyNow& now) const noexcept {
    const Duration d = ttl ? *ttl : default_ttl;
    const bool immortal = d == kNoExpiry;
    const bool timed = !immortal && (d.count() != 0 || access_ttl > 0);
    const std::int64_t written = timed ? now() : now.stamp();
    const std::int64_t write_deadline =
        (immortal || d.count() == 0) ? kNever : saturating_add(written, d.count());
    std::int64_t expires = write_deadline;
    if (access_ttl > 0 && !immortal) {
      expires = std::min(expires, saturating_add(written, access_ttl));
    }
    return {written, write_deadline, expires, weight, immortal};
  }
};

}  // namespace larder::detail
