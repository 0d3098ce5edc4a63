// Exact LRU order of one shard's entries (larder::detail).
//
// An intrusive doubly linked list through Slot::prev/next (32-bit indices, no allocation):
// head = most recently used, tail = least recently used, the next to evict. All operations O(1).
#pragma once

#include <cstdint>

#include "larder/detail/slot_pool.h"

namespace larder::detail {

class RecencyList {
 public:
  std::uint32_t head() const noexcept { return head_; }
  std::uint32_t tail() const noexcept { return tail_; }

  template <class Pool>
  void push_front(Pool& pool, std::uint32_t i) noexcept {
    push_front(pool, i, pool[i]);
  }
  /// As above, with `s` = pool[i] already resolved (saves an index -> address step).
  template <class Pool, class Slot>
  void push_front(Pool& pool, std::uint32_t i, Slot& s) noexcept {
    s.prev = kNil;
    s.next = head_;
    if (head_ != kNil) pool[head_].prev = i;
    head_ = i;
    if (tail_ == kNil) tail_ = i;
  }

  template <class Pool>
  void unlink(Pool& pool, std::uint32_t i) noexcept {
    unlink(pool, i, pool[i]);
  }
  template <class Pool, class Slot>
  void unlink(Pool& pool, std::uint32_t /*i*/, Slot& s) noexcept {
    if (s.prev != kNil) {
      pool[s.prev].next = s.next;
    } else {
      head_ = s.next;
    }
    if (s.next != kNil) {
      pool[s.next].prev = s.prev;
    } else {
      tail_ = s.prev;
    }
    s.prev = s.next = kNil;
  }

  template <class Pool>
  void move_to_front(Pool& pool, std::uint32_t i) noexcept {
    if (head_ != i) move_to_front(pool, i, pool[i]);
  }
  template <class Pool, class Slot>
  void move_to_front(Pool& pool, std::uint32_t i, Slot& s) noexcept {
    if (head_ == i) return;
    unlink(pool, i, s);
    push_front(pool, i, s);
  }

  void reset() noexcept { head_ = tail_ = kNil; }

 private:
  std::uint32_t head_ = kNil;
  std::uint32_t tail_ = kNil;
};

}  // namespace larder::detail
