// Entry storage of one shard (larder::detail).
//
// IMPLEMENTATION DETAILS
// Entries live in "slots" addressed by 32-bit indices. Slots are allocated in chunks of 256, so a
// slot never moves once constructed (no rehash/realloc copies of keys and values, no latency
// spike when a big shard grows), an empty cache costs nothing, and index -> address is a shift,
// a mask and two loads: directory[i >> 8][i & 255]. The directory of chunk pointers doubles when
// full; the new one is published with one atomic store, and old directories are kept (they are
// small: all of them together are at most the size of the current one), so a reader without the
// shard lock may use whichever it loaded. Chunks are freed only by clear() (the destructor), so
// readers without the shard lock can always dereference an index they found.
// Freed slots form a singly linked free list through `next`. The key and value are constructed in
// place in a live slot and destroyed when it is freed; the other fields are plain data owned by the
// shard's structures:
//   state      free, live, or retired: removed from the index but kept intact (key and value
//              included) until no lock-free reader can still be looking at it (epoch.h)
//   written    time of the put, for lookup()'s age
//   write_deadline  TTL deadline (kNever: none): what lock-free readers check
//   version    even, odd while the value and times are rewritten in place (kInPlace<V> only,
//              seqlock.h); readers of such slots copy them under it
//   framed     the value bytes hold a compressed frame (a std::string, compression.h) instead of
//              a V; only possible when kFrameStorage<V>, whose slots are sized for either.
//   seen       in a coarse-recency shard (recency_list.h), the tick of the entry's last access:
//              what a hit writes, and only when the tick has moved since (so a hot entry's hits
//              write nothing); the one field a lock-free reader stores to
// What writers change all the time lives beside the slots, in a parallel array of Links, so that
// an LRU splice or a heap sift never writes a line that lock-free readers of other entries read:
//   prev/next  recency list links (recency_list.h), the free list link, or (retired) the limbo
//              queue link and retirement epoch
//   heap_pos   position in the expiry heap (expiry_heap.h), kNil when the entry never expires
// Two more per-slot fields exist only in caches that need them (Extras), in arrays of their own
// allocated with each chunk, so that the common cache pays no byte for them:
//   access_deadline  the effective deadline, min(write_deadline, last access + access TTL), for
//              caches with expire_after_access (their reads take the lock: it moves on every hit)
//   weight     what the entry counts against max_bytes, when entries can weigh differently (a
//              weigher, sized keys or values, compression); else every entry weighs the same.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "larder/codec.h"
#include "larder/detail/entry_time.h"

namespace larder::detail {

/// Whether entries of V may be stored compressed (as a frame in the value's place): byte-like
/// values, and values with a codec that are not small trivially copyable ones (those could never
/// reach a compression threshold; their slots stay exactly as small as V).
template <class V>
inline constexpr bool kFrameStorage = kByteLike<V> ||
                                      (Encodable<V> && !(std::is_trivially_copyable_v<V> &&
                                                         sizeof(V) <= sizeof(std::string)));

/// Whether a put over a live entry of V may overwrite it in place (seqlock.h): the value is a
/// few plain bytes, copied word by word under the slot's version.
template <class V>
inline constexpr bool kInPlace = std::is_trivially_copyable_v<V> && !kFrameStorage<V>;

template <class V>
inline constexpr std::size_t kValueSize = kFrameStorage<V>
                                              ? std::max(sizeof(V), sizeof(std::string))
                                              : sizeof(V);
template <class V>
inline constexpr std::size_t kValueAlign = kFrameStorage<V>
                                               ? std::max(alignof(V), alignof(std::string))
                                               : alignof(V);

inline constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();
/// Indices from here up are never slots: the recency list's tick markers use them
/// (recency_list.h).
inline constexpr std::uint32_t kMarkerBase = kNil - 16;

/// Slot states.
inline constexpr std::uint8_t kFree = 0, kLive = 1, kRetired = 2;

template <class K, class V>
struct Slot {
  alignas(K) unsigned char key_buf[sizeof(K)];
  alignas(kValueAlign<V>) unsigned char value_buf[kValueSize<V>];
  std::int64_t written;
  std::int64_t write_deadline;            // kNever: no TTL
  std::atomic<std::uint32_t> version{0};  // seqlock.h (kInPlace<V> only; stays 0 otherwise)
  std::uint8_t state;  // kFree, kLive, kRetired (removed, key and value kept for readers)
  // (Set before the slot is published, never changed while it is: one byte for both.)
  bool tagged : 1;
  bool immortal : 1;  // put with kNoExpiry: exempt from expire_after_access too
  bool framed;        // value_buf holds a std::string frame, not a V (kFrameStorage<V> only)
  // Tick of the last access (coarse recency_list.h only); readers store it through const slots.
  mutable std::atomic<std::uint8_t> seen{0};

  K& key() noexcept { return *std::launder(reinterpret_cast<K*>(key_buf)); }
  const K& key() const noexcept { return *std::launder(reinterpret_cast<const K*>(key_buf)); }
  V& value() noexcept { return *std::launder(reinterpret_cast<V*>(value_buf)); }
  const V& value() const noexcept { return *std::launder(reinterpret_cast<const V*>(value_buf)); }
  std::string& frame() noexcept { return *std::launder(reinterpret_cast<std::string*>(value_buf)); }
  const std::string& frame() const noexcept {
    return *std::launder(reinterpret_cast<const std::string*>(value_buf));
  }

  /// Constructs the value part: a V, or (framed) a frame.
  void construct_value(V&& v) { ::new (static_cast<void*>(value_buf)) V(std::move(v)); }
  void construct_frame(std::string&& f) {
    static_assert(kFrameStorage<V>);
    ::new (static_cast<void*>(value_buf)) std::string(std::move(f));
  }
  void destroy_value() noexcept {
    if constexpr (kFrameStorage<V>) {
      if (framed) {
        frame().~basic_string();
        return;
      }
    }
    value().~V();
  }
};

/// Writer-only bookkeeping of a slot (see the file comment).
struct Link {
  std::uint32_t prev;
  std::uint32_t next;
  std::uint32_t heap_pos;
};

/// Which optional per-slot arrays a pool keeps (see the file comment).
struct Extras {
  bool access_deadlines = false;
  bool weights = false;
};

struct NoFrame {};

/// What a put stores: the value itself, or its compressed frame.
template <class V>
struct Payload {
  std::optional<V> value;  // set: store as is
  // else: store this frame. An empty type when V can never be framed (nothing to build or free).
  [[no_unique_address]] std::conditional_t<kFrameStorage<V>, std::string, NoFrame> frame;

  bool framed() const noexcept { return !value.has_value(); }
  /// Constructs this payload into slot `s` (which must have no value part yet).
  template <class SlotT>
  void construct_into(SlotT& s) {
    if (value) {
      s.construct_value(std::move(*value));
      s.framed = false;
    } else {
      if constexpr (kFrameStorage<V>) {
        s.construct_frame(std::move(frame));
      }
      s.framed = true;
    }
  }
};

template <class K, class V>
class SlotPool {
 public:
  using SlotT = Slot<K, V>;
  static constexpr std::uint32_t kChunkBits = 8;  // 256 slots per chunk
  static constexpr std::uint32_t kChunk = 1u << kChunkBits;
  static constexpr std::uint32_t kMask = kChunk - 1;

  explicit SlotPool(Extras extras = {}) noexcept : extras_(extras) {}
  SlotPool(const SlotPool&) = delete;
  SlotPool& operator=(const SlotPool&) = delete;
  ~SlotPool() { clear(); }

  /// Slot `i` (< high_water()), shard lock held.
  SlotT& operator[](std::uint32_t i) noexcept { return wdir_[i >> kChunkBits]->slots[i & kMask]; }
  const SlotT& operator[](std::uint32_t i) const noexcept {
    return wdir_[i >> kChunkBits]->slots[i & kMask];
  }
  /// Slot `i` for a reader without the shard lock, for an index found through the shard's
  /// index: the chunk was linked into the directory before the index was published. Acquire:
  /// pairs with the release store that published a new directory, so its entries (copied and
  /// appended before it) are visible with it (a plain load on x86 and ARMv8's LDAPR).
  const SlotT& unlocked(std::uint32_t i) const noexcept {
    return dir_.load(std::memory_order_acquire)[i >> kChunkBits]->slots[i & kMask];
  }
  /// The writer-only links of slot `i` (shard lock held).
  Link& link(std::uint32_t i) noexcept { return wdir_[i >> kChunkBits]->links[i & kMask]; }
  /// Slot `i`'s effective deadline (shard lock held; only when Extras::access_deadlines).
  std::int64_t& access_deadline(std::uint32_t i) noexcept {
    return wdir_[i >> kChunkBits]->access_deadlines[i & kMask];
  }
  /// Slot `i`'s weight (shard lock held; only when Extras::weights).
  std::uint32_t& weight(std::uint32_t i) noexcept {
    return wdir_[i >> kChunkBits]->weights[i & kMask];
  }
  const Extras& extras() const noexcept { return extras_; }

  /// Constructs the key and the payload (value or frame) in a free slot; returns its index.
  /// Throws std::length_error when the shard already holds 2^32 - 1 slots, std::bad_alloc when
  /// memory runs out; the pool is unchanged then.
  template <class KK>
  std::uint32_t allocate(KK&& key, Payload<V>&& payload) {
    std::uint32_t i = free_head_;
    const bool fresh = i == kNil;
    if (fresh) {
      if (high_water_ == kMarkerBase)
        throw std::length_error("larder: shard full (2^32-17 entries)");
      i = high_water_;
      if ((i & kMask) == 0) add_chunk();
    }
    SlotT& s = (*this)[i];
    ::new (static_cast<void*>(s.key_buf)) K(std::forward<KK>(key));
    try {
      payload.construct_into(s);
    } catch (...) {
      s.key().~K();
      throw;
    }
    if (fresh) {
      ++high_water_;
    } else {
      free_head_ = link(i).next;
    }
    s.state = kLive;
    s.tagged = false;
    s.immortal = false;
    link(i) = Link{kNil, kNil, kNil};
    return i;
  }

  /// Destroys the key and value of (live or retired) slot `i` and puts it on the free list.
  void release(std::uint32_t i) noexcept {
    SlotT& s = (*this)[i];
    s.key().~K();
    s.destroy_value();
    s.state = kFree;
    link(i).next = free_head_;
    free_head_ = i;
  }

  /// Number of slots ever handed out (live ones are among [0, high_water())).
  /// Only grows until clear(): a slot index once handed out stays addressable.
  std::uint32_t high_water() const noexcept { return high_water_; }

  /// Destroys every live or retired slot and frees all chunks. No reader may be running.
  void clear() noexcept {
    for (std::uint32_t i = 0; i < high_water_; ++i) {
      SlotT& s = (*this)[i];
      if (s.state != kFree) {
        s.key().~K();
        s.destroy_value();
      }
    }
    chunks_.clear();
    dirs_.clear();
    dir_.store(nullptr, std::memory_order_relaxed);
    wdir_ = nullptr;
    dir_capacity_ = 0;
    high_water_ = 0;
    free_head_ = kNil;
  }

 private:
  struct Chunk {
    SlotT slots[kChunk];
    Link links[kChunk];
    std::unique_ptr<std::int64_t[]> access_deadlines;  // Extras::access_deadlines only
    std::unique_ptr<std::uint32_t[]> weights;          // Extras::weights only
  };

  /// Allocates the chunk for index high_water_ (a multiple of kChunk), growing the directory
  /// if it is full. Strong guarantee.
  void add_chunk() {
    const std::size_t c = high_water_ >> kChunkBits;
    chunks_.reserve(c + 1);
    auto fresh = std::make_unique<Chunk>();
    if (extras_.access_deadlines) fresh->access_deadlines.reset(new std::int64_t[kChunk]);
    if (extras_.weights) fresh->weights.reset(new std::uint32_t[kChunk]);
    if (c == dir_capacity_) {
      const std::size_t cap = std::max<std::size_t>(4, 2 * dir_capacity_);
      auto dir = std::make_unique<Chunk*[]>(cap);
      for (std::size_t k = 0; k < c; ++k) dir[k] = chunks_[k].get();
      dirs_.reserve(dirs_.size() + 1);
      dir[c] = fresh.get();
      dir_.store(dir.get(), std::memory_order_release);
      wdir_ = dir.get();
      dirs_.push_back(std::move(dir));
      dir_capacity_ = cap;
    } else {
      wdir_[c] = fresh.get();
    }
    chunks_.push_back(std::move(fresh));
  }

  Extras extras_;
  std::atomic<Chunk**> dir_{nullptr};            // the current directory
  Chunk** wdir_ = nullptr;                       // the same, for writers (lets loads combine)
  std::vector<std::unique_ptr<Chunk>> chunks_;   // owns the chunks
  std::vector<std::unique_ptr<Chunk*[]>> dirs_;  // every directory (readers may hold old ones)
  std::size_t dir_capacity_ = 0;
  std::uint32_t high_water_ = 0;
  std::uint32_t free_head_ = kNil;
};

}  // namespace larder::detail
