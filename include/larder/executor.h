// larder/executor.h — where background work (refresh-ahead reloads) runs.
//
//   auto pool = std::make_shared<larder::ThreadPool>(4);
//   auto f = larder::cached(load_user, {.ttl = 1min, .refresh_after = 45s, .executor = pool});
//
// `InlineExecutor` runs each task immediately on the calling thread: deterministic tests.
// `default_executor()` is a process-wide pool of 2 threads, created on first use, used when no
// executor is given.
//
// Thread safety: execute() may be called concurrently from any thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace larder {

/// Runs tasks. Implementations must run every task they accept exactly once.
class Executor {
 public:
  virtual ~Executor() = default;
  /// Runs `task`, now or later, on some thread. Tasks must not throw (larder's don't).
  virtual void execute(std::function<void()> task) = 0;
};

/// Runs each task at once, on the thread that calls execute().
class InlineExecutor final : public Executor {
 public:
  void execute(std::function<void()> task) override { task(); }
};

/// A fixed pool of worker threads with an unbounded FIFO queue. The destructor lets the workers
/// run the tasks still queued, then joins them. It may run on one of the pool's own workers (a
/// task dropping the last reference to its pool): that worker is detached instead of joined and
/// finishes the queue on its own.
class ThreadPool final : public Executor {
 public:
  /// `threads` >= 1 (0 is treated as 1).
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void execute(std::function<void()> task) override;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the workers, which may outlive this object
};

/// The process-wide default pool (2 threads), created on first use.
std::shared_ptr<Executor> default_executor();

}  // namespace larder
