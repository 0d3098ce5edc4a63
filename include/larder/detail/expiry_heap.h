// Expiry index of one shard (larder::detail).
//
// An indexed binary min-heap of (deadline, slot) pairs: the entry that expires first is on top,
// so reclaiming expired entries never scans the shard — pop while top.deadline <= now. Each slot
// remembers its heap position (Link::heap_pos, slot_pool.h), so a slot's deadline can be changed
// (put, access expiry) or the slot removed in O(log n) without leaving tombstones: the heap holds
// exactly one node per expiring entry, never more (bounded bookkeeping, whatever the write
// pattern). Entries that never expire are not in it. Nodes carry their deadline so sifting touches
// only the heap's own contiguous array, not the slots.
#pragma once

#include <cstdint>
#include <vector>

#include "larder/detail/slot_pool.h"

namespace larder::detail {

class ExpiryHeap {
 public:
  /// 12 bytes, not 16: packed to 4-byte alignment (x86 and ARM64 load the deadline unaligned
  /// at no extra cost), one heap node per expiring entry.
  struct [[gnu::packed, gnu::aligned(4)]] Node {
    std::int64_t deadline;
    std::uint32_t slot;
  };
  static_assert(sizeof(Node) == 12);

  bool empty() const noexcept { return nodes_.empty(); }
  std::size_t size() const noexcept { return nodes_.size(); }
  const Node& top() const noexcept { return nodes_.front(); }

  /// Inserts slot `i` (not in the heap) with `deadline`, or updates its deadline if present.
  template <class Pool>
  void set(Pool& pool, std::uint32_t i, std::int64_t deadline) {
    std::uint32_t pos = pool.link(i).heap_pos;
    if (pos == kNil) {
      nodes_.push_back({deadline, i});
      pos = static_cast<std::uint32_t>(nodes_.size() - 1);
      pool.link(i).heap_pos = pos;
      sift_up(pool, pos);
      return;
    }
    const std::int64_t old = nodes_[pos].deadline;
    nodes_[pos].deadline = deadline;
    if (deadline < old) {
      sift_up(pool, pos);
    } else {
      sift_down(pool, pos);
    }
  }

  /// Removes slot `i` if it is in the heap.
  template <class Pool>
  void remove(Pool& pool, std::uint32_t i) noexcept {
    const std::uint32_t pos = pool.link(i).heap_pos;
    if (pos == kNil) return;
    pool.link(i).heap_pos = kNil;
    const std::uint32_t last = static_cast<std::uint32_t>(nodes_.size() - 1);
    if (pos != last) {
      const std::uint32_t moved = nodes_[last].slot;
      place(pool, pos, nodes_[last]);
      nodes_.pop_back();
      sift_up(pool, pos);
      sift_down(pool, pool.link(moved).heap_pos);
    } else {
      nodes_.pop_back();
    }
  }

  void reset() noexcept { nodes_.clear(); }

 private:
  template <class Pool>
  void place(Pool& pool, std::uint32_t pos, const Node& n) noexcept {
    nodes_[pos] = n;
    pool.link(n.slot).heap_pos = pos;
  }
  template <class Pool>
  void sift_up(Pool& pool, std::uint32_t pos) noexcept {
    const Node n = nodes_[pos];
    while (pos > 0) {
      const std::uint32_t parent = (pos - 1) / 2;
      if (nodes_[parent].deadline <= n.deadline) break;
      place(pool, pos, nodes_[parent]);
      pos = parent;
    }
    place(pool, pos, n);
  }
  template <class Pool>
  void sift_down(Pool& pool, std::uint32_t pos) noexcept {
    const std::uint32_t size = static_cast<std::uint32_t>(nodes_.size());
    const Node n = nodes_[pos];
    for (;;) {
      std::uint32_t child = 2 * pos + 1;
      if (child >= size) break;
      if (child + 1 < size && nodes_[child + 1].deadline < nodes_[child].deadline) ++child;
      if (n.deadline <= nodes_[child].deadline) break;
      place(pool, pos, nodes_[child]);
      pos = child;
    }
    place(pool, pos, n);
  }

  std::vector<Node> nodes_;
};

}  // namespace larder::detail
