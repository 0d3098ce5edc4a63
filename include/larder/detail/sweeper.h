// The background sweeper (larder::detail), compiled in src/sweeper.cc.
//
// One thread, shared by every cache with Options::background_cleanup > 0, started on the first
// registration. Each registered task runs every `interval` (measured on the steady clock, not the
// cache's clock); tasks run one at a time, never concurrently with themselves. remove() returns
// only once the task is not running and never will again, so a cache's destructor can call it
// and then free everything the task touches ("shutdown is safe while a sweep runs").
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace larder::detail {

class Sweeper {
 public:
  using Id = std::uint64_t;

  /// The process-wide sweeper (never destroyed: safe to use during static destruction).
  static Sweeper& instance();

  /// Registers `task` to run every `interval` (> 0), the first time one interval from now.
  virtual Id add(std::chrono::nanoseconds interval, std::function<void()> task) = 0;
  /// Unregisters `id`, waiting for a run of it in progress to finish. Called from inside that
  /// very task (a listener destroying its own cache), it does not wait.
  virtual void remove(Id id) = 0;
  /// Number of completed task runs so far (for tests and diagnostics).
  virtual std::uint64_t runs() const = 0;
  /// Number of registered tasks (for tests and diagnostics).
  virtual std::size_t tasks() const = 0;

 protected:
  ~Sweeper() = default;
};

}  // namespace larder::detail
