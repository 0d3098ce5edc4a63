// In-place updates of small values, read and written without the shard lock (larder::detail).
//
// IMPLEMENTATION DETAILS
// A put over a live key normally builds a new slot, swaps the index cell and retires the old slot,
// because a lock-free reader may be copying it (shard.h). For values that are trivially copyable
// and never stored compressed (`kInPlace<V>`: integers, PODs, small structs) that costs several
// times the copy itself, so the shard overwrites such an entry in place instead, bracketed by the
// slot's 32-bit version, a seqlock whose odd values double as a per-entry writer lock:
//   writer:  CAS version v -> v + 1 (v even);  store the words;  version = v + 2
//   reader:  v = version;  if odd, give up;  load the words;  if version != v, retry (or give up)
// Writers are the shard-lock holder (SeqWrite: waits for the version to be even) and, for the
// simplest updates, a put that holds no shard lock at all (try_lock_version_briefly: if another
// writer holds the version, a short spin and one more attempt, else it takes the shard lock). A
// lock-free reader that meets an odd version spins briefly too (kBriefSpins pauses: the writer's
// stores take about that long), then gives up and takes the shard lock, which waits for the
// writer properly (a writer preempted mid-write must not leave readers spinning on an
// oversubscribed machine). Without the brief spin, two threads reading and writing the same hot
// keys sent most of those collisions through the shard lock: read75 at 2 threads ran slower than
// at 1. Readers under the shard lock may still meet a lock-free writer and
// wait for it (seq_read_wait): its critical section is a few stores.
//
// A lock-free writer found its slot through the index before taking the version, so the entry
// may have been removed (or replaced by a new slot) in between. Its write then lands in a retired
// slot, which no later reader finds: the put took effect just before that removal or replacement.
// That is a valid order because the two overlapped (the put's probe came before the removal
// unpublished the slot); readers that still copy the retired slot overlapped the removal too.
// Slots are not reused while the writer's ReadSection is open (epoch.h), so it never writes into
// another key's entry.
//
// Every access to the protected words is atomic (std::atomic_ref, word by word), so there is no
// data race in the C++ memory model and ThreadSanitizer checks the protocol like any other
// atomics. The writer takes the version with acquire order (so it is ordered after the previous
// writer's release) and stores the words with release order after it: a reader that loads any new
// word therefore also sees the odd (or a later) version when it re-reads it. The reader loads the
// words with acquire order, so its re-read of the version cannot move before them. No fences: on
// x86 all of these are plain moves and one locked compare-exchange per write.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <type_traits>

#include "larder/detail/mutex.h"

namespace larder::detail {

/// How many pauses a lock-free reader or writer spends waiting out another writer's stores
/// before it goes to the shard lock instead.
inline constexpr int kBriefSpins = 64;

/// The widest unsigned word that tiles an object of this alignment and size.
template <std::size_t Align, std::size_t Size>
using WordFor =
    std::conditional_t<Align % 8 == 0 && Size % 8 == 0, std::uint64_t,
                       std::conditional_t<Align % 4 == 0 && Size % 4 == 0, std::uint32_t,
                                          std::conditional_t<Align % 2 == 0 && Size % 2 == 0,
                                                             std::uint16_t, std::uint8_t>>>;

/// Copies `Size` bytes from `src` (aligned to `Align`, written by store_words) with acquire
/// loads, word by word, into `dst`.
template <std::size_t Align, std::size_t Size>
void load_words(void* dst, const void* src) noexcept {
  using W = WordFor<Align, Size>;
  auto* from = static_cast<W*>(const_cast<void*>(src));
  auto* to = static_cast<unsigned char*>(dst);
  for (std::size_t k = 0; k < Size / sizeof(W); ++k) {
    const W w = std::atomic_ref<W>(from[k]).load(std::memory_order_acquire);
    std::memcpy(to + k * sizeof(W), &w, sizeof(W));
  }
}

/// Copies `Size` bytes from `src` into `dst` (aligned to `Align`) with release stores, word by
/// word.
template <std::size_t Align, std::size_t Size>
void store_words(void* dst, const void* src) noexcept {
  using W = WordFor<Align, Size>;
  auto* to = static_cast<W*>(dst);
  const auto* from = static_cast<const unsigned char*>(src);
  for (std::size_t k = 0; k < Size / sizeof(W); ++k) {
    W w;
    std::memcpy(&w, from + k * sizeof(W), sizeof(W));
    std::atomic_ref<W>(to[k]).store(w, std::memory_order_release);
  }
}

/// One int64 field of a slot that in-place updates rewrite.
inline std::int64_t load_field(const std::int64_t& f) noexcept {
  return std::atomic_ref<std::int64_t>(const_cast<std::int64_t&>(f))
      .load(std::memory_order_acquire);
}
inline void store_field(std::int64_t& f, std::int64_t v) noexcept {
  std::atomic_ref<std::int64_t>(f).store(v, std::memory_order_release);
}

/// Spins a few dozen pause instructions while `version` is odd (a writer mid-write, which on
/// another running core finishes in about as long); returns the last value read, odd if it
/// stayed odd (the writer may be preempted: the caller then goes to the shard lock).
[[gnu::noinline]] inline std::uint32_t brief_wait_even(
    const std::atomic<std::uint32_t>& version) noexcept {
  std::uint32_t v = version.load(std::memory_order_acquire);
  for (int spins = 0; (v & 1) && spins < kBriefSpins; ++spins) {
    cpu_relax();
    v = version.load(std::memory_order_acquire);
  }
  return v;
}

/// One attempt at taking `version` as the writer's lock: makes it odd if it is even (acquire);
/// `start` receives the even value. Lock-free writers use it and fall back to the shard lock
/// rather than wait. Release with `version.store(start + 2, release)` after a write, or
/// `version.store(start, release)` if nothing was written (readers then retry for nothing).
[[gnu::always_inline]] inline bool try_lock_version(std::atomic<std::uint32_t>& version,
                                                    std::uint32_t& start) noexcept {
  start = version.load(std::memory_order_relaxed);
  return (start & 1) == 0 &&
         version.compare_exchange_strong(start, start + 1, std::memory_order_acquire,
                                         std::memory_order_relaxed);
}
/// try_lock_version for a lock-free writer: when another writer holds the version, waits
/// briefly (brief_wait_even) and tries once more before giving up.
inline bool try_lock_version_briefly(std::atomic<std::uint32_t>& version,
                                     std::uint32_t& start) noexcept {
  if (try_lock_version(version, start)) [[likely]]
    return true;
  return (brief_wait_even(version) & 1) == 0 && try_lock_version(version, start);
}

/// Spins, then yields, while `done()` is false: waits for a lock-free writer's few stores.
template <class Done>
void wait_for_writer(Done&& done) noexcept {
  for (int spins = 0; !done(); ++spins) {
    if (spins < 64) {
      cpu_relax();
    } else {
      std::this_thread::yield();  // the writer was preempted: let it run
    }
  }
}

/// The locked writer's side: holds `version` odd for the lifetime of the object, waiting first
/// for a lock-free writer to finish (the shard lock excludes every other writer).
class SeqWrite {
 public:
  explicit SeqWrite(std::atomic<std::uint32_t>& version) noexcept : version_(version) {
    wait_for_writer([&] { return try_lock_version(version_, start_); });
  }
  ~SeqWrite() { version_.store(start_ + 2, std::memory_order_release); }
  SeqWrite(const SeqWrite&) = delete;
  SeqWrite& operator=(const SeqWrite&) = delete;

 private:
  std::atomic<std::uint32_t>& version_;
  std::uint32_t start_ = 0;
};

/// The reader's side: calls `copy()` until it ran with no write in progress and no write in
/// between, at most `kTries` times; returns whether it succeeded.
template <class Copy>
[[gnu::always_inline]] inline bool seq_read(const std::atomic<std::uint32_t>& version,
                                            Copy&& copy) noexcept {
  constexpr int kTries = 4;
  for (int t = 0; t < kTries; ++t) {
    std::uint32_t v = version.load(std::memory_order_acquire);
    if (v & 1) [[unlikely]] {  // a writer is mid-write: its few stores take a few dozen cycles
      v = brief_wait_even(version);
      if (v & 1) return false;  // still writing (preempted?): wait for it under the lock
    }
    copy();
    if (version.load(std::memory_order_relaxed) == v) [[likely]]
      return true;
  }
  return false;
}

/// seq_read until it succeeds: for readers holding the shard lock, which only a lock-free
/// writer's few stores can hold up.
template <class Copy>
void seq_read_wait(const std::atomic<std::uint32_t>& version, Copy&& copy) noexcept {
  wait_for_writer([&] { return seq_read(version, copy); });
}

}  // namespace larder::detail
