// How often each key was seen lately, approximately (larder::detail): the frequency filter of
// the TinyLFU policy (tiny_lfu.h).
//
// IMPLEMENTATION DETAILS
// A count-min sketch of 4-bit counters (Einziger, Friedman and Manes, "TinyLFU: A Highly
// Efficient Cache Admission Policy", 2017; Caffeine's FrequencySketch is the anchor): a table of
// 64-bit words, 16 counters each. A key's 32-bit hash, mixed with the sketch's seed (one per
// cache instance, so another process's collisions are not this one's), picks 4 counters in 4
// words; increment() raises each that is below 15, frequency() is the least of the 4 (each
// counter counts its key and whatever collides with it, so the least is the closest).
// Aging: after 10 increments per expected key the sketch halves every counter (a shift and a
// mask per word), so what was popular long ago fades and the counters never saturate for good.
// Size: the table is sized for `capacity` keys (ensure_capacity) at 2 to 4 bytes per key (4 to 8
// counters per key: fewer counters than Caffeine's 16, measured on the trace tests to cost
// nothing there, and it keeps the policy's memory per entry small). It is allocated on first
// use (an empty cache costs nothing) and regrown, forgetting its counts, when a cache weighed by
// bytes turns out to hold more entries than it was sized for.
// Not thread-safe: its owner (a shard, under its lock) serializes calls.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "larder/hash.h"

namespace larder::detail {

class FrequencySketch {
 public:
  /// Counters kept per expected key, at least (the table is a power of two of words).
  static constexpr std::size_t kCountersPerKey = 16;
  /// Increments per expected key between two halvings.
  static constexpr std::size_t kSamplePerKey = 10;

  explicit FrequencySketch(std::uint64_t seed) noexcept : seed_(seed | 1) {}

  /// Sizes the table for `capacity` keys (no-op if it already is). Regrowing forgets the counts.
  void ensure_capacity(std::size_t capacity) {
    capacity = std::clamp<std::size_t>(capacity, 16, std::size_t{1} << 30);
    if (capacity <= capacity_) return;
    // Words of 16 counters, kCountersPerKey per key (not rounded to a power of two: a word is
    // picked by multiply-shift, Lemire's "fastrange").
    const std::size_t words = capacity * kCountersPerKey / 16;
    table_ = std::make_unique<std::uint64_t[]>(words);  // (zeroed)
    words_ = words;
    capacity_ = capacity;
    sample_ = capacity * kSamplePerKey;
    additions_ = 0;
  }
  /// Number of keys the table is sized for (0: not allocated yet).
  std::size_t capacity() const noexcept { return capacity_; }
  /// Bytes the table takes.
  std::size_t bytes() const noexcept { return words_ * sizeof(std::uint64_t); }

  /// The estimated number of times `hash` was incremented since it last aged (0..15).
  unsigned frequency(std::uint32_t hash) const noexcept {
    if (!table_) return 0;
    const Spots s = spots(hash);
    unsigned f = 15;
    for (int k = 0; k < 4; ++k) f = std::min(f, counter(s.word[k], s.shift[k]));
    return f;
  }

  /// Counts one occurrence of `hash`. Needs ensure_capacity first.
  void increment(std::uint32_t hash) noexcept {
    const Spots s = spots(hash);
    bool added = false;
    for (int k = 0; k < 4; ++k) {
      if (counter(s.word[k], s.shift[k]) < 15) {
        table_[s.word[k]] += std::uint64_t{1} << s.shift[k];
        added = true;
      }
    }
    if (added && ++additions_ >= sample_) age();
  }

  /// Halves every counter (also run every kSamplePerKey increments per key).
  void age() noexcept {
    for (std::size_t i = 0; i < words_; ++i) table_[i] = (table_[i] >> 1) & 0x7777777777777777ULL;
    additions_ /= 2;
  }

  /// Forgets every count (the table stays).
  void clear() noexcept {
    if (table_) std::fill_n(table_.get(), words_, std::uint64_t{0});
    additions_ = 0;
  }

 private:
  struct Spots {
    std::size_t word[4];
    unsigned shift[4];
  };
  /// The 4 counters of `hash`: words by double hashing, a nibble in each from a second mix.
  Spots spots(std::uint32_t hash) const noexcept {
    const std::uint64_t a = hash_u64(hash, seed_);
    const std::uint64_t b = hash_u64(a, seed_);
    const std::uint64_t step = (a >> 32) | 1;
    Spots s;
    for (int k = 0; k < 4; ++k) {
      s.word[k] = static_cast<std::size_t>(((a + k * step) & 0xffffffffu) * words_ >> 32);
      s.shift[k] = (static_cast<unsigned>(b & 3) * 4 + k) * 4;
    }
    return s;
  }
  unsigned counter(std::size_t word, unsigned shift) const noexcept {
    return static_cast<unsigned>((table_[word] >> shift) & 15);
  }

  std::unique_ptr<std::uint64_t[]> table_;
  std::size_t words_ = 0;
  std::size_t capacity_ = 0;
  std::size_t sample_ = 0;
  std::size_t additions_ = 0;
  const std::uint64_t seed_;
};

}  // namespace larder::detail
