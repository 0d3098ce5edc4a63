// The maintenance scheduler: see include/larder/maintenance.h.

#include "larder/maintenance.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "larder/errors.h"

namespace larder {

struct Maintenance::Impl {
  struct Job {
    JobId id;
    std::string name;
    Duration interval;  // zero: run once (at_start)
    std::function<void()> fn;
    TimePoint due;
    bool once_done = false;
    bool running = false;
    JobStats stats;
  };

  Options options;
  mutable std::mutex mu;
  std::condition_variable wake;
  std::condition_variable idle;
  std::vector<Job> jobs;
  JobId next_id = 1;
  bool stop = false;
  std::thread worker;

  TimePoint now() const {
    return options.clock ? options.clock->now() : std::chrono::steady_clock::now();
  }

  JobId add(std::string name, Duration interval, std::function<void()> fn, bool at_start) {
    if (!at_start && interval.count() <= 0) {
      throw InvalidArgument("larder: Maintenance job \"" + name + "\": interval must be positive");
    }
    std::lock_guard<std::mutex> lock(mu);
    Job j{next_id++,
          name,
          at_start ? Duration::zero() : interval,
          std::move(fn),
          at_start ? TimePoint::min() : now() + interval,
          false,
          false,
          {}};
    j.stats.name = std::move(name);
    jobs.push_back(std::move(j));
    wake.notify_all();
    return jobs.back().id;
  }

  // Runs the jobs due at `t`, one at a time, without holding the lock while they run.
  std::size_t run_due() {
    std::size_t ran = 0;
    std::unique_lock<std::mutex> lock(mu);
    const TimePoint t = now();
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      Job& due = jobs[i];
      if (due.once_done || due.due > t) continue;
      if (due.running) {
        ++due.stats.skipped;
        continue;
      }
      due.running = true;
      const JobId id = due.id;
      std::function<void()> fn = due.fn;
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
          options.log(jobs_name(id), error);
        } catch (...) {
        }
      }
      lock.lock();
      Job& j = *std::find_if(jobs.begin(), jobs.end(), [id](const Job& x) { return x.id == id; });
      j.running = false;
      ++j.stats.runs;
      if (failed) {
        ++j.stats.failures;
        j.stats.last_error = std::move(error);
      }
      if (j.interval.count() == 0) {
        j.once_done = true;
      } else {
        j.due = now() + j.interval;  // fell behind: once, then one interval later
      }
      ++ran;
      idle.notify_all();
    }
    return ran;
  }

  std::string jobs_name(JobId id) {
    std::lock_guard<std::mutex> lock(mu);
    for (const Job& j : jobs) {
      if (j.id == id) return j.name;
    }
    return {};
  }

  void loop() {
    for (;;) {
      run_due();
      std::unique_lock<std::mutex> lock(mu);
      if (stop) return;
      // Sleep until the next due time; at most 1 s, so a clock that is not the steady clock
      // (moved by hand) is still followed.
      TimePoint next = TimePoint::max();
      for (const Job& j : jobs) {
        if (!j.once_done && !j.running) next = std::min(next, j.due);
      }
      const TimePoint t = now();
      const Duration wait =
          next <= t ? Duration::zero() : std::min<Duration>(next - t, std::chrono::seconds(1));
      if (wait.count() > 0) wake.wait_for(lock, wait, [&] { return stop; });
      if (stop) return;
    }
  }
};

Maintenance::Maintenance(Options options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
}

Maintenance::~Maintenance() { shutdown(); }

Maintenance::JobId Maintenance::every(std::string name, Duration interval,
                                      std::function<void()> fn) {
  return impl_->add(std::move(name), interval, std::move(fn), false);
}

Maintenance::JobId Maintenance::at_start(std::string name, std::function<void()> fn) {
  return impl_->add(std::move(name), Duration::zero(), std::move(fn), true);
}

Maintenance::JobId Maintenance::cleanup(Registry& registry, Duration interval) {
  return every("cleanup", interval, [&registry] { registry.cleanup_all(); });
}

Maintenance::JobId Maintenance::rebuild(Registry& registry, std::string cache_name,
                                        Duration interval, std::function<void()> precompute) {
  std::string job = "rebuild " + cache_name;
  return every(std::move(job), interval,
               [&registry, name = std::move(cache_name), fn = std::move(precompute)] {
                 if (!registry.invalidate(name)) {
                   throw InvalidArgument("no cache named \"" + name + "\" is registered");
                 }
                 fn();
               });
}

void Maintenance::start() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->worker.joinable() || impl_->stop) return;
  impl_->worker = std::thread([impl = impl_] { impl->loop(); });
}

std::size_t Maintenance::run_due() { return impl_->run_due(); }

void Maintenance::shutdown() {
  std::thread worker;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
    worker = std::move(impl_->worker);
  }
  impl_->wake.notify_all();
  if (!worker.joinable()) return;
  if (worker.get_id() == std::this_thread::get_id()) {
    worker.detach();  // called from a job: the loop sees `stop` when the job returns
  } else {
    worker.join();
  }
}

std::vector<Maintenance::JobStats> Maintenance::jobs() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<JobStats> out;
  for (const auto& j : impl_->jobs) out.push_back(j.stats);
  return out;
}

}  // namespace larder
