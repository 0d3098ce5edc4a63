// A simulated cache of keys only (larder::detail): one of a WindowTuner's miniature simulations.
//
// IMPLEMENTATION DETAILS
// The same TinyLfu policy as a real shard's (tiny_lfu.h), at a fixed window share, over a pool
// of its own that holds nothing but each key's link, list byte and weight: it answers "would
// this access have hit?" for a cache of `capacity` units, and remembers no values. Keys are the
// tuner's sampled 64-bit hashes; an absl::flat_hash_map finds their nodes. Not thread-safe (the
// tuner's lock serializes it).
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "larder/detail/slot_pool.h"
#include "larder/detail/tiny_lfu.h"

namespace larder::detail {

/// The node storage a ShadowCache's TinyLfu runs over: the members of a SlotPool it uses.
class ShadowPool {
 public:
  /// A node's list byte, with the interface of Slot::seen.
  struct Seen {
    std::uint8_t v = 0;
    std::uint8_t load(std::memory_order) const noexcept { return v; }
    void store(std::uint8_t x, std::memory_order) noexcept { v = x; }
  };
  struct Node {
    Seen seen;
    std::uint8_t state = kFree;
  };

  explicit ShadowPool(bool weights) noexcept
      : extras_{.access_deadlines = false, .weights = weights} {}

  Node& operator[](std::uint32_t i) noexcept { return nodes_[i]; }
  Link& link(std::uint32_t i) noexcept { return links_[i]; }
  std::uint32_t& weight(std::uint32_t i) noexcept { return weights_[i]; }
  const Extras& extras() const noexcept { return extras_; }
  std::uint32_t high_water() const noexcept { return static_cast<std::uint32_t>(nodes_.size()); }
  std::uint64_t key(std::uint32_t i) const noexcept { return keys_[i]; }

  std::uint32_t allocate(std::uint64_t key, std::uint32_t weight) {
    std::uint32_t i;
    if (free_ != kNil) {
      i = free_;
      free_ = links_[i].next;
    } else {
      i = high_water();
      nodes_.emplace_back();
      links_.emplace_back();
      keys_.emplace_back();
      weights_.emplace_back();
    }
    nodes_[i] = Node{{}, kLive};
    links_[i] = Link{kNil, kNil, kNil};
    keys_[i] = key;
    weights_[i] = weight;
    return i;
  }
  void release(std::uint32_t i) noexcept {
    nodes_[i].state = kFree;
    links_[i].next = free_;
    free_ = i;
  }

 private:
  std::vector<Node> nodes_;
  std::vector<Link> links_;
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> weights_;
  std::uint32_t free_ = kNil;
  const Extras extras_;
};

class ShadowCache {
 public:
  /// A cache of `capacity` units (entries when count_entries, else bytes) whose window is
  /// `fraction`/65536 of it.
  ShadowCache(std::uint64_t capacity, bool count_entries, std::uint32_t fraction,
              std::uint64_t seed)
      : pool_(!count_entries),
        policy_({.capacity = capacity,
                 .count_entries = count_entries,
                 .fixed_weight = 1,
                 .seed = seed,
                 .fraction = fraction,
                 .hash = &hash_of,
                 .ctx = &pool_}),
        capacity_(capacity),
        count_entries_(count_entries) {}
  ShadowCache(const ShadowCache&) = delete;
  ShadowCache& operator=(const ShadowCache&) = delete;

  /// Simulates a read of `key` (weighing `weight`), followed on a miss by a put; true: a hit.
  bool access(std::uint64_t key, std::uint32_t weight) {
    if (auto it = index_.find(key); it != index_.end()) {
      policy_.record_access(pool_, it->second);
      return true;
    }
    const std::uint32_t i = pool_.allocate(key, weight);
    index_.emplace(key, i);
    policy_.add(pool_, i, index_.size());
    held_ += units(i);
    while (held_ > capacity_) {
      const std::uint32_t v = policy_.victim(pool_);
      if (v == kNil || v == i) break;
      policy_.remove(pool_, v);
      held_ -= units(v);
      index_.erase(pool_.key(v));
      pool_.release(v);
    }
    policy_.settle();
    return false;
  }
  /// Keys held now.
  std::size_t size() const noexcept { return index_.size(); }

 private:
  static std::uint32_t hash_of(const void* pool, std::uint32_t i) {
    return static_cast<std::uint32_t>(static_cast<const ShadowPool*>(pool)->key(i));
  }
  std::uint64_t units(std::uint32_t i) noexcept { return count_entries_ ? 1 : pool_.weight(i); }

  ShadowPool pool_;
  TinyLfu policy_;
  absl::flat_hash_map<std::uint64_t, std::uint32_t> index_;
  std::uint64_t held_ = 0;
  const std::uint64_t capacity_;
  const bool count_entries_;
};

}  // namespace larder::detail
