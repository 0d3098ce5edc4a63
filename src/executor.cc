// ThreadPool and the default executor: see include/larder/executor.h.

#include "larder/executor.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace larder {

struct ThreadPool::State {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool stop = false;
  std::vector<std::thread> workers;

  void work() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || !queue.empty(); });
      if (queue.empty()) return;  // stop requested and nothing left
      std::function<void()> task = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      try {
        task();
      } catch (...) {
        // Tasks must not throw; a pool thread must survive one that does.
      }
      task = nullptr;  // destroy captures outside the lock
      lock.lock();
    }
  }
};

ThreadPool::ThreadPool(std::size_t threads) : state_(std::make_shared<State>()) {
  if (threads == 0) threads = 1;
  state_->workers.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    state_->workers.emplace_back([s = state_] { s->work(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  for (auto& t : state_->workers) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // we are that worker: it returns to work() after this and drains the queue
    } else {
      t.join();
    }
  }
}

void ThreadPool::execute(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->queue.push_back(std::move(task));
  }
  state_->cv.notify_one();
}

std::shared_ptr<Executor> default_executor() {
  static const std::shared_ptr<Executor> pool = std::make_shared<ThreadPool>(2);
  return pool;
}

}  // namespace larder
