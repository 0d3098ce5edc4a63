// A shard's key index, readable without the shard lock (larder::detail).
//
// IMPLEMENTATION DETAILS
// Open addressing with linear probing over 64-bit cells: the high 32 bits hold the low 32 bits of
// the key's hash (a tag; the shard is chosen from the high bits, so these are independent), the
// low 32 bits hold slot + 1. A cell is empty (0), a tombstone (kTomb: tag 1, slot field 0) or an
// entry. The tag filters almost every probe that is not the key, so a lookup touches one slot.
//
// Writers hold the shard lock; readers hold an epoch ReadSection (epoch.h) and only load:
//   * an insert fills the first tombstone or empty cell of its probe sequence (one store);
//   * a replace swaps the slot of the key's cell (one store): a reader sees the old slot or the
//     new one, both intact until the old one is reclaimed;
//   * a remove stores a tombstone, or empty when the next cell is empty (no probe sequence passes
//     through it then), so tombstones do not pile up under steady insert/remove churn;
//   * growth (or a purge of tombstones) builds a new table and publishes its pointer; the old
//     table is handed back to the shard to retire. Entries never move inside a published table,
//     so a reader never misses a key that stays present.
// At most 5/8 of the cells are entries or tombstones, so every probe sequence ends at an empty
// cell and a miss probes about 4 cells on average (linear probing degrades fast above that: at
// 7/8 a miss probed ~32); a rebuild sizes the table to keep entries at or below 5/16, so growth
// doubles the table and entries fill 5/16 to 5/8 of it.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "larder/detail/slot_pool.h"

namespace larder::detail {

class ConcurrentIndex {
 public:
  /// A table of cells: a one-line header, then the cells in the same allocation (a reader goes
  /// from the table's address to a cell's with no load between). Create with `new (Cells{n})
  /// Table(n)` (n a power of two); `delete` frees it.
  struct alignas(64) Table {
    struct Cells {
      std::size_t n;
    };
    explicit Table(std::size_t n) noexcept : mask(n - 1) {
      for (std::size_t i = 0; i < n; ++i) ::new (cells() + i) std::atomic<std::uint64_t>(0);
    }
    std::atomic<std::uint64_t>* cells() noexcept {
      return reinterpret_cast<std::atomic<std::uint64_t>*>(this + 1);
    }
    const std::atomic<std::uint64_t>* cells() const noexcept {
      return reinterpret_cast<const std::atomic<std::uint64_t>*>(this + 1);
    }
    static void* operator new(std::size_t header, Cells c) {
      return ::operator new (header + c.n * sizeof(std::atomic<std::uint64_t>),
                             std::align_val_t{alignof(Table)});
    }
    static void operator delete(void* p, Cells) noexcept { operator delete(p); }
    static void operator delete(void* p) noexcept {  // (the cells are trivially destructible)
      ::operator delete (p, std::align_val_t{alignof(Table)});
    }

    std::size_t mask;
    Table* retired_next = nullptr;  // the owner's list of retired tables
    std::uint64_t retired_epoch = 0;
  };
  static_assert(std::is_trivially_destructible_v<std::atomic<std::uint64_t>>);

  ConcurrentIndex() : table_(make_table(kMinCells)) {}
  ~ConcurrentIndex() { delete table_.load(std::memory_order_relaxed); }
  ConcurrentIndex(const ConcurrentIndex&) = delete;
  ConcurrentIndex& operator=(const ConcurrentIndex&) = delete;

  /// The slot whose key matches, or kNil. `match(slot)` compares the key. Safe without the lock
  /// inside a ReadSection (the table and slots it reaches stay allocated).
  template <class Match>
  [[gnu::always_inline]] std::uint32_t find(std::uint32_t h, Match&& match) const {
    const Table* t = table_.load(std::memory_order_seq_cst);
    for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
      const std::uint64_t c = t->cells()[i].load(std::memory_order_seq_cst);
      if (c == 0) return kNil;
      if (static_cast<std::uint32_t>(c >> 32) == h) {
        const std::uint32_t s = static_cast<std::uint32_t>(c);
        if (s != 0 && match(s - 1)) return s - 1;
      }
    }
  }

  // ---- writers (shard lock held) ----

  /// Adds `slot` for a key that is absent. Returns the table it replaced (to retire) when the
  /// index had to be rebuilt, else null. Throws std::bad_alloc (index unchanged).
  [[nodiscard]] Table* insert(std::uint32_t h, std::uint32_t slot) {
    Table* t = table_.load(std::memory_order_relaxed);
    Table* old = nullptr;
    if (used_ + tombs_ + 1 > (t->mask + 1) / 8 * 5) {
      old = rebuild(used_);  // (not + 1: growth doubles the table, not quadruples it)
      t = table_.load(std::memory_order_relaxed);
    }
    for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
      const std::uint64_t c = t->cells()[i].load(std::memory_order_relaxed);
      if (c == 0 || c == kTomb) {
        if (c == kTomb) --tombs_;
        t->cells()[i].store(cell(h, slot), std::memory_order_seq_cst);
        ++used_;
        inserts_.store(inserts_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        return old;
      }
    }
  }

  /// Starts loading the cell where a probe for hash h begins.
  void prefetch(std::uint32_t h) const noexcept {
    const Table* t = table_.load(std::memory_order_relaxed);
    __builtin_prefetch(&t->cells()[h & t->mask]);
  }

  /// Points the cell of `from` (hash h) at slot `to`.
  void replace(std::uint32_t h, std::uint32_t from, std::uint32_t to) noexcept {
    Table* t = table_.load(std::memory_order_relaxed);
    t->cells()[position(t, h, from)].store(cell(h, to), std::memory_order_seq_cst);
  }

  /// Removes the cell of `slot` (hash h).
  void erase(std::uint32_t h, std::uint32_t slot) noexcept {
    Table* t = table_.load(std::memory_order_relaxed);
    const std::size_t i = position(t, h, slot);
    if (t->cells()[(i + 1) & t->mask].load(std::memory_order_relaxed) == 0) {
      t->cells()[i].store(0, std::memory_order_seq_cst);
    } else {
      t->cells()[i].store(kTomb, std::memory_order_seq_cst);
      ++tombs_;
    }
    --used_;
  }

  /// Empties the index: publishes a fresh minimal table and returns the old one (to retire).
  [[nodiscard]] Table* reset() {
    Table* fresh = make_table(kMinCells);
    used_ = tombs_ = 0;
    return table_.exchange(fresh, std::memory_order_seq_cst);
  }

  std::size_t size() const noexcept { return used_; }
  /// Cells in the current table (shard lock held).
  std::size_t capacity() const noexcept { return table_.load(std::memory_order_relaxed)->mask + 1; }
  /// How many inserts the index has had. A key a reader did not find after it read this count
  /// is still absent while the count stays the same (an insert stores its cell, then counts).
  std::uint64_t inserts() const noexcept { return inserts_.load(std::memory_order_acquire); }

 private:
  static constexpr std::size_t kMinCells = 16;
  static constexpr std::uint64_t kTomb = std::uint64_t{1} << 32;

  static Table* make_table(std::size_t n) { return new (Table::Cells{n}) Table(n); }
  static std::uint64_t cell(std::uint32_t h, std::uint32_t slot) noexcept {
    return (std::uint64_t{h} << 32) | (std::uint64_t{slot} + 1);
  }
  static std::size_t position(const Table* t, std::uint32_t h, std::uint32_t slot) noexcept {
    const std::uint64_t want = cell(h, slot);
    std::size_t i = h & t->mask;
    while (t->cells()[i].load(std::memory_order_relaxed) != want) i = (i + 1) & t->mask;
    return i;
  }

  /// Rebuilds into a table that holds `entries` at no more than 5/16 load; returns the old one.
  Table* rebuild(std::size_t entries) {
    Table* old = table_.load(std::memory_order_relaxed);
    std::size_t n = kMinCells;
    while (entries * 16 > n * 5) n *= 2;
    std::unique_ptr<Table> fresh(make_table(n));
    for (std::size_t i = 0; i <= old->mask; ++i) {
      const std::uint64_t c = old->cells()[i].load(std::memory_order_relaxed);
      if (c == 0 || c == kTomb) continue;
      std::size_t j = static_cast<std::uint32_t>(c >> 32) & fresh->mask;
      while (fresh->cells()[j].load(std::memory_order_relaxed) != 0) j = (j + 1) & fresh->mask;
      fresh->cells()[j].store(c, std::memory_order_relaxed);
    }
    tombs_ = 0;
    table_.store(fresh.release(), std::memory_order_seq_cst);  // publishes the filled cells
    return old;
  }

  std::atomic<Table*> table_;
  std::size_t used_ = 0;
  std::size_t tombs_ = 0;
  std::atomic<std::uint64_t> inserts_{0};  // written under the shard lock
};

}  // namespace larder::detail
