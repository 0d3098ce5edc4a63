// The shard lock (larder::detail): a small spin-then-sleep mutex with clang thread-safety
// attributes, so `-Wthread-safety` checks every access to ABSL_GUARDED_BY fields.
//
// Critical sections in a shard are tens of nanoseconds. A plain std::mutex puts a waiter to
// sleep in the kernel (futex) on contention, which for hot keys costs far more than the work
// it protects (measured: read100 with 2 threads fell to a quarter of 1 thread). This lock spins
// briefly (the holder is almost always about to release), then sleeps on the word with C++20
// atomic wait/notify (a futex on Linux), so oversubscribed threads do not burn a core.
// States: 0 free, 1 held, 2 held with possible sleepers (Drepper, "Futexes Are Tricky").
//
// Why not absl::Mutex: Debian's prebuilt abseil is not built with ThreadSanitizer, and TSan cannot
// see the happens-before edges of an uninstrumented mutex (false race reports). The atomics here
// are compiled into our code, so every sanitizer sees them.
#pragma once

#include <absl/base/thread_annotations.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace larder::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class ABSL_LOCKABLE Mutex {
 public:
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    std::uint32_t expected = 0;
    if (!state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      lock_contended();
    }
  }
  void unlock() ABSL_UNLOCK_FUNCTION() {
    if (state_.exchange(0, std::memory_order_release) == 2) state_.notify_one();
  }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

 private:
  static constexpr int kSpins = 128;

  void lock_contended() {
    for (int i = 0; i < kSpins; ++i) {
      cpu_relax();
      std::uint32_t s = state_.load(std::memory_order_relaxed);
      if (s == 0 && state_.compare_exchange_weak(s, 1, std::memory_order_acquire,
                                                 std::memory_order_relaxed)) {
        return;
      }
      if (s == 2) break;  // others already sleep: queue behind them
    }
    // Mark "held, maybe sleepers" and sleep until the word changes; we own the lock when the
    // exchange finds it free (it then stays 2, which only costs one spare wake-up).
    while (state_.exchange(2, std::memory_order_acquire) != 0) {
      state_.wait(2, std::memory_order_relaxed);
    }
  }

  std::atomic<std::uint32_t> state_{0};
};

/// Scoped lock over a detail::Mutex.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& m) ABSL_EXCLUSIVE_LOCK_FUNCTION(m) : m_(m) { m_.lock(); }
  /// Adopts `m`, which the caller holds (a try_lock that succeeded).
  MutexLock(Mutex& m, std::adopt_lock_t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m) : m_(m) {}
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& m_;
};

}  // namespace larder::detail
