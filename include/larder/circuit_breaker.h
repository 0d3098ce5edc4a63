// larder/circuit_breaker.h — `larder::CircuitBreaker`: stop calling a backend that keeps failing.
//
//   larder::CircuitBreaker breaker({.consecutive_failures = 5, .open_for = 5s});
//   switch (breaker.admit()) {
//     case larder::CircuitBreaker::kRefuse: return Error{ErrorCode::kBreakerOpen, "..."};
//     case larder::CircuitBreaker::kProbe:  breaker.probe_done(ping_ok()); ...  // then as kGo
//     case larder::CircuitBreaker::kGo:     break;
//   }
//   breaker.record(/*failed=*/io_failed);
//
// States: closed (calls go through) -> open after `consecutive_failures` failures in a row, or when
// at least `failure_rate` of the last `window` calls failed (once `min_calls` have been seen);
// open (every call refused) -> after `open_for`, the next call is told to probe (half-open: one
// probe at a time, the others are refused); a successful probe closes the breaker, a failed one
// opens it again for another `open_for`. RedisBackend records one outcome per call (a call whose
// retries all failed is one failure) and counts only I/O, timeout and pool-wait failures: a
// server that answers with an error is up.
//
// THREAD SAFETY. Every member may be called concurrently.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "larder/backend.h"
#include "larder/clock.h"
#include "larder/detail/format.h"
#include "larder/detail/mutex.h"
#include "larder/errors.h"

namespace larder {

/// Circuit breaker settings. Every field says its default. Field order is API.
struct BreakerOptions {
  /// Open after this many failed calls in a row. Default 5; 0: never by count.
  std::uint32_t consecutive_failures = 5;
  /// Open when at least this fraction of the last `window` calls failed. Default 0.5; 0: never
  /// by rate.
  double failure_rate = 0.5;
  /// Number of recent calls the rate is computed over. Default 20.
  std::uint32_t window = 20;
  /// The rate rule applies once the window holds at least this many calls. Default 10.
  std::uint32_t min_calls = 10;
  /// How long the breaker stays open before a probe. Default 2s.
  Duration open_for = std::chrono::seconds(2);
  /// Timeout of the half-open probe (a PING for RedisBackend). Default 100ms.
  Duration probe_timeout = std::chrono::milliseconds(100);
  /// Time source. Default nullptr: steady clock.
  std::shared_ptr<Clock> clock{};

  /// Throws larder::InvalidArgument naming the first field out of range.
  void validate() const {
    if (window == 0 || window > 100'000) {
      throw InvalidArgument("larder: BreakerOptions.window must be in [1, 100000] (got " +
                            std::to_string(window) + ")");
    }
    if (!(failure_rate >= 0.0 && failure_rate <= 1.0)) {
      throw InvalidArgument("larder: BreakerOptions.failure_rate must be in [0, 1]");
    }
    if (min_calls > window) {
      throw InvalidArgument("larder: BreakerOptions.min_calls (" + std::to_string(min_calls) +
                            ") must not exceed window (" + std::to_string(window) + ")");
    }
    if (open_for.count() <= 0) {
      throw InvalidArgument("larder: BreakerOptions.open_for must be positive (got " +
                            detail::format_duration(open_for) + ")");
    }
    if (probe_timeout.count() <= 0) {
      throw InvalidArgument("larder: BreakerOptions.probe_timeout must be positive (got " +
                            detail::format_duration(probe_timeout) + ")");
    }
  }
};

class CircuitBreaker {
 public:
  /// What a caller may do now.
  enum Admission {
    kGo,      ///< make the call, then record() its outcome
    kProbe,   ///< run a probe first and report it with probe_done(); if it succeeded, make the call
    kRefuse,  ///< do not call: the breaker is open
  };

  /// Throws larder::InvalidArgument for invalid options.
  explicit CircuitBreaker(BreakerOptions options = {}) : options_(std::move(options)) {
    options_.validate();
    if (!options_.clock) options_.clock = std::make_shared<SteadyClock>();
    ring_.assign(options_.window, 0);
  }

  /// Whether a call may go ahead now (and whether this caller must probe first).
  Admission admit() {
    detail::MutexLock lock(mu_);
    switch (state_) {
      case BreakerState::kClosed:
        return kGo;
      case BreakerState::kHalfOpen:
        return kRefuse;  // one probe at a time
      case BreakerState::kOpen:
        if (options_.clock->now() < opened_at_ + options_.open_for) return kRefuse;
        state_ = BreakerState::kHalfOpen;
        ++half_opened_;
        return kProbe;
    }
    return kRefuse;
  }

  /// The outcome of the probe a kProbe admission asked for: closes or re-opens the breaker.
  void probe_done(bool ok) {
    detail::MutexLock lock(mu_);
    if (state_ != BreakerState::kHalfOpen) return;
    if (ok) {
      close_locked();
    } else {
      open_locked();
    }
  }

  /// Word from elsewhere that the service answers again (RedisBackend: its subscriber's
  /// connection was accepted and subscribed): an open breaker lets the next call probe now
  /// instead of after the rest of open_for. No effect unless open.
  void probe_now() {
    detail::MutexLock lock(mu_);
    if (state_ == BreakerState::kOpen) opened_at_ = options_.clock->now() - options_.open_for;
  }

  /// The outcome of an admitted call: `failed` = it failed in a way that counts (I/O, timeout).
  void record(bool failed) {
    detail::MutexLock lock(mu_);
    if (state_ != BreakerState::kClosed) return;  // calls admitted before it opened
    consecutive_ = failed ? consecutive_ + 1 : 0;
    failures_in_ring_ += static_cast<std::uint32_t>(failed) - ring_[next_];
    ring_[next_] = failed ? 1 : 0;
    next_ = (next_ + 1) % ring_.size();
    if (filled_ < ring_.size()) ++filled_;
    const bool by_count =
        options_.consecutive_failures > 0 && consecutive_ >= options_.consecutive_failures;
    const bool by_rate = options_.failure_rate > 0.0 && filled_ >= options_.min_calls &&
                         failures_in_ring_ >= options_.failure_rate * static_cast<double>(filled_);
    if (by_count || by_rate) open_locked();
  }

  BreakerState state() const {
    detail::MutexLock lock(mu_);
    return state_;
  }
  /// Fills the breaker fields of `s`.
  void fill(BackendStats& s) const {
    detail::MutexLock lock(mu_);
    s.breaker_state = state_;
    s.breaker_opened = opened_;
    s.breaker_half_open = half_opened_;
    s.breaker_closed = closed_;
  }
  const BreakerOptions& options() const noexcept { return options_; }

 private:
  void open_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    state_ = BreakerState::kOpen;
    opened_at_ = options_.clock->now();
    ++opened_;
  }
  void close_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    state_ = BreakerState::kClosed;
    ++closed_;
    consecutive_ = 0;
    failures_in_ring_ = 0;
    filled_ = 0;
    next_ = 0;
    std::fill(ring_.begin(), ring_.end(), std::uint8_t{0});
  }

  BreakerOptions options_;
  mutable detail::Mutex mu_;
  BreakerState state_ ABSL_GUARDED_BY(mu_) = BreakerState::kClosed;
  TimePoint opened_at_ ABSL_GUARDED_BY(mu_){};
  std::uint32_t consecutive_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::uint8_t> ring_ ABSL_GUARDED_BY(mu_);
  std::size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  std::size_t filled_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint32_t failures_in_ring_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t opened_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t half_opened_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t closed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace larder
