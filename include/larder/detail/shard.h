// One shard of a larder::Cache (larder::detail).
//
// IMPLEMENTATION DETAILS
// A cache is an array of shards; a key's shard is chosen from the high bits of its seeded hash.
// Each shard owns, under one mutex:
//   * pool_   the entries (slot_pool.h): key, value, times, links, 32-bit indices;
//   * index_  hash -> slot (concurrent_index.h), readable without the lock. A key is stored once
//             (in its slot) and hashed once per operation (a `Probe` carries the hash);
//   * order_  the eviction order (eviction_order.h): a policy the shard tells what happens to its
//             entries and asks for victims. Exact LRU in a one-shard cache (exact_lru.h): hits
//             found without the lock are buffered per thread and replayed under it; tick-grain
//             LRU in each shard of a cache of several (coarse_lru.h): a hit stamps its entry
//             only when the tick moved. Evicting touches lines no recent operation did (the
//             victim's slot, links, index cell and neighbour): an eviction prefetches the next
//             likely victim's slot and links, and a put that will evict prefetches its cell and
//             neighbour before it inserts;
//   * limbo_  removed slots and replaced index tables, until no lock-free reader can see them
//             (limbo.h);
//   * heap_   expiry order (expiry_heap.h); reclaiming expired entries pops its top;
//   * tags_   tag -> slots (tag_index.h), touched only by tagged entries;
//   * counters for the write-side Stats (hits and misses are counted by the cache, per thread).
//
// HOW THE HIT PATH WORKS (no lock, no shared write). get() opens an epoch ReadSection (epoch.h:
// one exchange on the thread's own record), finds the slot through index_ (read_unlocked),
// checks its deadline, copies the value, closes the section, records the access in the eviction
// order (touch: in a coarse shard, compares the entry's tick stamp with the tick and stores it
// only if the tick moved, so a hot entry's hits store nothing; in an exact shard, appends the
// slot to its thread's stripe of a read buffer) and counts the hit in its thread's counter line.
// Published slots do not change under readers: a put over an existing key builds a new slot and
// swaps the index cell; a removed slot is "retired" (kept intact, queued in limbo_) and freed only
// after two epoch advances, when no reader can still be inside it. Old index tables are retired the
// same way. The one exception is a small trivially copyable value (kInPlace<V>): a put overwrites
// it in place under the slot's version, and readers copy it under that version (seqlock.h). The
// simplest such put, on an untagged entry whose deadline it does not move earlier, needs nothing
// but the entry: it takes no shard lock either (update_unlocked: the version is its per-entry
// lock, it records its access like a hit (touch), and the entry's expiry heap node keeps its
// earlier deadline, which expire() re-checks against the entry's own when it comes due). So
// readers that hold the shard lock still copy such values under the version (with_data).
// Anything unusual (an expired entry to reclaim, expire_after_access, which must move a
// deadline on every read) takes the locked path.
// Entry and byte totals for the bounds are shared by all shards (`Totals`): they change only when
// an entry is inserted or removed, never on a hit or an in-place update of the same weight, and
// a put changes them once, by its net, at the end of its critical section (HeldTotals): a put
// into a full cache that evicts one entry writes nothing to those two shared lines.
//
// Nothing here reads a clock on its own: callers pass a LazyNow, read at most once per operation
// and only when an entry with a deadline is involved. Nothing here calls user code except the
// key's hash/equality and the value's constructors/destructors; removed entries are moved into
// a RemovalBatch so that the caller runs listeners after unlocking.
#pragma once

#include <absl/base/thread_annotations.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "larder/clock.h"
#include "larder/detail/concurrent_index.h"
#include "larder/detail/entry_time.h"
#include "larder/detail/epoch.h"
#include "larder/detail/eviction_order.h"
#include "larder/detail/expiry_heap.h"
#include "larder/detail/features.h"
#include "larder/detail/flight.h"
#include "larder/detail/limbo.h"
#include "larder/detail/mutex.h"
#include "larder/detail/seqlock.h"
#include "larder/detail/slot_pool.h"
#include "larder/detail/tag_index.h"
#include "larder/hash.h"
#include "larder/options.h"

namespace larder::detail {

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

/// Changes to the totals a shard holds back until the end of a critical section (see
/// Shard::HeldTotals), or an entry about to be inserted.
struct TotalsDelta {
  std::int64_t entries = 0;
  std::int64_t bytes = 0;
  bool grows() const noexcept { return entries > 0 || bytes > 0; }
};

/// A cache's bounds (max_entries / max_bytes, 0: none) and the entry and byte totals all its
/// shards share, each total on its own line.
struct Bounds {
  alignas(64) std::atomic<std::int64_t> entries{0};
  alignas(64) std::atomic<std::int64_t> bytes{0};
  std::int64_t max_entries = 0;
  std::int64_t max_bytes = 0;

  /// Whether the cache is over a bound, counting `held` (a locked shard's unpublished changes,
  /// or an entry about to be inserted) with the published totals.
  [[gnu::always_inline]] bool over(const TotalsDelta& held = {}) const noexcept {
    return (max_entries && entries.load(std::memory_order_relaxed) + held.entries > max_entries) ||
           (max_bytes && bytes.load(std::memory_order_relaxed) + held.bytes > max_bytes);
  }
};

/// A store's condition that always holds (Shard::put: a plain put, not a guarded fill).
struct NoGuard {
  constexpr bool operator()() const noexcept { return true; }
};

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

/// A field a DataCopy leaves out (reading it does not compile).
struct NotCopied {};
/// What a reader copies of a kInPlace<V> slot under its version (seqlock.h): the parts an
/// in-place put rewrites, with the names Slot gives them. Unlike a Slot it has no atomics, so a
/// copy costs no initializing stores. `written` is copied only when `kAge` (lookup's age and
/// TTL need it; get does not).
template <class V, bool kAge>
struct DataCopy {
  alignas(V) unsigned char value_buf[sizeof(V)];
  [[no_unique_address]] std::conditional_t<kAge, std::int64_t, NotCopied> written;
  std::int64_t write_deadline;
  static constexpr bool framed = false;
  const V& value() const noexcept { return *std::launder(reinterpret_cast<const V*>(value_buf)); }
};

/// A key a lock-free probe did not find, and the index's insert count it read before probing.
struct Absence {
  bool known = false;
  std::uint64_t inserts = 0;
};

struct ShardCounters {
  std::uint64_t puts = 0, updates = 0, evictions = 0, evicted_bytes = 0, expirations = 0,
                explicit_removals = 0;
  PolicyCounters policy;  // (the eviction order's own, TinyLfu only)
};

template <class K, class V, class Hasher, class KeyEq, class KeyView>
class alignas(128) Shard {
 public:
  using Pool = SlotPool<K, V>;
  using SlotT = Slot<K, V>;
  using Batch = RemovalBatch<K, V>;

  /// What lookups search the index with.
  struct Probe {
    KeyView key;
    std::uint64_t hash;
  };

  /// `bounds`: the cache's limits and the totals all its shards share. `features`: which paths
  /// this cache takes (features.h). `access_ttl`: Options::expire_after_access in ns (0: off).
  /// `tiny`: the TinyLfu's settings, with Recency::kTinyLfu (its hash is filled in here).
  Shard(const Hasher* hasher, const KeyEq* eq, std::uint64_t seed, Bounds* bounds,
        const Features& features, std::int64_t access_ttl, TinyLfuConfig tiny = {})
      : pool_(features.extras),
        order_(features.recency, with_hash(tiny)),
        features_(features),
        hasher_(hasher),
        eq_(eq),
        seed_(seed),
        bounds_(bounds),
        access_ttl_(access_ttl) {}
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  /// No reader may be running (the cache is being destroyed): frees everything retired.
  ~Shard() ABSL_NO_THREAD_SAFETY_ANALYSIS { limbo_.free(pool_, /*all=*/true); }

  // ---- the operations: each one holds its own critical section, if it needs one ----
  // Nothing here calls listeners: what an operation removes goes to `out` (null: nobody wants
  // it), and the caller notifies after it returns.

  /// What get_unlocked did: kHit and kMiss are answers; kLock: ask get() (under the lock).
  enum class Got { kHit, kMiss, kLock };
  /// The lock-free get (see "how the hit path works"): on a live entry calls on_hit(entry)
  /// (copy only; the slot, or for kInPlace<V> a DataCopy of its value and times, the write time
  /// only if kAge) and records the access. kLock when the answer needs the lock: the cache moves
  /// deadlines on reads (expire_after_access), the entry has expired and must be reclaimed, or
  /// it is being updated in place at this moment.
  template <bool kAge, class OnHit>
  [[gnu::always_inline]] Got get_unlocked(const Probe& p, LazyNow& now, OnHit&& on_hit) {
    if (features_.access_expiry) [[unlikely]]
      return Got::kLock;
    const Read r = read_unlocked<kAge>(p, now, on_hit);
    if (r.found == Found::kAbsent) return Got::kMiss;
    if (r.found != Found::kLive) [[unlikely]]
      return Got::kLock;
    touch(r.slot, *r.entry);
    return Got::kHit;
  }
  /// get under the lock: returns whether it hit; on a hit records the access, extends the
  /// entry's access expiry, and calls on_hit(entry) (copy only). An entry found expired is
  /// removed (kExpired) and is a miss.
  template <class OnHit>
  bool get(const Probe& p, LazyNow& now, Batch* out, OnHit&& on_hit) {
    Lock lock(*this);
    return read(p, now, out, on_hit);
  }

  /// peek/contains: calls f(entry) (as get_unlocked gives it) if an unexpired entry exists;
  /// changes nothing. Lock-free unless deadlines move on reads or the entry is being updated in
  /// place at this moment.
  template <bool kAge, class F>
  void peek(const Probe& p, LazyNow& now, F&& f) {
    if (!features_.access_expiry) {
      if (read_unlocked<kAge>(p, now, f).found != Found::kBusy) return;
    }
    MutexLock lock(mu);
    inspect(p, now, f);
  }

  /// The lock-free put (seqlock.h), when it applies (Features::lock_free_put for a put with
  /// `tags` that is `plain`): overwrites the live entry for `p` with `value` and times `m` if
  /// that needs nothing but the entry (see update_unlocked) and records the access; returns
  /// whether it did. Else `absent` says whether the key was seen absent, for put() to skip a
  /// probe.
  bool put_unlocked(const Probe& p, const Payload<V>& value, const EntryMeta& m,
                    const std::vector<std::string>& tags, bool plain, LazyNow& now,
                    Absence* absent) {
    if constexpr (kInPlace<V>) {
      if (!features_.lock_free_put(!tags.empty(), plain)) return false;
      const UnlockedPut r = update_unlocked(p, *value.value, m, now);
      if (r.slot != kNil) {
        touch(r.slot, *r.entry);
        return true;
      }
      *absent = r.absent;
    }
    return false;
  }

  /// What put() did.
  struct PutResult {
    bool stored = false;
    bool over = false;  // still over the bounds with nothing left here to evict: evict elsewhere
  };
  /// A put under the lock: stores `value` (weight and times in `m`) under `key` (hash `h`) as
  /// the most recently used entry, replacing a live one (cause kReplaced), or, only_if_absent,
  /// only if there is none. Then reclaims up to kExpirePerPut expired entries and evicts while
  /// over the bounds. `retire`: a load's flight, forgotten in the same critical section; the
  /// load's result is stored only if no write of the key landed while it loaded (flight.h).
  /// Else the put marks the loads of the key in flight stale, unless `guard` is given: a fill,
  /// stored only if guard() holds under the lock. `absent`: from put_unlocked.
  /// Changes the shared totals once, by its net (see HeldTotals).
  template <class Guard>
  PutResult put(K&& key, std::uint64_t h, Payload<V>&& value, const EntryMeta& m,
                std::vector<std::string>&& tags, bool only_if_absent, const Flight<V>* retire,
                Guard& guard, LazyNow& now, Batch* out, Absence absent = {}) {
    constexpr bool kGuarded = !std::is_same_v<Guard, NoGuard>;
    const Probe p{key, h};
    PutResult result;
    Lock lock(*this);
    if constexpr (kGuarded) {
      if (!guard()) {
        if (retire) remove_flight(retire);
        return result;
      }
    }
    if (retire) {
      const bool stale = superseded(p, *retire);
      remove_flight(retire);
      if (stale) return result;
    } else if (!kGuarded) {
      invalidate_flight(p);  // this write wins over a load of the key in flight
    }
    std::uint32_t i = kNil;
    bool grew = false;
    {
      HeldTotals held(*this);
      i = find_live(p, now, out, absent);
      if (i != kNil && only_if_absent) return result;
      if (i != kNil) {
        i = replace(i, h, std::move(key), std::move(value), m, std::move(tags), out);
      } else {
        // The eviction below reads the victim's lines: start loading them now.
        if (bounds_->over({1, std::int64_t{m.weight}})) prefetch_victim();
        i = insert(h, std::move(key), std::move(value), m, std::move(tags));
      }
      // Amortized reclaiming; cannot touch entry i, whose deadline is in the future.
      expire(m.written, kExpirePerPut, out);
      result.over = evict_while([&] { return bounds_->over(held.delta()); }, i, out);
      result.stored = true;
      grew = held.delta().grows();
    }
    // Published: growth other shards' puts could not see is checked against everyone's.
    if (grew && !result.over) result.over = evict_while([this] { return bounds_->over(); }, i, out);
    return result;
  }

  /// What acquire() found.
  struct Acquired {
    std::optional<Payload<V>> value;    // an entry accept(age, ttl) approved
    std::shared_ptr<Flight<V>> flight;  // else: the load to wait on, or to lead
    bool lead = false;                  // the caller created `flight` and must complete it
  };
  /// Under the lock: the live entry for `p` if accept(age, ttl) approves it (ttl: the TTL it was
  /// stored with, kNoExpiry if none), else the load of its key in flight, else a new flight for
  /// `key` led by the caller (or, led_by_caller = false, by whoever runs it later).
  template <class Accept>
  Acquired acquire(const Probe& p, LazyNow& now, Batch* out, Accept& accept, bool led_by_caller) {
    Acquired a;
    Lock lock(*this);
    if (find_acceptable(p, now, out, accept, a.value)) return a;
    a.flight = find_flight(p);
    if (!a.flight) {
      a.flight = std::make_shared<Flight<V>>(led_by_caller);
      a.flight->set_stamp(entry_stamp(p));
      add_flight(K(p.key), a.flight);
      a.lead = true;
    }
    return a;
  }

  /// Removes the live entry for `p` (kExplicit); returns whether there was one. A load of the
  /// key in flight then stores nothing.
  bool erase(const Probe& p, LazyNow& now, Batch* out) {
    Lock lock(*this);
    invalidate_flight(p);
    const std::uint32_t i = find_live(p, now, out);
    if (i == kNil) return false;
    remove(i, RemovalCause::kExplicit, out);
    return true;
  }
  /// Removes (kExplicit) every unexpired entry for which matches(key, entry) is true (entry as
  /// with_data gives it), and marks the loads in flight of keys stale(key) selects stale.
  template <class Matches, class StaleLoads>
  std::size_t erase_matching(Matches& matches, StaleLoads& stale, LazyNow& now, Batch* out) {
    Lock lock(*this);
    invalidate_flights(stale);
    return remove_if(matches, now, out);
  }
  /// Calls f(key, entry) (entry as with_data gives it: copy only) for each live, unexpired
  /// entry among slots [from, from + max), under the lock; returns where the next call should
  /// start, kNil when the slots are done. Changes nothing. (Enumeration in bounded lock holds.)
  template <class F>
  std::uint32_t visit(std::uint32_t from, std::uint32_t max, LazyNow& now, F&& f) {
    MutexLock lock(mu);
    const std::uint32_t end = std::min<std::uint32_t>(pool_.high_water(), from + max);
    for (std::uint32_t i = from; i < end; ++i) {
      const SlotT& e = pool_[i];
      if (e.state != kLive || expired(i, now)) continue;
      with_data(e, [&](const auto& data) { f(e.key(), data); });
    }
    return end >= pool_.high_water() ? kNil : end;
  }

  /// Removes (kExplicit) every entry tagged `tag`.
  std::size_t invalidate_tag(std::string_view tag, Batch* out) {
    Lock lock(*this);
    return remove_tagged(tag, out);
  }
  /// Removes (kExplicit) every entry; loads in flight store nothing.
  void clear(Batch* out) {
    Lock lock(*this);
    invalidate_flights([](const K&) { return true; });
    remove_all(out);
  }
  /// Removes up to `limit` entries due at `now`, earliest first (see expire()); `more` is set
  /// when the limit stopped it.
  std::size_t expire_slice(std::int64_t now, std::size_t limit, Batch* out, bool* more) {
    Lock lock(*this);
    return expire(now, limit, out, more);
  }
  /// Evicts while the cache is over its bounds (for a put into another shard that had nothing
  /// left to evict).
  void evict_over_bounds(Batch* out) {
    Lock lock(*this);
    evict_while([this] { return bounds_->over(); }, kNil, out);
  }

  // ---- single-flight bookkeeping (flight.h), each under the lock ----

  /// Marks the loads of `p`'s key in flight stale: a write of the key is about to land.
  void invalidate_load(const Probe& p) {
    MutexLock lock(mu);
    invalidate_flight(p);
  }
  /// Marks the loads in flight of keys pred(key) selects stale.
  template <class Pred>
  void invalidate_loads_if(Pred&& pred) {
    MutexLock lock(mu);
    invalidate_flights(pred);
  }
  /// Whether load `f` of `p`'s key, still in flight, may no longer store its result.
  bool load_superseded(const Probe& p, const Flight<V>& f) {
    MutexLock lock(mu);
    return superseded(p, f);
  }
  /// Forgets `flight` (no-op if already retired).
  void retire_flight(const Flight<V>* flight) {
    MutexLock lock(mu);
    remove_flight(flight);
  }

  /// The write-side counters.
  ShardCounters counters() {
    MutexLock lock(mu);
    ShardCounters c = counters_;
    c.policy = order_.counters();
    return c;
  }
  void reset_counters() {
    MutexLock lock(mu);
    counters_ = {};
    order_.reset_counters();
  }

  /// The expired entries a put reclaims on its way (amortized cleanup).
  static constexpr std::size_t kExpirePerPut = 8;

 private:
  Mutex mu;

  /// The lock for every critical section that changes the shard: takes `mu`, then sync()s, so
  /// that no change can forget to bring the eviction order up to the caller's accesses first.
  class ABSL_SCOPED_LOCKABLE Lock {
   public:
    explicit Lock(Shard& s) ABSL_EXCLUSIVE_LOCK_FUNCTION(s.mu) : s_(s) {
      s_.mu.lock();
      s_.sync();
    }
    ~Lock() ABSL_UNLOCK_FUNCTION() { s_.mu.unlock(); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    Shard& s_;
  };

  // ---- lock-free reads: call inside a ReadSection, without the lock ----

  /// The lock-free probe (inside a ReadSection): the slot holding `p`'s key (possibly expired),
  /// or kNil; `*slot` gets its address, so the caller does not walk the chunk directory again.
  [[gnu::always_inline]] std::uint32_t find_unlocked(const Probe& p, const SlotT** slot) const
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const Pool* pool = &pool_;  // (the analysis does not look through the pointer in the lambda)
    return index_.find(static_cast<std::uint32_t>(p.hash), [&](std::uint32_t j) {
      const SlotT& s = pool->unlocked(j);
      if (!(*eq_)(s.key(), p.key)) return false;
      *slot = &s;
      return true;
    });
  }
  /// What read_unlocked found.
  enum class Found { kAbsent, kLive, kExpired, kBusy };
  struct Read {
    Found found;
    std::uint32_t slot;  // kNil when kAbsent
    const SlotT* entry;  // the published slot (null when kAbsent)
  };
  /// The lock-free read (get, lookup, peek, contains): inside its own ReadSection, finds `p`'s
  /// key and, if the entry is unexpired, calls f(entry) (copy only). The entry f sees is the
  /// published slot, which never changes while readers may see it, or, for kInPlace<V>, whose
  /// slots are updated in place, a DataCopy of its value and times taken under its version (the
  /// write time only if kAge). kBusy: an in-place write is in progress; read under the lock
  /// instead.
  template <bool kAge, class F>
  Read read_unlocked(const Probe& p, LazyNow& now, F&& f) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    ReadSection section;
    const SlotT* found = nullptr;
    const std::uint32_t i = find_unlocked(p, &found);
    if (i == kNil) return {Found::kAbsent, kNil, nullptr};
    if constexpr (kInPlace<V>) {
      DataCopy<V, kAge> copy;
      if (!seq_read(found->version, [&] { copy_data(*found, copy); })) {
        return {Found::kBusy, i, found};
      }
      // (Lock-free reads happen only without expire_after_access: the TTL deadline is the one.)
      if (due(copy.write_deadline, now)) return {Found::kExpired, i, found};
      f(std::as_const(copy));
    } else {
      // (A published slot, whose deadline never changes while it is: plain read.)
      if (due(found->write_deadline, now)) return {Found::kExpired, i, found};
      f(*found);
    }
    return {Found::kLive, i, found};
  }
  /// Records a lock-free access (a hit, or an update_unlocked put) to slot `i` at `e` in the
  /// eviction order, after its ReadSection (EvictionOrder::record_read).
  [[gnu::always_inline]] void touch(std::uint32_t i, const SlotT& e) {
    if (!order_.record_read(i, e)) [[unlikely]]
      sync_and_record(i, e);
  }
  /// touch's slow path: the order's buffer is full. Syncs it if the lock is free, else drops the
  /// access (recency is then approximate, never wrong about what is cached).
  [[gnu::noinline]] void sync_and_record(std::uint32_t i, const SlotT& e) {
    if (mu.try_lock()) {
      order_.sync(pool_);
      mu.unlock();
      order_.record_read(i, e);
    }
  }

  /// What update_unlocked did: `slot` != kNil: the put is done (touch(slot, *entry) next).
  /// Else the caller takes the lock; `absent` then says the key was not in the index.
  struct UnlockedPut {
    std::uint32_t slot = kNil;
    Absence absent;
    const SlotT* entry = nullptr;
  };
  /// The lock-free put (seqlock.h), inside its own ReadSection: overwrites the live entry for
  /// `p` with `value` and times `m` when that needs nothing but the entry itself: V is kInPlace,
  /// the entry is untagged (in no tag index), its deadline does not move earlier (its expiry heap
  /// node may stay where it is: expire() re-checks the entry's own deadline), and the stored
  /// key has the new one's size (the weight stays). Fails when the key is absent, the entry
  /// expired (by `now`), not that simple, or another writer holds it. put_unlocked checks the
  /// rest (Features::lock_free_put).
  UnlockedPut update_unlocked(const Probe& p, const V& value, const EntryMeta& m,
                              LazyNow& now) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if constexpr (!kInPlace<V>) {
      return {};
    } else {
      ReadSection section;
      const std::uint64_t inserts = index_.inserts();  // before the probe (ConcurrentIndex)
      const SlotT* found = nullptr;
      const std::uint32_t i = find_unlocked(p, &found);
      // tagged and the key are set before the slot is published and never change while it is.
      if (i == kNil) return {kNil, {true, inserts}};
      if (found->tagged || dynamic_size(found->key()) != dynamic_size(p.key)) return {};
      SlotT& s = const_cast<SlotT&>(*found);  // the version makes this thread its only writer
      std::uint32_t v;
      if (!try_lock_version_briefly(s.version, v)) return {};
      // Deadlines only change under the version. The slot may have been removed since the probe
      // (erased, evicted): then the write lands in a retired slot nobody finds any more, which is
      // this put taking effect just before that removal (the two overlap); see seqlock.h. Not so
      // for an expiry, which this put's later deadline may cancel: see below.
      // Retired since the probe by an expiry (remove_if_due decides under the version, so it
      // retired the slot before this thread took it): the key is gone, insert under the lock.
      const bool retired =
          std::atomic_ref<std::uint8_t>(s.state).load(std::memory_order_acquire) != kLive;
      // (No access expiry here: the TTL deadline is the entry's only one.) An entry past its
      // deadline is expired, not updated: the locked path reclaims it (counted as an
      // expiration) and inserts, so the stats do not depend on which path a put took.
      const std::int64_t deadline = load_field(s.write_deadline);
      if (retired || m.write_deadline < deadline ||  // earlier: the heap moves it
          (deadline != kNever && deadline <= now())) {
        s.version.store(v, std::memory_order_release);
        return {};
      }
      store_words<alignof(V), sizeof(V)>(s.value_buf, &value);
      store_field(s.written, m.written);
      store_field(s.write_deadline, m.write_deadline);
      s.version.store(v + 2, std::memory_order_release);
      return {i, {}, found};
    }
  }

  // ---- under the lock ----

  /// What Lock runs first: brings the eviction order up to the calling thread's accesses (so its
  /// own gets and puts reach it in program order) and frees retired slots no reader can still
  /// see.
  void sync() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    order_.sync(pool_);
    if (limbo_.pending()) limbo_.free(pool_, /*all=*/false);
  }

  /// The live entry for `p`, or kNil. An entry found expired is removed (cause kExpired).
  /// `absent`: what a lock-free probe found before the lock, to skip probing again.
  std::uint32_t find_live(const Probe& p, LazyNow& now, Batch* out, Absence absent = {})
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (absent.known && index_.inserts() == absent.inserts) return kNil;  // nothing added since
    const std::uint32_t i = find(p);
    if (i == kNil || !expired(i, now)) return i;
    return remove_if_due(
               i, [&](std::int64_t expires) { return due(expires, now); }, out)
               ? kNil
               : i;
  }

  /// get/lookup under the lock (expire_after_access, or an expired entry seen without it):
  /// returns whether it hit; on a hit marks the entry most recently used, extends its access
  /// expiry, and calls on_hit(const Slot&) under the lock (copy, don't decode). An entry found
  /// expired is removed (kExpired) and is a miss.
  template <class OnHit>
  bool read(const Probe& p, LazyNow& now, Batch* out, OnHit&& on_hit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = find_live(p, now, out);
    if (i == kNil) return false;
    auto& e = pool_[i];
    order_.record_access(pool_, i);
    if (access_ttl_ > 0 && !e.immortal) extend_access(i, now());
    with_data(e, on_hit);
    return true;
  }

  /// peek/contains under the lock (caches with expire_after_access, whose deadlines move):
  /// calls f(entry) (as with_data gives it) if an unexpired entry exists; changes nothing.
  template <class F>
  bool inspect(const Probe& p, LazyNow& now, F&& f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = find(p);
    if (i == kNil || expired(i, now)) return false;
    with_data(pool_[i], f);
    return true;
  }

  /// The live entry for `p` if accept(age, ttl) approves it (ttl: the TTL it was stored with,
  /// kNoExpiry if none): copies its value (or frame) into `out_payload`.
  template <class Accept>
  bool find_acceptable(const Probe& p, LazyNow& now, Batch* out, Accept& accept,
                       std::optional<Payload<V>>& out_payload) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = find_live(p, now, out);
    if (i == kNil) return false;
    bool accepted = false;
    with_data(pool_[i], [&](const auto& e) {
      accepted = accept(age_of(e, now), stored_ttl(e));
      if (accepted) out_payload.emplace(copy_payload<V>(e));
    });
    return accepted;
  }
  /// Calls f(entry) with entry `e`'s value and times, under the lock: the slot, or for
  /// kInPlace<V> a DataCopy taken under its version, since a lock-free put may be rewriting them.
  template <class F>
  static void with_data(const SlotT& e, F&& f) {
    if constexpr (kInPlace<V>) {
      DataCopy<V, true> copy;
      seq_read_wait(e.version, [&] { copy_data(e, copy); });
      f(std::as_const(copy));
    } else {
      f(e);
    }
  }
  /// Copies the parts of `from` that in-place writes change, with atomic loads (under its version).
  template <bool kAge>
  static void copy_data(const SlotT& from, DataCopy<V, kAge>& to) noexcept {
    load_words<alignof(V), sizeof(V)>(to.value_buf, from.value_buf);
    if constexpr (kAge) to.written = load_field(from.written);
    to.write_deadline = load_field(from.write_deadline);
  }
  /// Whether live entry `i` has expired at now() (shard lock held).
  bool expired(std::uint32_t i, LazyNow& now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return due(deadline_of(i), now);
  }
  /// Entry `i`'s effective deadline (shard lock held): its TTL deadline, or with
  /// expire_after_access the earlier access deadline. (An atomic load: a lock-free put may be
  /// moving the TTL deadline later, even under the lock.)
  std::int64_t deadline_of(std::uint32_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return pool_.extras().access_deadlines ? pool_.access_deadline(i)
                                           : load_field(pool_[i].write_deadline);
  }
  /// Entry `i`'s weight (shard lock held).
  std::uint32_t weight_of(std::uint32_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return pool_.extras().weights ? pool_.weight(i) : features_.fixed_weight;
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
  /// Marks the loads in flight whose key `pred(key)` selects stale (Flight::mark_stale): an
  /// erase or invalidation of their key landed while they load.
  template <class Pred>
  void invalidate_flights(Pred&& pred) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (const auto& [key, flight] : flights_) {
      if (pred(key)) flight->mark_stale();
    }
  }
  void invalidate_flight(const Probe& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    invalidate_flights([&](const K& key) { return (*eq_)(key, p.key); });
  }
  /// Which entry `p` names now, for a load to tell at its end whether a put replaced it (flight.h):
  /// its slot, and for in-place values the version lock-free puts move; kNoEntryStamp if absent.
  std::uint64_t entry_stamp(const Probe& p) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = find(p);
    if (i == kNil) return kNoEntryStamp;
    std::uint64_t stamp = std::uint64_t{i} << 32;
    if constexpr (kInPlace<V>) stamp |= pool_[i].version.load(std::memory_order_acquire);
    return stamp;
  }
  static constexpr std::uint64_t kNoEntryStamp = ~std::uint64_t{0};
  /// Whether load `f` of the key `p` names may no longer store its result: marked stale, or the
  /// entry is not the one it started from (flight.h).
  bool superseded(const Probe& p, const Flight<V>& f) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return f.stale() || entry_stamp(p) != f.stamp();
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
    const std::uint32_t i = build(std::move(key), std::move(value), m, std::move(tags));
    try {
      if (auto* old = index_.insert(static_cast<std::uint32_t>(hash), i)) limbo_.retire(old);
    } catch (...) {
      unbuild(i);
      throw;
    }
    order_.add(pool_, i, index_.size());
    bytes_ += m.weight;
    add_totals(1, m.weight);
    ++counters_.puts;
    return i;
  }

  /// Replaces live entry `i` (of hash `hash`) by `key` and `value`, most recently used; returns
  /// its slot. The old value goes to `out` (cause kReplaced) when a listener wants it.
  /// A kInPlace<V> value of the same weight and immortality, with no tags on either side, is
  /// overwritten in place under the slot's version (seqlock.h); otherwise a new slot is built and
  /// the old one retired (readers may still copy it).
  std::uint32_t replace(std::uint32_t i, std::uint64_t hash, K&& key, Payload<V>&& value,
                        const EntryMeta& m, std::vector<std::string>&& tags, Batch* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if constexpr (kInPlace<V>) {
      if (value.value && tags.empty() && !pool_[i].tagged && m.weight == weight_of(i) &&
          m.immortal == pool_[i].immortal) {
        update_in_place(i, *value.value, m, out);
        return i;
      }
    }
    if (out) out->push_back({pool_[i].key(), copy_payload<V>(pool_[i]), RemovalCause::kReplaced});
    std::uint32_t j;
    try {
      j = build(std::move(key), std::move(value), m, std::move(tags));
    } catch (...) {
      if (out) out->pop_back();
      throw;
    }
    index_.replace(static_cast<std::uint32_t>(hash), i, j);
    const std::int64_t delta = std::int64_t{m.weight} - std::int64_t{weight_of(i)};
    bytes_ += delta;
    add_totals(0, delta);
    order_.replace(pool_, i, j, index_.size());
    unlink(i, /*order=*/false);
    limbo_.retire(pool_, i);
    ++counters_.puts;
    ++counters_.updates;
    return j;
  }

  /// replace() of kInPlace<V> entry `i`: same slot, same weight, no tags.
  void update_in_place(std::uint32_t i, const V& value, const EntryMeta& m, Batch* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto& s = pool_[i];
    if (out) out->push_back({s.key(), copy_payload<V>(s), RemovalCause::kReplaced});
    {
      SeqWrite write(s.version);
      store_words<alignof(V), sizeof(V)>(s.value_buf, &value);
      store_field(s.written, m.written);
      store_field(s.write_deadline, m.write_deadline);
    }
    if (pool_.extras().access_deadlines) pool_.access_deadline(i) = m.expires;
    schedule(i, m.expires);
    order_.record_access(pool_, i);
    ++counters_.puts;
    ++counters_.updates;
  }

  /// Removes entry `i` for `cause`; copies it into `out` when given (readers may still be
  /// copying it: it is retired, not destroyed).
  void remove(std::uint32_t i, RemovalCause cause, Batch* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto& s = pool_[i];
    if (out) out->push_back({s.key(), copy_payload<V>(s), cause});
    index_.erase(hash32(s), i);
    unlink(i);
    const std::uint32_t weight = weight_of(i);
    switch (cause) {
      case RemovalCause::kEvicted:
        ++counters_.evictions;
        counters_.evicted_bytes += weight;
        break;
      case RemovalCause::kExpired:
        ++counters_.expirations;
        break;
      default:
        ++counters_.explicit_removals;
        break;
    }
    bytes_ -= weight;
    add_totals(-1, -std::int64_t{weight});
    limbo_.retire(pool_, i);
  }

  /// Removes slot `i` (kExpired) if is_due(its deadline). For kInPlace<V> the check and the
  /// removal happen under the slot's version, so a lock-free put that moves the deadline later
  /// either finishes first (and its deadline is the one checked) or finds the slot retired and
  /// takes the lock (update_unlocked): an expiry never drops a put that extended the entry.
  template <class IsDue>
  bool remove_if_due(std::uint32_t i, IsDue&& is_due, Batch* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    [[maybe_unused]] std::optional<SeqWrite> writer;
    if constexpr (kInPlace<V>) writer.emplace(pool_[i].version);
    if (!is_due(deadline_of(i))) return false;
    remove(i, RemovalCause::kExpired, out);
    return true;
  }

  /// Evicts the eviction order's victims, never `keep` (unless the TinyLfu's filter rejects it),
  /// while over() is true and there is one to evict; returns whether over() still holds
  /// (nothing left here to evict).
  template <class Over>
  bool evict_while(Over&& over, std::uint32_t keep, Batch* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!over()) {
      order_.settle();
      return false;
    }
    order_.prepare_eviction(pool_);
    for (std::uint32_t t = order_.victim(pool_); t != kNil && (t != keep || order_.rejected_last());
         t = order_.victim(pool_)) {
      remove(t, RemovalCause::kEvicted, out);
      if (!over()) {
        order_.settle();
        prefetch_tail();
        return false;
      }
    }
    order_.settle();
    return true;
  }
  /// Starts loading the lines that evicting the likely victim writes besides its own (which the
  /// last eviction prefetched): its index cell and its neighbour's links. For a put that is
  /// about to evict: they load while it inserts. (The victim may turn out to be another entry;
  /// EvictionOrder::likely_victim.)
  void prefetch_victim() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::uint32_t n;
    const std::uint32_t t = order_.likely_victim(pool_, &n);
    if (t == kNil) return;
    index_.prefetch(hash32(pool_[t]));
    if (n != kNil) __builtin_prefetch(&pool_.link(n));
  }
  /// Starts loading the likely victim's slot and links, which the next eviction reads first: in
  /// a full cache that has left the CPU caches they are cold lines, and the next put that evicts
  /// is usually several operations away.
  void prefetch_tail() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::uint32_t n;
    const std::uint32_t t = order_.likely_victim(pool_, &n);
    if (t == kNil) return;
    __builtin_prefetch(&pool_[t]);
    __builtin_prefetch(&pool_.link(t));
  }

  /// Removes up to `limit` entries whose deadline is at or before `now`, earliest first.
  /// A heap node's deadline is never later than its entry's: a lock-free put may have moved the
  /// entry's later (or dropped it), and the node is then moved (or dropped) when it comes due.
  /// Each node looked at counts toward `limit`; `more` is set when the limit stopped it.
  std::size_t expire(std::int64_t now, std::size_t limit, Batch* out, bool* more = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::size_t removed = 0, looked = 0;
    for (; looked < limit && !heap_.empty() && heap_.top().deadline <= now; ++looked) {
      const std::uint32_t i = heap_.top().slot;
      if (remove_if_due(
              i, [now](std::int64_t expires) { return expires <= now; }, out)) {
        ++removed;
      } else {
        schedule(i, deadline_of(i));  // moved later by a lock-free put
      }
    }
    if (more) *more = looked == limit;
    return removed;
  }

  /// Removes (kExplicit) every unexpired entry for which matches(key, data) is true, data as
  /// with_data gives it. O(slots).
  template <class Matches>
  std::size_t remove_if(Matches& matches, LazyNow& now, Batch* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::size_t n = 0;
    for (std::uint32_t i = 0, end = pool_.high_water(); i < end; ++i) {
      auto& s = pool_[i];
      if (s.state != kLive || expired(i, now)) continue;
      bool match = false;
      with_data(s, [&](const auto& data) { match = matches(std::as_const(s).key(), data); });
      if (!match) continue;
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
    const std::size_t n = index_.size();
    if (out) {
      out->reserve(out->size() + n);
      order_.for_each(pool_, [&](std::uint32_t i) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        out->push_back({pool_[i].key(), copy_payload<V>(pool_[i]), RemovalCause::kExplicit});
      });
    }
    limbo_.retire(index_.reset());
    order_.for_each(
        pool_, [&](std::uint32_t i) ABSL_NO_THREAD_SAFETY_ANALYSIS { limbo_.retire(pool_, i); });
    order_.reset();
    heap_.reset();
    tags_.reset();
    counters_.explicit_removals += n;
    add_totals(-static_cast<std::int64_t>(n), -static_cast<std::int64_t>(bytes_));
    bytes_ = 0;
    return n;
  }

  /// While one lives (shard lock held), the shard holds its changes to the shared Totals back
  /// in it and publishes their net when it ends (an exception included), so that an insert and
  /// the eviction it causes, which cancel out, write nothing to the two lines every shard
  /// shares. Meanwhile the bounds check adds delta() to the published totals; other shards'
  /// puts do not see held growth, so after it ends the caller checks the bounds against the
  /// totals again.
  class HeldTotals {
   public:
    explicit HeldTotals(Shard& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) : s_(s) {
      s_.held_ = &delta_;
    }
    ~HeldTotals() ABSL_NO_THREAD_SAFETY_ANALYSIS {  // (still under the lock the ctor required)
      s_.held_ = nullptr;
      s_.add_totals(delta_.entries, delta_.bytes);
    }
    HeldTotals(const HeldTotals&) = delete;
    HeldTotals& operator=(const HeldTotals&) = delete;
    /// What the shard has changed and not yet published.
    const TotalsDelta& delta() const noexcept { return delta_; }

   private:
    Shard& s_;
    TotalsDelta delta_;
  };

  std::uint32_t find(const Probe& p) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const Pool* pool = &pool_;  // (the analysis does not look through the pointer in the lambda)
    return index_.find(static_cast<std::uint32_t>(p.hash),
                       [&](std::uint32_t i) { return (*eq_)((*pool)[i].key(), p.key); });
  }
  void add_totals(std::int64_t entries, std::int64_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (held_) {
      held_->entries += entries;
      held_->bytes += bytes;
      return;
    }
    if (entries != 0) bounds_->entries.fetch_add(entries, std::memory_order_relaxed);
    if (bytes != 0) bounds_->bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
  std::uint32_t hash32(const SlotT& s) const noexcept {
    return static_cast<std::uint32_t>(seeded_hash(*hasher_, KeyView(s.key()), seed_));
  }
  /// `tiny` with this shard's key hash (TinyLfuConfig::hash).
  TinyLfuConfig with_hash(TinyLfuConfig tiny) const noexcept {
    tiny.hash = [](const void* self, std::uint32_t i) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      const Shard& s = *static_cast<const Shard*>(self);  // (called under s.mu)
      return s.hash32(s.pool_[i]);
    };
    tiny.ctx = this;
    return tiny;
  }

  /// A new, unpublished slot with key, value, times and tags. Throws with nothing changed.
  std::uint32_t build(K&& key, Payload<V>&& value, const EntryMeta& m,
                      std::vector<std::string>&& tags) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::uint32_t i = pool_.allocate(std::move(key), std::move(value));
    try {
      set_meta(i, m);
      pool_[i].tagged = !tags.empty();
      if (!tags.empty()) tags_.add(i, std::move(tags));
    } catch (...) {
      unbuild(i);
      throw;
    }
    return i;
  }
  /// Undoes build(i).
  void unbuild(std::uint32_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    heap_.remove(pool_, i);
    if (pool_[i].tagged) tags_.remove(i);
    pool_.release(i);
  }
  /// Takes live slot `i` out of the eviction order (unless `order` is false: the caller has),
  /// the expiry heap and the tag index.
  void unlink(std::uint32_t i, bool order = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto& s = pool_[i];
    if (order) order_.remove(pool_, i);
    heap_.remove(pool_, i);
    if (s.tagged) tags_.remove(i);
  }

  /// (Only with expire_after_access, whose caches keep access deadlines.)
  void extend_access(std::uint32_t i, std::int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::int64_t deadline =
        std::min(pool_[i].write_deadline, saturating_add(now, access_ttl_));
    std::int64_t& current = pool_.access_deadline(i);
    if (deadline != current) {
      current = deadline;
      schedule(i, deadline);
    }
  }
  void set_meta(std::uint32_t i, const EntryMeta& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto& s = pool_[i];
    s.written = m.written;
    s.write_deadline = m.write_deadline;
    s.immortal = m.immortal;
    if (pool_.extras().access_deadlines) pool_.access_deadline(i) = m.expires;
    if (pool_.extras().weights) {
      pool_.weight(i) = m.weight;
    } else {
      assert(m.weight == features_.fixed_weight);
    }
    if (m.expires != kNever) heap_.set(pool_, i, m.expires);  // a new slot: not in the heap yet
  }
  /// Keeps slot `i` in the expiry heap at `deadline`, or out of it when it never expires.
  void schedule(std::uint32_t i, std::int64_t deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (deadline != kNever) {
      heap_.set(pool_, i, deadline);
    } else {
      heap_.remove(pool_, i);
    }
  }

  Pool pool_ ABSL_GUARDED_BY(mu);  // (lock-free readers: read_unlocked)
  // Not guarded as a whole: lock-free touch() records reads in it. Its other members take the
  // pool, which names only under mu (eviction_order.h).
  EvictionOrder order_;
  ConcurrentIndex index_;    // written under mu; read by anyone in a ReadSection
  const Features features_;  // (beside the index: the hit path reads both)
  ExpiryHeap heap_ ABSL_GUARDED_BY(mu);
  TagIndex tags_ ABSL_GUARDED_BY(mu);
  ShardCounters counters_ ABSL_GUARDED_BY(mu);
  std::size_t bytes_ ABSL_GUARDED_BY(mu) = 0;
  Limbo limbo_ ABSL_GUARDED_BY(mu);
  std::vector<std::pair<K, std::shared_ptr<Flight<V>>>> flights_ ABSL_GUARDED_BY(mu);
  const Hasher* const hasher_;
  const KeyEq* const eq_;
  const std::uint64_t seed_;
  Bounds* const bounds_;
  TotalsDelta* held_ ABSL_GUARDED_BY(mu) = nullptr;  // the live HeldTotals' delta, if any
  const std::int64_t access_ttl_;                    // expire_after_access in ns (0: off)
};

}  // namespace larder::detail
