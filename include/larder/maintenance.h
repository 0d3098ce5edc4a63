// larder/maintenance.h — periodic jobs around caches: expiry cleanup of every registered cache,
// warmers, rebuilds.
//
//   larder::Maintenance jobs({.log = [](std::string_view job, std::string_view error) {
//     std::cerr << job << " failed: " << error << "\n"; }});
//   jobs.cleanup(larder::Registry::global(), 60s);          // expiry pass over all caches
//   jobs.at_start("warm", [&] { preload_hot_users(); });    // once, when started
//   jobs.every("warm", 30min, [&] { preload_hot_users(); });
//   jobs.rebuild(larder::Registry::global(), "leaderboard", 1h, [&] { compute_leaderboard(); });
//   jobs.start();                                           // background thread
//   ...
//   jobs.shutdown();                                        // also done by the destructor
//
// Due times are read on Options::clock. With a ManualClock (tests), drive the jobs with
// run_due() instead of start(): it runs, on the calling thread, every job due now.
//
// GUARANTEES. A job never overlaps itself: while one run is in progress (on the background thread
// or in a run_due() call), the job is skipped, not queued. A job that throws is counted
// (JobStats::failures), reported through Options::log with the job's name, and runs again at its
// next due time. An every() job that fell behind runs once, then is due one interval later (no
// burst of catch-up runs). shutdown() wakes the background thread at once, waits only for a job
// that is running, and may be called any number of times, from any thread (also from a job).
//
// THREAD SAFETY. Every member may be called concurrently.
#pragma once

#include <chrono>
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
  /// Time source for due times. Default nullptr: steady clock.
  std::shared_ptr<Clock> clock{};
  /// Called with (job name, error message) when a job throws. Default: none (still counted).
  std::function<void(std::string_view job, std::string_view error)> log{};
};

class Maintenance {
 public:
  using Options = MaintenanceOptions;

  struct JobStats {
    std::string name;
    std::uint64_t runs = 0;      ///< completed runs, failed ones included
    std::uint64_t failures = 0;  ///< runs that threw
    std::uint64_t skipped = 0;   ///< times it was due while still running
    std::string last_error;      ///< message of the latest failure
  };

  using JobId = std::uint64_t;

  explicit Maintenance(Options options = {});
  /// shutdown().
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  /// Runs `fn` every `interval` (> 0); first one interval from now.
  JobId every(std::string name, Duration interval, std::function<void()> fn);
  /// Runs `fn` once: at start(), or at the first run_due().
  JobId at_start(std::string name, std::function<void()> fn);
  /// Expiry cleanup (Cache::cleanup) of every cache in `registry`, every `interval`.
  JobId cleanup(Registry& registry, Duration interval = std::chrono::seconds(60));
  /// Every `interval`: clears the cache registered as `cache_name`, then runs `precompute`
  /// (which refills it). A missing cache is a failure ("no cache named ...").
  JobId rebuild(Registry& registry, std::string cache_name, Duration interval,
                std::function<void()> precompute);

  /// Starts the background thread, which runs jobs as they come due. Idempotent.
  void start();
  /// Runs every job due now on the calling thread; returns how many ran.
  std::size_t run_due();
  /// Stops the background thread (see GUARANTEES). Idempotent.
  void shutdown();

  /// Every job's counters, in the order they were added.
  std::vector<JobStats> jobs() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace larder
