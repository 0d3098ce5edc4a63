// Entry storage of one shard (larder::detail).
//
// IMPLEMENTATION DETAILS
// Entries live in "slots" addressed by 32-bit indices. Slots are allocated in chunks that double
// in size (64, 128, 256, ... slots), so a slot never moves once constructed (no rehash/realloc
// copies of keys and values, no latency spike when a big shard grows), an empty cache costs
// nothing, and index -> address is two bit operations. Freed slots form a singly linked free list
// through `next`. The key and value are constructed in place in a live slot and destroyed when it
// is freed; the other fields are plain data owned by the shard's structures:
//   prev/next  recency list links (recency_list.h), or the free list link
//   heap_pos   position in the expiry heap (expiry_heap.h), kNil when the entry never expires
//   written    time of the put, for lookup()'s age
//   write_deadline / expires   TTL deadline, and the effective deadline (min with access expiry)
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

namespace larder::detail {

inline constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

template <class K, class V>
struct Slot {
  alignas(K) unsigned char key_buf[sizeof(K)];
  alignas(V) unsigned char value_buf[sizeof(V)];
  std::int64_t written;
  std::int64_t write_deadline;
  std::int64_t expires;
  std::uint32_t prev;
  std::uint32_t next;
  std::uint32_t heap_pos;
  std::uint32_t weight;
  bool live;
  bool tagged;
  bool immortal;  // put with kNoExpiry: exempt from expire_after_access too

  K& key() noexcept { return *std::launder(reinterpret_cast<K*>(key_buf)); }
  const K& key() const noexcept { return *std::launder(reinterpret_cast<const K*>(key_buf)); }
  V& value() noexcept { return *std::launder(reinterpret_cast<V*>(value_buf)); }
  const V& value() const noexcept { return *std::launder(reinterpret_cast<const V*>(value_buf)); }
};

template <class K, class V>
class SlotPool {
 public:
  using SlotT = Slot<K, V>;
  static constexpr std::uint32_t kFirstChunkBits = 6;  // first chunk: 64 slots

  SlotPool() = default;
  SlotPool(const SlotPool&) = delete;
  SlotPool& operator=(const SlotPool&) = delete;
  ~SlotPool() { clear(); }

  SlotT& operator[](std::uint32_t i) noexcept {
    auto [c, off] = locate(i);
    return chunks_[c][off];
  }
  const SlotT& operator[](std::uint32_t i) const noexcept {
    auto [c, off] = locate(i);
    return chunks_[c][off];
  }

  /// Constructs key and value in a free slot and returns its index. Throws std::length_error
  /// when the shard already holds 2^32 - 1 slots, std::bad_alloc when memory runs out; the pool is
  /// unchanged then.
  template <class KK, class VV>
  std::uint32_t allocate(KK&& key, VV&& value) {
    std::uint32_t i = free_head_;
    const bool fresh = i == kNil;
    if (fresh) {
      if (high_water_ == kNil) throw std::length_error("larder: shard full (2^32-1 entries)");
      i = high_water_;
      auto [c, off] = locate(i);
      if (!chunks_[c]) chunks_[c] = std::make_unique<SlotT[]>(chunk_size(c));
    }
    SlotT& s = (*this)[i];
    ::new (static_cast<void*>(s.key_buf)) K(std::forward<KK>(key));
    try {
      ::new (static_cast<void*>(s.value_buf)) V(std::forward<VV>(value));
    } catch (...) {
      s.key().~K();
      throw;
    }
    if (fresh) {
      ++high_water_;
    } else {
      free_head_ = s.next;
    }
    s.live = true;
    s.tagged = false;
    s.immortal = false;
    s.heap_pos = kNil;
    s.prev = s.next = kNil;
    return i;
  }

  /// Destroys the key and value of live slot `i` and puts it on the free list.
  void release(std::uint32_t i) noexcept {
    SlotT& s = (*this)[i];
    s.key().~K();
    s.value().~V();
    s.live = false;
    s.next = free_head_;
    free_head_ = i;
  }

  /// Number of slots ever handed out (live ones are among [0, high_water())).
  std::uint32_t high_water() const noexcept { return high_water_; }

  /// Destroys every live slot and frees all chunks.
  void clear() noexcept {
    for (std::uint32_t i = 0; i < high_water_; ++i) {
      SlotT& s = (*this)[i];
      if (s.live) {
        s.key().~K();
        s.value().~V();
      }
    }
    for (auto& c : chunks_) c.reset();
    high_water_ = 0;
    free_head_ = kNil;
  }

 private:
  static constexpr std::size_t chunk_size(std::uint32_t c) noexcept {
    return std::size_t{1} << (c + kFirstChunkBits);
  }
  // Chunk c holds indices [64 * (2^c - 1), 64 * (2^(c+1) - 1)).
  static std::pair<std::uint32_t, std::size_t> locate(std::uint32_t i) noexcept {
    const std::uint64_t biased = std::uint64_t{i} + (std::uint64_t{1} << kFirstChunkBits);
    const std::uint32_t c =
        static_cast<std::uint32_t>(std::bit_width(biased)) - 1 - kFirstChunkBits;
    return {c, static_cast<std::size_t>(biased - (std::uint64_t{1} << (c + kFirstChunkBits)))};
  }

  std::array<std::unique_ptr<SlotT[]>, 33 - kFirstChunkBits> chunks_{};
  std::uint32_t high_water_ = 0;
  std::uint32_t free_head_ = kNil;
};

}  // namespace larder::detail
