// Exact LRU order of one shard's entries (larder::detail).
//
// An intrusive doubly linked list through the slots' Link::prev/next (slot_pool.h; 32-bit
// indices, no allocation):
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
    auto& l = pool.link(i);
    l.prev = kNil;
    l.next = head_;
    if (head_ != kNil) pool.link(head_).prev = i;
    head_ = i;
    if (tail_ == kNil) tail_ = i;
  }

  template <class Pool>
  void unlink(Pool& pool, std::uint32_t i) noexcept {
    auto& l = pool.link(i);
    if (l.prev != kNil) {
      pool.link(l.prev).next = l.next;
    } else {
      head_ = l.next;
    }
    if (l.next != kNil) {
      pool.link(l.next).prev = l.prev;
    } else {
      tail_ = l.prev;
    }
    l.prev = l.next = kNil;
  }

  /// Moves `i`, which must be in the list, to the front. (The LRU replay runs this once per
  /// buffered hit, so it is one splice: `i` is not the head, hence has a predecessor, and the
  /// list is not empty, hence has a head to link behind `i`.)
  template <class Pool>
  void move_to_front(Pool& pool, std::uint32_t i) noexcept {
    if (head_ == i) return;
    auto& l = pool.link(i);
    const std::uint32_t prev = l.prev, next = l.next;
    pool.link(prev).next = next;
    if (next != kNil) {
      pool.link(next).prev = prev;
    } else {
      tail_ = prev;
    }
    l.prev = kNil;
    l.next = head_;
    pool.link(head_).prev = i;
    head_ = i;
  }

  void reset() noexcept { head_ = tail_ = kNil; }

 private:
  std::uint32_t head_ = kNil;
  std::uint32_t tail_ = kNil;
};

}  // namespace larder::detail
