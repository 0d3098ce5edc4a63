// An annotated mutex for shard locks (larder::detail).
//
// A std::mutex with clang thread-safety attributes, so `-Wthread-safety` checks every access to
// ABSL_GUARDED_BY fields. Why not absl::Mutex: Debian's prebuilt abseil is not built with
// ThreadSanitizer, and TSan cannot see the happens-before edges of an uninstrumented mutex (it
// reports false races); pthread mutexes are intercepted by every sanitizer.
#pragma once

#include <absl/base/thread_annotations.h>

#include <mutex>

namespace larder::detail {

class ABSL_LOCKABLE Mutex {
 public:
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { m_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return m_.try_lock(); }

 private:
  std::mutex m_;
};

/// Scoped lock over a detail::Mutex.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& m) ABSL_EXCLUSIVE_LOCK_FUNCTION(m) : m_(m) { m_.lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& m_;
};

}  // namespace larder::detail
