// The background sweeper thread: see include/larder/detail/sweeper.h.
//
// std::mutex/std::condition_variable rather than absl::Mutex so that ThreadSanitizer builds see
// every happens-before edge (Debian's abseil is not TSan-instrumented).

#include "larder/detail/sweeper.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace larder::detail {
namespace {

class SweeperImpl final : public Sweeper {
 public:
  SweeperImpl() = default;
  ~SweeperImpl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  Id add(std::chrono::nanoseconds interval, std::function<void()> task) override {
    std::lock_guard<std::mutex> lock(mu_);
    const Id id = next_id_++;
    tasks_.emplace(id, Task{interval, Clock::now() + interval, std::move(task)});
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    wake_.notify_all();
    return id;
  }

  void remove(Id id) override {
    std::unique_lock<std::mutex> lock(mu_);
    tasks_.erase(id);
    if (std::this_thread::get_id() == thread_.get_id()) return;
    done_.wait(lock, [&] { return running_ != id; });
  }

  std::size_t tasks() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return tasks_.size();
  }

  std::uint64_t runs() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Task {
    std::chrono::nanoseconds interval;
    Clock::time_point due;
    std::function<void()> fn;
  };

  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      auto next = tasks_.end();
      for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
        if (next == tasks_.end() || it->second.due < next->second.due) next = it;
      }
      if (next == tasks_.end()) {
        wake_.wait(lock);
        continue;
      }
      // A copy: remove() may free the task's node while we wait.
      const Clock::time_point due = next->second.due;
      if (Clock::now() < due) {
        wake_.wait_until(lock, due);
        continue;
      }
      const Id id = next->first;
      next->second.due = Clock::now() + next->second.interval;
      std::function<void()> fn = next->second.fn;  // the task may be removed while it runs
      running_ = id;
      lock.unlock();
      try {
        fn();
      } catch (...) {
        // A sweep reports problems through its cache's stats; nothing may escape this thread.
      }
      lock.lock();
      running_ = 0;
      ++runs_;
      done_.notify_all();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::map<Id, Task> tasks_;
  Id next_id_ = 1;
  Id running_ = 0;
  std::uint64_t runs_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

Sweeper& Sweeper::instance() {
  // Never destroyed: a cache may be destroyed during static destruction, or on a thread that
  // outlives main (a pool draining its queue), and its destructor calls remove(). The thread
  // idles on its condition variable when no cache is registered and ends with the process.
  static SweeperImpl* sweeper = new SweeperImpl;
  return *sweeper;
}

}  // namespace larder::detail
