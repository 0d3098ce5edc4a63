// Removed slots and replaced index tables waiting until no lock-free reader can see them
// (larder::detail).
//
// IMPLEMENTATION DETAILS
// A lock-free reader (epoch.h's ReadSection) may be copying a slot the shard has just removed,
// or probing an index table it has just replaced. Such things are "retired": kept intact, queued
// here with the epoch they were retired at, and freed once the epoch has advanced twice since
// (epoch.h: no reader that could have seen them is still inside its section).
// Retired slots wait in a FIFO threaded through their Link::next (a removed slot's links are no
// longer used by any order); Link::prev holds the low 32 bits of the retirement epoch (epochs
// retired together are freed together, and two advances never span 2^32). Retired tables wait on
// a list of their own, through fields in the table. All of it is the shard's: every member runs
// under the shard lock, and takes the pool, which only the lock holder can name.
// After kAdvanceEvery retirements (or while a table waits) free() tries to advance the epoch, so
// a shard holds at most about 2 * kAdvanceEvery retired slots when no reader lingers.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "larder/detail/concurrent_index.h"
#include "larder/detail/epoch.h"
#include "larder/detail/slot_pool.h"

namespace larder::detail {

class Limbo {
 public:
  Limbo() = default;
  Limbo(const Limbo&) = delete;
  Limbo& operator=(const Limbo&) = delete;
  /// Frees tables still waiting (slots are the pool's: free(pool, true) first).
  ~Limbo() { free_tables(/*all=*/true, 0); }

  /// Retires slot `i`, already out of the index and every order: marks it retired (a lock-free
  /// put holding the slot's version reads that) and queues it.
  template <class Pool>
  void retire(Pool& pool, std::uint32_t i) noexcept {
    std::atomic_ref<std::uint8_t>(pool[i].state).store(kRetired, std::memory_order_release);
    Link& l = pool.link(i);
    l.prev = static_cast<std::uint32_t>(current_epoch());
    l.next = kNil;
    ++since_advance_;
    if (tail_ == kNil) {
      head_ = i;
    } else {
      pool.link(tail_).next = i;
    }
    tail_ = i;
  }
  /// Retires an index table replaced by a grown one.
  void retire(ConcurrentIndex::Table* t) noexcept {
    t->retired_epoch = current_epoch();
    t->retired_next = tables_;
    tables_ = t;
  }
  /// Whether anything waits.
  bool pending() const noexcept { return head_ != kNil || tables_ != nullptr; }
  /// Frees what no reader can see any more, trying to advance the epoch when due (all: frees
  /// everything; no reader may exist).
  template <class Pool>
  void free(Pool& pool, bool all) {
    std::uint64_t e = current_epoch();
    if (!all &&
        (since_advance_ >= kAdvanceEvery || (tables_ && !reclaimable(tables_->retired_epoch, e)))) {
      since_advance_ = 0;
      e = try_advance_epoch();
    }
    const auto epoch32 = static_cast<std::uint32_t>(e);
    while (head_ != kNil && (all || epoch32 - pool.link(head_).prev >= 2)) {
      const std::uint32_t i = head_;
      head_ = pool.link(i).next;
      pool.release(i);
    }
    if (head_ == kNil) tail_ = kNil;
    free_tables(all, e);
  }

 private:
  void free_tables(bool all, std::uint64_t e) noexcept {
    for (ConcurrentIndex::Table** link = &tables_; *link;) {
      ConcurrentIndex::Table* t = *link;
      if (all || reclaimable(t->retired_epoch, e)) {
        *link = t->retired_next;
        delete t;
      } else {
        link = &t->retired_next;
      }
    }
  }

  std::uint32_t head_ = kNil;  // oldest retired slot
  std::uint32_t tail_ = kNil;  // newest retired slot
  std::size_t since_advance_ = 0;
  ConcurrentIndex::Table* tables_ = nullptr;
};

}  // namespace larder::detail
