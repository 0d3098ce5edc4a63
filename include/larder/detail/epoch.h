// Epoch-based reclamation for the lock-free read path (larder::detail).
//
// IMPLEMENTATION DETAILS
// Readers (get, lookup, peek, contains) search a shard's index and copy a value without taking
// the shard lock. A writer that unlinks something a reader may be looking at (a slot, an old
// index table) does not free it at once: it "retires" it with the current global epoch and frees
// it once the epoch has advanced twice. The epoch advances only when every thread inside a read
// section entered it at the current epoch, so two advances prove that every reader that could
// have seen the retired object has left (Fraser, "Practical lock-freedom", 2004).
//
// A reader's cost: one exchange on entry and one release store on exit, both on its own
// thread's record (a cache line no other thread writes). Nothing a reader does writes a shared
// line.
//
// Ordering. The scan that advances the epoch must see every reader that could still hold an
// unlinked object: a reader's entry must not be reordered after its index loads (store-load
// order, which x86 and ARM both relax). The entry is a seq_cst exchange, the index loads are
// seq_cst, and a writer's unlinking store is seq_cst and precedes its seq_cst reads of the epoch
// and the records: in the single total order of seq_cst operations, a reader that still sees an
// unlinked object published its entry before the unlink, so the scan sees it. Happens-before for
// the sanitizers comes from release stores of `active` read by the scan's loads; there are no
// fences (ThreadSanitizer does not model them). Linux membarrier() would let readers enter with a
// plain store, but one call took 16.5 us on this project's 2-vCPU VM with a second thread
// running, and advancing every few dozen retirements made updates several times slower.
//
// Thread records are allocated on a thread's first read section, kept on a lock-free list for the
// life of the process, and reused by later threads once their owner exits.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace larder::detail {

struct alignas(64) EpochRecord {
  std::atomic<std::uint64_t> active{0};  // 0: outside a read section; else the epoch at entry
  std::atomic<bool> in_use{false};       // owned by a live thread
  std::uint32_t id = 0;                  // dense: 0, 1, 2, ... in creation order
  EpochRecord* next = nullptr;           // the process-wide list; immutable once published
};

/// The process-wide epoch (starts at 2 so that `retired + 2 <= epoch` needs no underflow guard).
inline std::atomic<std::uint64_t> g_epoch{2};
/// The calling thread's record, or null before its first read section.
inline thread_local EpochRecord* t_epoch_record = nullptr;
/// The id of the calling thread's record (set with it): picks the thread's stripe in striped
/// structures, so threads alive at the same time use different stripes.
inline thread_local std::uint32_t t_thread_id = 0;

/// Gives the calling thread a record (reusing one whose thread exited) and arranges for its
/// release at thread exit. Throws std::bad_alloc.
EpochRecord* register_epoch_thread();

/// Advances the global epoch by one if every thread in a read section entered it at the current
/// epoch; returns the epoch after the attempt. O(threads that ever read).
std::uint64_t try_advance_epoch() noexcept;

/// The current global epoch (what a writer stamps on what it retires, after unlinking it).
inline std::uint64_t current_epoch() noexcept { return g_epoch.load(std::memory_order_seq_cst); }

/// A shard tries to advance the epoch after retiring this many slots (or while a retired index
/// table waits). In one thread with no reader inside a section, every attempt advances, so a
/// shard holds at most 2 * kAdvanceEvery retired slots: the batch retired since the last
/// attempt and the one before it, which needs one more advance.
inline constexpr std::size_t kAdvanceEvery = 32;

/// Whether something retired at `retired` can be freed now.
inline bool reclaimable(std::uint64_t retired, std::uint64_t epoch) noexcept {
  return retired + 2 <= epoch;
}

/// RAII read section: while one is open on a thread, nothing it reached through a shard index is
/// freed. Sections nest: an inner one finds its thread's record active already (the epoch is
/// never 0) and leaves it to the outermost, so nesting costs no counter in the record.
class ReadSection {
 public:
  ReadSection() : rec_(t_epoch_record ? t_epoch_record : register_epoch_thread()) {
    outer_ = rec_->active.load(std::memory_order_relaxed) == 0;
    if (outer_) [[likely]] {  // (nesting is rare: laid out of line, not the exchange)
      rec_->active.exchange(g_epoch.load(std::memory_order_relaxed), std::memory_order_seq_cst);
    }
  }
  ~ReadSection() {
    if (outer_) [[likely]]
      rec_->active.store(0, std::memory_order_release);
  }
  ReadSection(const ReadSection&) = delete;
  ReadSection& operator=(const ReadSection&) = delete;

 private:
  EpochRecord* rec_;
  bool outer_;
};

}  // namespace larder::detail
