// The maintenance scheduler: see include/larder/maintenance.h.
//
// One mutex guards the job table. A worker (or run_due/run_now on the caller's thread) claims a
// job by setting `running` under the mutex, runs it without the mutex, then reschedules it under
// the mutex. Jobs live in unique_ptrs, so a claimed job stays put while others are added.
#include "larder/maintenance.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "larder/errors.h"

namespace larder {

namespace {
using WallTime = Schedule::WallTime;
}  // namespace

struct Maintenance::Impl {
  enum class Kind { kOnce, kEvery, kCalendar };
  struct Job {
    JobId id;
    std::string name;
    Kind kind;
    Duration interval;                         // kEvery
    std::shared_ptr<const Schedule> schedule;  // kCalendar
    std::function<void()> fn;
    TimePoint due = TimePoint::min();     // kOnce, kEvery
    WallTime wall_due = WallTime::max();  // kCalendar
    bool done = false;                    // kOnce: ran
    bool running = false;
    JobStats stats;
  };

  Options options;
  TimePoint steady_start;
  WallTime wall_start;
  mutable std::mutex mu;
  std::condition_variable wake;
  std::vector<std::unique_ptr<Job>> jobs;
  JobId next_id = 1;
  bool stop = false;
  bool started = false;
  std::vector<std::thread> workers;

  explicit Impl(Options o) : options(std::move(o)) {
    if (options.threads == 0) {
      throw InvalidArgument("larder: MaintenanceOptions.threads must be at least 1");
    }
    steady_start = now();
    wall_start = std::chrono::system_clock::now();
  }

  TimePoint now() const {
    return options.clock ? options.clock->now() : std::chrono::steady_clock::now();
  }
  WallTime wall() const {
    if (options.wall_clock) return options.wall_clock();
    if (!options.clock) return std::chrono::system_clock::now();
    return wall_start + std::chrono::duration_cast<WallTime::duration>(now() - steady_start);
  }

  JobId add(std::unique_ptr<Job> j) {
    std::lock_guard<std::mutex> lock(mu);
    j->id = next_id++;
    j->stats.name = j->name;
    if (j->kind == Kind::kEvery) j->due = now() + j->interval;
    if (j->kind == Kind::kCalendar) j->wall_due = j->schedule->next_after(wall());
    jobs.push_back(std::move(j));
    wake.notify_all();
    return jobs.back()->id;
  }

  bool due(const Job& j, TimePoint t, WallTime w) const {
    if (j.done || j.running) return false;
    return j.kind == Kind::kCalendar ? j.wall_due <= w : j.due <= t;
  }

  // Runs claimed job `j` with `lock` released, then (`scheduled`: a due run) moves it to its next
  // due time. Called and returns with `lock` held.
  void run(std::unique_lock<std::mutex>& lock, Job& j, bool scheduled) {
    j.running = true;
    std::function<void()> fn = j.fn;
    const std::string name = j.name;
    const TimePoint began = now();
    const WallTime wall_began = wall();
    lock.unlock();
    std::string error;
    bool failed = false;
    try {
      fn();
    } catch (const std::exception& e) {
      failed = true;
      error = e.what();
    } catch (...) {
      failed = true;
      error = "unknown exception";
    }
    if (failed && options.log) {
      try {
        options.log(name, error);
      } catch (...) {
      }
    }
    lock.lock();
    j.running = false;
    ++j.stats.runs;
    if (failed) {
      ++j.stats.failures;
      j.stats.last_error = std::move(error);
    }
    if (scheduled) reschedule(j, began, wall_began);
    wake.notify_all();
  }

  // The next due time after a scheduled run that began at `began`: still ahead, on the fixed
  // grid (every) or the calendar (at). Due times that passed while it ran count as skipped.
  void reschedule(Job& j, TimePoint began, WallTime wall_began) {
    switch (j.kind) {
      case Kind::kOnce:
        j.done = true;
        break;
      case Kind::kEvery: {
        auto passed = [&](TimePoint t) { return t < j.due ? 0 : (t - j.due) / j.interval; };
        const auto behind = passed(now());  // whole intervals since the due time it ran for
        j.stats.skipped += static_cast<std::uint64_t>(behind - passed(began));
        j.due += j.interval * (behind + 1);
        break;
      }
      case Kind::kCalendar: {
        const WallTime w = wall();
        WallTime next = j.schedule->next_after(std::max(j.wall_due, wall_began));
        for (; next <= w; next = j.schedule->next_after(next)) ++j.stats.skipped;
        j.wall_due = next;
        break;
      }
    }
  }

  std::size_t run_due() {
    std::unique_lock<std::mutex> lock(mu);
    const TimePoint t = now();
    const WallTime w = wall();
    std::size_t ran = 0;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      Job& j = *jobs[i];
      if (!due(j, t, w)) continue;
      run(lock, j, /*scheduled=*/true);
      ++ran;
    }
    return ran;
  }

  std::size_t run_now(std::string_view name) {
    std::unique_lock<std::mutex> lock(mu);
    std::size_t ran = 0;
    bool found = false;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      Job& j = *jobs[i];
      if (j.name != name) continue;
      found = true;
      if (j.running) {
        ++j.stats.skipped;
        continue;
      }
      // A once-job run by hand has had its run; an interval or calendar job keeps its schedule.
      run(lock, j, /*scheduled=*/j.kind == Kind::kOnce && !j.done);
      ++ran;
    }
    if (!found) {
      throw InvalidArgument("larder: Maintenance has no job named \"" + std::string(name) + "\"");
    }
    return ran;
  }

  void work() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      const TimePoint t = now();
      const WallTime w = wall();
      Job* next = nullptr;
      for (const auto& j : jobs) {
        if (due(*j, t, w)) {
          next = j.get();
          break;
        }
      }
      if (next) {
        run(lock, *next, /*scheduled=*/true);
        continue;
      }
      // Sleep until the next due time; at most 1 s, so a clock that is not the steady clock
      // (moved by hand, or the wall clock stepped) is still followed.
      Duration wait = std::chrono::seconds(1);
      for (const auto& j : jobs) {
        if (j->done || j->running) continue;
        const Duration until = j->kind == Kind::kCalendar
                                   ? std::chrono::duration_cast<Duration>(j->wall_due - w)
                                   : j->due - t;
        wait = std::min(wait, until);
      }
      if (wait.count() > 0) wake.wait_for(lock, wait);
    }
  }
};

Maintenance::Maintenance(Options options) : impl_(std::make_shared<Impl>(std::move(options))) {}

Maintenance::~Maintenance() { shutdown(); }

Maintenance::JobId Maintenance::every(std::string name, Duration interval,
                                      std::function<void()> fn) {
  if (interval.count() <= 0) {
    throw InvalidArgument("larder: Maintenance job \"" + name + "\": interval must be positive");
  }
  auto j = std::make_unique<Impl::Job>();
  j->name = std::move(name);
  j->kind = Impl::Kind::kEvery;
  j->interval = interval;
  j->fn = std::move(fn);
  return impl_->add(std::move(j));
}

Maintenance::JobId Maintenance::at_start(std::string name, std::function<void()> fn) {
  auto j = std::make_unique<Impl::Job>();
  j->name = std::move(name);
  j->kind = Impl::Kind::kOnce;
  j->fn = std::move(fn);
  return impl_->add(std::move(j));
}

Maintenance::JobId Maintenance::at(std::string name, std::shared_ptr<const Schedule> schedule,
                                   std::function<void()> fn) {
  if (!schedule) {
    throw InvalidArgument("larder: Maintenance job \"" + name + "\": the schedule is null");
  }
  auto j = std::make_unique<Impl::Job>();
  j->name = std::move(name);
  j->kind = Impl::Kind::kCalendar;
  j->schedule = std::move(schedule);
  j->fn = std::move(fn);
  return impl_->add(std::move(j));
}

Maintenance::JobId Maintenance::cleanup(Registry& registry, Duration interval) {
  return every("cleanup", interval, [&registry] { registry.cleanup_all(); });
}

namespace {
std::function<void()> rebuild_job(Registry& registry, std::string cache_name,
                                  std::function<void()> precompute) {
  return [&registry, name = std::move(cache_name), fn = std::move(precompute)] {
    if (!registry.rebuild(name, fn)) {
      throw InvalidArgument("no cache named \"" + name + "\" is registered");
    }
  };
}
}  // namespace

Maintenance::JobId Maintenance::rebuild(Registry& registry, std::string cache_name,
                                        Duration interval, std::function<void()> precompute) {
  std::string job = "rebuild " + cache_name;
  return every(std::move(job), interval,
               rebuild_job(registry, std::move(cache_name), std::move(precompute)));
}

Maintenance::JobId Maintenance::rebuild(Registry& registry, std::string cache_name,
                                        std::shared_ptr<const Schedule> schedule,
                                        std::function<void()> precompute) {
  std::string job = "rebuild " + cache_name;
  return at(std::move(job), std::move(schedule),
            rebuild_job(registry, std::move(cache_name), std::move(precompute)));
}

void Maintenance::start() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->started || impl_->stop) return;
  impl_->started = true;
  for (std::size_t i = 0; i < impl_->options.threads; ++i) {
    impl_->workers.emplace_back([impl = impl_] { impl->work(); });
  }
}

std::size_t Maintenance::run_due() { return impl_->run_due(); }

std::size_t Maintenance::run_now(std::string_view name) { return impl_->run_now(name); }

void Maintenance::shutdown() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
    workers = std::move(impl_->workers);
  }
  impl_->wake.notify_all();
  for (std::thread& w : workers) {
    if (w.get_id() == std::this_thread::get_id()) {
      w.detach();  // called from a job: this worker sees `stop` when the job returns
    } else {
      w.join();
    }
  }
}

std::vector<Maintenance::JobStats> Maintenance::jobs() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<JobStats> out;
  for (const auto& j : impl_->jobs) out.push_back(j->stats);
  return out;
}

}  // namespace larder
