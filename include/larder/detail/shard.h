// One shard of a larder::Cache (larder::detail).
//
// IMPLEMENTATION DETAILS
// A cache is an array of shards; a key's shard is chosen from the high bits of its seeded hash.
// Each shard owns, under one mutex:
//   * pool_   the entries (slot_pool.h): key, value, times, links, 32-bit indices;
//   * index_  an absl::flat_hash_set<uint32_t> of slot indices. Its hash and equality functors
//             look through the index into the pool, and lookups use a transparent `Probe`
//             (key view + precomputed hash), so a key is stored once (in its slot) and hashed
//             once per operation;
//   * lru_    exact LRU order (recency_list.h); eviction takes the tail;
//   * heap_   expiry order (expiry_heap.h); reclaiming expired entries pops its top;
//   * tags_   tag -> slots (tag_index.h), touched only by tagged entries;
//   * counters for Stats, kept here so that a hit writes only to its own shard's cache lines.
// Entry and byte totals for the bounds are shared by all shards (`Totals`): they change only when
// an entry is inserted or removed, never on a hit or an in-place update of the same weight.
//
// Nothing here reads a clock on its own: callers pass a LazyNow, read at most once per operation
// and only when an entry with a deadline is involved. Nothing here calls user code except the
// key's hash/equality and the value's constructors/destructors; removed entries are moved into
// a RemovalBatch so that the caller runs listeners after unlocking.
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "larder/clock.h"
#include "larder/detail/expiry_heap.h"
#include "larder/detail/flight.h"
#include "larder/detail/mutex.h"
#include "larder/detail/recency_list.h"
#include "larder/detail/slot_pool.h"
#include "larder/detail/tag_index.h"
#include "larder/hash.h"
#include "larder/options.h"

namespace larder::detail {

/// Reads the clock at most once, on first use (nanoseconds since the clock's epoch).
class LazyNow {
 public:
  explicit LazyNow(const Clock* clock) noexcept : clock_(clock) {}
  std::int64_t operator()() noexcept {
    if (!read_) {
      now_ = (clock_ ? clock_->now() : std::chrono::steady_clock::now()).time_since_epoch().count();
      read_ = true;
    }
    return now_;
  }

 private:
  const Clock* clock_;
  std::int64_t now_ = 0;
  bool read_ = false;
};

/// An entry that left the cache, kept for the removal listener: its value, or (stored
/// compressed) its frame, which the cache decodes outside the lock before calling the listener.
template <class K, class V>
struct Removal {
  K key;
  Payload<V> value;
  RemovalCause cause;
};
template <class K, class V>
using RemovalBatch = std::vector<Removal<K, V>>;

/// Entry and byte totals across all shards (for max_entries / max_bytes), each on its own line.
struct Totals {
  alignas(64) std::atomic<std::int64_t> entries{0};
  alignas(64) std::atomic<std::int64_t> bytes{0};
};

/// Times and weight of an entry being stored.
struct EntryMeta {
  std::int64_t written;
  std::int64_t write_deadline;  // kNever: no TTL
  std::int64_t expires;         // min(write_deadline, access deadline)
  std::uint32_t weight;
  bool immortal;
};

/// Moves the value part of live slot `s` out into a Payload.
template <class V, class SlotT>
Payload<V> take_payload(SlotT& s) {
  Payload<V> p;
  if constexpr (kFrameStorage<V>) {
    if (s.framed) {
      p.frame = std::move(s.frame());
      return p;
    }
  }
  p.value.emplace(std::move(s.value()));
  return p;
}
/// Copies the value part of live slot `s` into a Payload.
template <class V, class SlotT>
Payload<V> copy_payload(const SlotT& s) {
  Payload<V> p;
  if constexpr (kFrameStorage<V>) {
    if (s.framed) {
      p.frame = s.frame();
      return p;
    }
  }
  p.value.emplace(s.value());
  return p;
}

struct ShardCounters {
  std::uint64_t hits = 0, misses = 0, puts = 0, updates = 0, evictions = 0, evicted_bytes = 0,
                expirations = 0, explicit_removals = 0;
};

template <class K, class V, class Hasher, class KeyEq, class KeyView>
class alignas(64) Shard {
 public:
  using Pool = SlotPool<K, V>;
  using Batch = RemovalBatch<K, V>;

  /// What lookups search the index with.
  struct Probe {
    KeyView key;
    std::uint64_t hash;
  };

  Shard(const Hasher* hasher, const KeyEq* eq, std::uint64_t seed, Totals* totals)
      : index_(0, IndexHash{&pool_, hasher, seed}, IndexEq{&pool_, eq}), eq_(eq), totals_(totals) {}
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  Mutex mu;

  // ---- reads ----

  /// The live entry for `p`, or kNil. An entry found expired is removed (cause kExpired).
  std::uint32_t find_live(const Probe& p, LazyNow& now, Batch* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = find(p);
    if (i == kNil || !expired(pool_[i], now)) return i;
    remove(i, RemovalCause::kExpired, out);
    return kNil;
  }

  /// get/lookup: counts a hit or a miss; on a hit marks the entry most recently used, extends
  /// its access expiry, and calls on_hit(const Slot&) under the lock (copy, don't decode). An entry
  /// found expired is removed (kExpired) and counts as a miss.
  template <class OnHit>
  void read(const Probe& p, LazyNow& now, std::int64_t access_ttl, Batch* out, OnHit&& on_hit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = find(p);
    if (i != kNil) {
      auto& e = pool_[i];
      if (!expired(e, now)) {
        ++counters_.hits;
        lru_.move_to_front(pool_, i, e);
        if (access_ttl > 0 && !e.immortal) extend_access(i, e, now(), access_ttl);
        on_hit(std::as_const(e));
        return;
      }
      remove(i, RemovalCause::kExpired, out);
    }
    ++counters_.misses;
  }

  /// peek/contains: calls f(const Slot&) if an unexpired entry exists; changes nothing.
  template <class F>
  bool inspect(const Probe& p, LazyNow& now, F&& f) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = find(p);
    if (i == kNil) return false;
    const auto& e = pool_[i];
    if (expired(e, now)) return false;
    f(e);
    return true;
  }

  /// The live entry for `p` if accept(age, ttl) approves it (ttl: the TTL it was stored with,
  /// kNoExpiry if none): copies its value (or frame) into `out_payload`.
  template <class Accept>
  bool find_acceptable(const Probe& p, LazyNow& now, Batch* out, Accept& accept,
                       std::optional<Payload<V>>& out_payload) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = find_live(p, now, out);
    if (i == kNil) return false;
    const auto& e = pool_[i];
    const Duration age{std::max<std::int64_t>(0, now() - e.written)};
    if (!accept(age, stored_ttl(e))) return false;
    out_payload.emplace(copy_payload<V>(e));
    return true;
  }
  /// The TTL entry `e` was stored with (kNoExpiry if none).
  static Duration stored_ttl(const Slot<K, V>& e) noexcept {
    return e.write_deadline == kNever ? kNoExpiry : Duration{e.write_deadline - e.written};
  }

  // ---- single-flight loads (flight.h) ----
  // In-flight loads of a shard are few (at most one per loading thread), so a vector it is.

  std::shared_ptr<Flight<V>> find_flight(const Probe& p) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (const auto& [key, flight] : flights_) {
      if ((*eq_)(key, p.key)) return flight;
    }
    return nullptr;
  }
  void add_flight(K key, std::shared_ptr<Flight<V>> flight) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    flights_.emplace_back(std::move(key), std::move(flight));
  }
  /// Forgets `flight` (no-op if already retired).
  void remove_flight(const Flight<V>* flight) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (auto it = flights_.begin(); it != flights_.end(); ++it) {
      if (it->second.get() == flight) {
        if (it != flights_.end() - 1) *it = std::move(flights_.back());
        flights_.pop_back();
        return;
      }
    }
  }

  // ---- writes ----

  /// Stores a new entry (the key must be absent) as most recently used; returns its slot.
  std::uint32_t insert(std::uint64_t hash, K&& key, Payload<V>&& value, const EntryMeta& m,
                       std::vector<std::string>&& tags) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = pool_.allocate(std::move(key), std::move(value));
    try {
      index_.lazy_emplace(Probe{KeyView(pool_[i].key()), hash},
                          [i](const auto& construct) { construct(i); });
    } catch (...) {
      pool_.release(i);
      throw;
    }
    set_meta(i, m);
    lru_.push_front(pool_, i);
    set_tags(i, std::move(tags));
    ++size_;
    bytes_ += m.weight;
    totals_->entries.fetch_add(1, std::memory_order_relaxed);
    totals_->bytes.fetch_add(m.weight, std::memory_order_relaxed);
    ++counters_.puts;
    return i;
  }

  /// Replaces the value of live entry `i` and makes it most recently used. The old value goes to
  /// `out` (cause kReplaced) when a listener wants it.
  void replace(std::uint32_t i, Payload<V>&& value, const EntryMeta& m,
               std::vector<std::string>&& tags, Batch* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto& s = pool_[i];
    if (out) out->push_back({s.key(), take_payload<V>(s), RemovalCause::kReplaced});
    if (!s.framed && !value.framed()) {
      s.value() = std::move(*value.value);  // the common case: assign in place
    } else {
      s.destroy_value();
      try {
        value.construct_into(s);
      } catch (...) {
        if constexpr (kFrameStorage<V>) {  // leave a valid (empty-frame) entry, not a dead one
          s.construct_frame(std::string());
          s.framed = true;
        }
        throw;
      }
    }
    const std::int64_t delta = std::int64_t{m.weight} - std::int64_t{s.weight};
    bytes_ += delta;
    if (delta != 0) totals_->bytes.fetch_add(delta, std::memory_order_relaxed);
    set_meta(i, m);
    lru_.move_to_front(pool_, i);
    if (s.tagged) tags_.remove(i);
    set_tags(i, std::move(tags));
    ++counters_.puts;
    ++counters_.updates;
  }

  /// Removes entry `i` for `cause`; moves it into `out` when given.
  void remove(std::uint32_t i, RemovalCause cause, Batch* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto& s = pool_[i];
    lru_.unlink(pool_, i);
    heap_.remove(pool_, i);
    if (s.tagged) tags_.remove(i);
    index_.erase(i);
    switch (cause) {
      case RemovalCause::kEvicted:
        ++counters_.evictions;
        counters_.evicted_bytes += s.weight;
        break;
      case RemovalCause::kExpired:
        ++counters_.expirations;
        break;
      default:
        ++counters_.explicit_removals;
        break;
    }
    --size_;
    bytes_ -= s.weight;
    totals_->entries.fetch_sub(1, std::memory_order_relaxed);
    totals_->bytes.fetch_sub(s.weight, std::memory_order_relaxed);
    if (out) out->push_back({std::move(s.key()), take_payload<V>(s), cause});
    pool_.release(i);
  }

  /// Evicts the least recently used entry unless it is `keep`; false when there is none to evict.
  bool evict_lru(std::uint32_t keep, Batch* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t t = lru_.tail();
    if (t == kNil || t == keep) return false;
    remove(t, RemovalCause::kEvicted, out);
    return true;
  }

  /// Removes up to `limit` entries whose deadline is at or before `now`, earliest first.
  std::size_t expire(std::int64_t now, std::size_t limit, Batch* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::size_t n = 0;
    while (n < limit && !heap_.empty() && heap_.top().deadline <= now) {
      remove(heap_.top().slot, RemovalCause::kExpired, out);
      ++n;
    }
    return n;
  }

  /// Removes (kExplicit) every unexpired entry for which matches(slot) is true. O(slots).
  template <class Matches>
  std::size_t remove_if(Matches& matches, LazyNow& now, Batch* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::size_t n = 0;
    for (std::uint32_t i = 0, end = pool_.high_water(); i < end; ++i) {
      auto& s = pool_[i];
      if (!s.live || expired(s, now) || !matches(std::as_const(s))) continue;
      remove(i, RemovalCause::kExplicit, out);
      ++n;
    }
    return n;
  }

  /// Removes (kExplicit) every entry tagged `tag`.
  std::size_t remove_tagged(std::string_view tag, Batch* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::vector<std::uint32_t> slots = tags_.slots_with(tag);
    for (std::uint32_t i : slots) remove(i, RemovalCause::kExplicit, out);
    return slots.size();
  }

  /// Removes (kExplicit) every entry.
  std::size_t remove_all(Batch* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::size_t n = size_;
    if (out) {
      out->reserve(out->size() + n);
      for (std::uint32_t i = lru_.head(); i != kNil; i = pool_[i].next) {
        out->push_back(
            {std::move(pool_[i].key()), take_payload<V>(pool_[i]), RemovalCause::kExplicit});
      }
    }
    index_.clear();
    pool_.clear();
    lru_.reset();
    heap_.reset();
    tags_.reset();
    counters_.explicit_removals += n;
    totals_->entries.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
    totals_->bytes.fetch_sub(static_cast<std::int64_t>(bytes_), std::memory_order_relaxed);
    size_ = 0;
    bytes_ = 0;
    return n;
  }

  ShardCounters counters() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return counters_; }
  void reset_counters() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { counters_ = {}; }
  std::size_t size() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return size_; }

  static std::int64_t saturating_add(std::int64_t t, std::int64_t d) noexcept {
    return d >= kNever - t ? kNever : t + d;
  }

 private:
  struct IndexHash {
    using is_transparent = void;
    const Pool* pool = nullptr;
    const Hasher* hasher = nullptr;
    std::uint64_t seed = 0;
    std::size_t operator()(std::uint32_t i) const noexcept {
      return seeded_hash(*hasher, KeyView((*pool)[i].key()), seed);
    }
    std::size_t operator()(const Probe& p) const noexcept { return p.hash; }
  };
  struct IndexEq {
    using is_transparent = void;
    const Pool* pool = nullptr;
    const KeyEq* eq = nullptr;
    bool operator()(std::uint32_t a, std::uint32_t b) const noexcept { return a == b; }
    bool operator()(std::uint32_t a, const Probe& p) const {
      return (*eq)((*pool)[a].key(), p.key);
    }
    bool operator()(const Probe& p, std::uint32_t a) const {
      return (*eq)((*pool)[a].key(), p.key);
    }
  };

  std::uint32_t find(const Probe& p) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto it = index_.find(p);
    return it == index_.end() ? kNil : *it;
  }
  static bool expired(const Slot<K, V>& e, LazyNow& now) noexcept {
    return e.expires != kNever && e.expires <= now();
  }
  void extend_access(std::uint32_t i, Slot<K, V>& e, std::int64_t now, std::int64_t access_ttl)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::int64_t deadline = std::min(e.write_deadline, saturating_add(now, access_ttl));
    if (deadline != e.expires) {
      e.expires = deadline;
      heap_.set(pool_, i, deadline);
    }
  }
  void set_meta(std::uint32_t i, const EntryMeta& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto& s = pool_[i];
    s.written = m.written;
    s.write_deadline = m.write_deadline;
    s.expires = m.expires;
    s.weight = m.weight;
    s.immortal = m.immortal;
    if (m.expires == kNever) {
      heap_.remove(pool_, i);
    } else {
      heap_.set(pool_, i, m.expires);
    }
  }
  void set_tags(std::uint32_t i, std::vector<std::string>&& tags)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    pool_[i].tagged = !tags.empty();
    if (!tags.empty()) tags_.add(i, std::move(tags));
  }

  Pool pool_ ABSL_GUARDED_BY(mu);
  absl::flat_hash_set<std::uint32_t, IndexHash, IndexEq> index_ ABSL_GUARDED_BY(mu);
  RecencyList lru_ ABSL_GUARDED_BY(mu);
  ExpiryHeap heap_ ABSL_GUARDED_BY(mu);
  TagIndex tags_ ABSL_GUARDED_BY(mu);
  ShardCounters counters_ ABSL_GUARDED_BY(mu);
  std::size_t size_ ABSL_GUARDED_BY(mu) = 0;
  std::size_t bytes_ ABSL_GUARDED_BY(mu) = 0;
  std::vector<std::pair<K, std::shared_ptr<Flight<V>>>> flights_ ABSL_GUARDED_BY(mu);
  const KeyEq* const eq_;
  Totals* const totals_;
};

}  // namespace larder::detail
