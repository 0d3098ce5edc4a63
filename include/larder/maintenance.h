// larder/maintenance.h — periodic jobs around caches: expiry cleanup of every registered cache,
// warmers, rebuilds, on a small pool of threads, by interval or by the calendar.
//
//   larder::Maintenance jobs({.log = [](std::string_view job, std::string_view error) {
//     std::cerr << job << " failed: " << error << "\n"; }});
//   jobs.cleanup(larder::Registry::global(), 60s);          // expiry pass over all caches
//   jobs.at_start("warm", [&] { preload_hot_users(); });    // once, when started
//   jobs.every("warm", 30min, [&] { preload_hot_users(); });
//   jobs.rebuild(larder::Registry::global(), "leaderboard", 1h, [&] { compute_leaderboard(); });
//   jobs.at("report", larder::daily("02:00", "Europe/Berlin"), [&] { send_report(); });
//   jobs.start();                                           // the pool (2 threads by default)
//   ...
//   jobs.run_now("warm");                                   // e.g. from an admin endpoint
//   jobs.shutdown();                                        // also done by the destructor
//
// SCHEDULES. every() is fixed-rate: runs are due at start + k * interval, whatever each run took,
// so a schedule never drifts. A run that overran one or more due times is followed by the next
// due time still ahead (no burst of catch-up runs; the missed ones count as skipped). at() takes a
// Schedule: larder/calendar.h (component `calendar`) makes "daily at 02:00" and "Mondays at 07:00"
// in a named time zone, daylight-saving changes included. Calendar due times are read on the wall
// clock (Options::wall_clock), interval due times on Options::clock.
//
// THREADS. Jobs run on Options::threads worker threads (2 by default): a slow job delays the
// others only when every thread is busy. With a ManualClock (tests), drive the jobs with
// run_due() instead of start(): it runs, on the calling thread, every job due now.
//
// GUARANTEES. A job never overlaps itself: while one run is in progress (on a worker, in run_due()
// or in run_now()), it is not started again; a run_now() that finds it running is refused and
// counted as skipped. A job that throws is counted (JobStats::failures), reported through
// Options::log with the job's name, and runs again at its next due time. shutdown() wakes the
// workers at once, waits only for jobs that are running, and may be called any number of times,
// from any thread (also from a job).
//
// THREAD SAFETY. Every member may be called concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "larder/clock.h"
#include "larder/registry.h"

namespace larder {

/// Settings of a Maintenance scheduler. Every field says its default.
struct MaintenanceOptions {
  /// Time source for interval due times. Default nullptr: steady clock.
  std::shared_ptr<Clock> clock{};
  /// Called with (job name, error message) when a job throws. Default: none (still counted).
  std::function<void(std::string_view job, std::string_view error)> log{};
  /// Worker threads that run jobs after start(), >= 1. Default 2.
  std::size_t threads = 2;
  /// Wall-clock time, read for calendar schedules (at()). Default: std::chrono::system_clock;
  /// with a `clock` set, the system clock's reading when the Maintenance was built, moved on by
  /// that clock (so a ManualClock drives both). Tests of calendar jobs set a fixed starting date.
  std::function<std::chrono::system_clock::time_point()> wall_clock{};
};

/// When a calendar job is due (larder/calendar.h makes daily and weekly ones in a time zone).
/// Implementations must be thread-safe.
class Schedule {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  virtual ~Schedule() = default;
  /// The first due time strictly after `t`.
  virtual WallTime next_after(WallTime t) const = 0;
  /// What it is, for people: "daily at 02:00 (Europe/Berlin)".
  virtual std::string describe() const = 0;
};

class Maintenance {
 public:
  using Options = MaintenanceOptions;

  struct JobStats {
    std::string name;
    std::uint64_t runs = 0;      ///< completed runs, failed ones included
    std::uint64_t failures = 0;  ///< runs that threw
    /// runs not made because it was still running: due times that passed during a run, and
    /// run_now() calls that found it running
    std::uint64_t skipped = 0;
    std::string last_error;  ///< message of the latest failure
  };

  using JobId = std::uint64_t;

  explicit Maintenance(Options options = {});
  /// shutdown().
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  /// Runs `fn` every `interval` (> 0), fixed-rate: first one interval from now.
  JobId every(std::string name, Duration interval, std::function<void()> fn);
  /// Runs `fn` once: at start(), or at the first run_due().
  JobId at_start(std::string name, std::function<void()> fn);
  /// Runs `fn` at each due time of `schedule` (non-null; larder/calendar.h), first the next one.
  JobId at(std::string name, std::shared_ptr<const Schedule> schedule, std::function<void()> fn);
  /// Expiry cleanup (Cache::cleanup) of every cache in `registry`, every `interval`.
  JobId cleanup(Registry& registry, Duration interval = std::chrono::seconds(60));
  /// Every `interval`: rebuilds the cache registered as `cache_name` with `precompute`, which
  /// writes its new contents (Registry::rebuild: readers see the old entries until the new ones
  /// are written, never a miss in between; what precompute did not write is dropped after it).
  /// A missing cache is a failure ("no cache named ..."). The job is named "rebuild <cache_name>".
  JobId rebuild(Registry& registry, std::string cache_name, Duration interval,
                std::function<void()> precompute);
  /// rebuild() at each due time of `schedule` ("daily at 02:00").
  JobId rebuild(Registry& registry, std::string cache_name,
                std::shared_ptr<const Schedule> schedule, std::function<void()> precompute);

  /// Starts the worker threads, which run jobs as they come due. Idempotent.
  void start();
  /// Runs every job due now on the calling thread, one after another; returns how many ran.
  std::size_t run_due();
  /// Runs every job named `name` now, on the calling thread, whether due or not (the schedule is
  /// unchanged); returns how many ran. A job that is running is not run again (counted as
  /// skipped). Throws larder::InvalidArgument when no job has that name.
  std::size_t run_now(std::string_view name);
  /// Stops the worker threads (see GUARANTEES). Idempotent.
  void shutdown();

  /// Every job's counters, in the order they were added.
  std::vector<JobStats> jobs() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace larder
