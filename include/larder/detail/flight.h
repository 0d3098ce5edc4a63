// Single-flight loads (larder::detail).
//
// IMPLEMENTATION DETAILS
// A Flight is one load in progress for one key: the first caller that misses creates it (under
// the key's shard lock) and runs the loader with no lock held; callers that miss meanwhile find it
// in the shard and wait on its shared future; the leader stores the value and retires the flight
// in one critical section, then publishes the value (or its exception) to every waiter.
//
// A load whose key was written while it ran must not store its (older) result over that write:
// erase, erase_prefix, clear and locked puts mark the flights of their keys stale, and a
// lock-free put (which takes no lock, so cannot see flights) is seen at the store by comparing
// the key's entry with the one the load found when it started (Shard::entry_stamp: a slot, plus
// for in-place values the version a lock-free put moves). A superseded result still goes to the
// load's callers and waiters; it is only not stored.
//
// Deadlock refusal: before a thread waits on a flight, begin_wait() walks the wait-for graph —
// flight -> its leader thread -> the flight that thread waits on -> ... — under one registry
// mutex. If the walk reaches the waiting thread itself, waiting would deadlock (a loader calling
// back for its own key, directly or through other keys and threads), so LoaderCycle is thrown
// instead. The thread that would close a cycle is the one that sees all of it, because every
// registration happens under the same mutex. A flight whose load has ended leads nobody (finish()
// clears its leader before the result is published), so the walk never follows the edge of a
// waiter that has not woken yet to the thread that completed its flight. Only waits and the end
// of a load touch the registry; hits never do.
#pragma once

#include <cstdint>
#include <exception>
#include <future>
#include <string>
#include <thread>
#include <utility>

#include "larder/errors.h"

namespace larder::detail {

class FlightBase {
 public:
  /// Leader: the creating thread, or nobody yet (a refresh scheduled on an executor).
  explicit FlightBase(bool led_by_caller)
      : leader_(led_by_caller ? std::this_thread::get_id() : std::thread::id()) {}
  /// Makes the calling thread the leader (a refresh task starting on an executor thread).
  void lead_here();
  /// The load has ended (its result is about to be published): it leads nobody any more, so a
  /// walk of the wait-for graph stops here (a waiter not yet woken still points at it).
  void finish() noexcept;

  // Whether the load's result may still be stored. Read and written under the shard lock of the
  // flight's key only (the shard keeps its flights).
  /// An erase or invalidation of the key landed while it loaded: store nothing.
  void mark_stale() noexcept { stale_ = true; }
  bool stale() const noexcept { return stale_; }
  /// The entry the load found when it started (Shard::entry_stamp): a different one at its end
  /// means a put replaced it meanwhile, and the put's value stays.
  void set_stamp(std::uint64_t stamp) noexcept { stamp_ = stamp; }
  std::uint64_t stamp() const noexcept { return stamp_; }

 private:
  friend void begin_wait(const FlightBase& f);
  std::thread::id leader_;  // guarded by the registry mutex in src/flight.cc
  bool stale_ = false;
  std::uint64_t stamp_ = 0;
};

/// Records that this thread is about to wait on `f`, or throws LoaderCycle if that would deadlock.
void begin_wait(const FlightBase& f);
/// Undoes begin_wait.
void end_wait() noexcept;
/// Whether thread `t` is waiting on a flight now (between begin_wait and end_wait). For tests
/// and diagnostics.
bool is_waiting(std::thread::id t);

template <class V>
class Flight final : public FlightBase {
 public:
  explicit Flight(bool led_by_caller)
      : FlightBase(led_by_caller), future_(promise_.get_future().share()) {}

  void set_value(const V& v) {
    finish();
    promise_.set_value(v);
  }
  void set_exception(std::exception_ptr e) {
    finish();
    promise_.set_exception(std::move(e));
  }

  /// Waits for the leader's result: returns a copy of the value or rethrows its exception.
  /// Throws LoaderCycle instead of waiting when waiting would deadlock.
  V wait() const {
    begin_wait(*this);
    struct End {
      ~End() { end_wait(); }
    } end;
    return future_.get();
  }

 private:
  std::promise<V> promise_;
  std::shared_future<V> future_;
};

}  // namespace larder::detail
