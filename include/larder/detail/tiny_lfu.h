// The frequency-aware eviction order of one shard (larder::detail): adaptive W-TinyLFU, what
// Options::policy = Policy::kTinyLfu selects.
//
// IMPLEMENTATION DETAILS
// Caffeine's W-TinyLFU (Einziger, Eden, Friedman and Manes, "Adaptive Software Cache
// Management", Middleware 2018) is the anchor. The shard's entries sit in three exact recency
// lists (recency_list.h) over the pool's links, head most recent; an entry's list is kept in its
// Slot::seen byte (which the coarse LRU uses for ticks and nothing else uses here):
//   window     new entries enter here; an LRU of window_fraction of the shard's capacity
//   probation  the main area's entries not touched since they entered it
//   protected  main entries touched again (at most 80% of the main area; its overflow is demoted
//              back to probation's head)
// An access moves an entry to its list's head (a probation entry to protected) and counts it in
// the frequency sketch (frequency_sketch.h) - except a hit on an entry still in the window: a
// re-reference soon after insertion is correlated (2Q's A1in, LRU-K's correlated reference
// period) and says nothing about long-run popularity; the window's LRU order already rewards
// it. (Measured on the trace tests: counting them cost 1-4 points on the multi* traces.)
// When the window overflows, its least recent entries move to probation's head as candidates.
// Eviction compares the oldest pending candidate with the main area's victim (probation's tail,
// else protected's): the candidate stays only if the sketch says it is seen more often
// (`admissions`); otherwise it is the one evicted (`rejected`, removed with kEvicted). In a cache
// weighed by bytes the shard keeps asking for victims until the entry fits, and the candidate
// must beat each victim it displaces; a candidate heavier than the whole main area is rejected
// outright (Caffeine's evictFromMain). Candidates not compared before the shard fits are admitted
// (settle()). Even the entry just put may be such a candidate (one heavier than the window) and
// be rejected: the shard then evicts it (rejected_last()), where an LRU never evicts its newest.
// Hash flooding: an attacker who makes a key look hot (or collides with a hot key) could keep a
// victim resident forever. As Caffeine does (BoundedLocalCache.admit: "An attack exploits that a
// hot candidate is rejected in favor of a hot victim. The threshold of a warm candidate reduces
// the number of random acceptances to minimize the impact on the hit rate."), a warm candidate
// (estimated frequency above 5) that loses is admitted anyway with probability 1/128. The sketch
// is also seeded per cache instance, so collisions cannot be precomputed across processes.
// The window's share is not fixed: a WindowTuner (window_tuner.h) shared by the cache's shards
// runs miniature simulations and publishes the fraction that would have hit most lately; each
// shard reads it when it sizes its window.
// Its members that change the order are out of line: inlined, they made the LRU policies' put
// paths, which dispatch to them in the same function, 10% longer (bench/instructions.sh).
// Lock-free hits are recorded like the exact LRU's (a per-thread stripe of a ReadBuffer, replayed
// under the lock), so a hit writes no line another thread writes; but a hit that finds its
// stripe full is mostly dropped (Caffeine's lossy read buffer): replaying a hit costs a hash and
// four sketch counters, and replaying on every full stripe made read-only GetPut 10x slower.
// Every kReplayEvery-th dropped hit replays the stripe instead (if the lock is free), so a
// read-only phase still teaches the policy what is popular, from a sample of 2 hits in 3.
//
// One of the policies of an EvictionOrder (eviction_order.h); also the policy of the tuner's
// shadow caches (shadow_cache.h), over their own small pools.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "larder/detail/frequency_sketch.h"
#include "larder/detail/read_buffer.h"
#include "larder/detail/recency_list.h"
#include "larder/detail/slot_pool.h"

namespace larder::detail {

/// What a TinyLfu needs from its shard.
struct TinyLfuConfig {
  /// The shard's share of the cache's bound: entries (count_entries) or bytes; 0: unbounded.
  std::uint64_t capacity = 0;
  /// Whether the bound counts entries (max_entries is set); else entries weigh their bytes.
  bool count_entries = true;
  /// Every entry's weight when the pool keeps no weights (Features::fixed_weight).
  std::uint32_t fixed_weight = 1;
  /// Seeds the sketch and the random admissions.
  std::uint64_t seed = 0;
  /// The window's share of the capacity in 1/65536ths, when there is no tuner.
  std::uint32_t fraction = 655;
  /// The cache's WindowTuner (window_tuner.h), if any: the share it publishes (read instead of
  /// `fraction`), and observe(tuner, hash, weight), which it is told every access through.
  const std::atomic<std::uint32_t>* tuned_fraction = nullptr;
  void (*observe)(void* tuner, std::uint32_t hash, std::uint32_t weight) = nullptr;
  void* tuner = nullptr;
  /// The 32-bit hash of slot i's key: hash(ctx, i). Called under the shard lock.
  std::uint32_t (*hash)(const void* ctx, std::uint32_t slot) = nullptr;
  const void* ctx = nullptr;
};

/// Policy counters (read under the shard lock).
struct PolicyCounters {
  std::uint64_t admissions = 0;  ///< window victims that entered the main area
  std::uint64_t rejected = 0;    ///< candidates the frequency filter evicted instead
};

class TinyLfu {
 public:
  /// Slot::seen values: the list an entry is in.
  static constexpr std::uint8_t kWindow = 0, kProbation = 1, kProtected = 2;
  /// Warm candidates (frequency above this) may be admitted at random (see the file comment).
  static constexpr unsigned kWarm = 5;
  /// A thread whose stripe is full replays it on every kReplayEvery-th hit it drops.
  static constexpr std::uint32_t kReplayEvery = 8;

  explicit TinyLfu(const TinyLfuConfig& c) noexcept
      : random_(static_cast<std::uint32_t>(c.seed >> 32) | 1), sketch_(c.seed), config_(c) {}
  TinyLfu(const TinyLfu&) = delete;
  TinyLfu& operator=(const TinyLfu&) = delete;

  // ---- without the lock ----

  /// Records a lock-free hit on live slot `i`. When the thread's stripe is full the hit is
  /// dropped, except every kReplayEvery-th such hit, which returns false: the caller then
  /// replays the stripe if the shard lock is free (Shard::touch).
  template <class SlotT>
  [[gnu::always_inline]] bool record_read(std::uint32_t i, const SlotT&) noexcept {
    if (reads_.record(i)) [[likely]]
      return true;
    return (++dropped_here() % kReplayEvery) != 0;
  }

  // ---- under the shard lock ----

  template <class Pool>
  void sync(Pool& pool) {
    reads_.drain_mine(replay(pool));
  }
  /// New entry `i`: counted, into the window; the window's overflow becomes candidates.
  template <class Pool>
  [[gnu::noinline]] void add(Pool& pool, std::uint32_t i, std::size_t size) {
    if (config_.capacity != 0) {
      // Sized for the shard's entry bound at once; by bytes, for twice what it holds, regrown.
      const std::size_t keys = config_.count_entries ? config_.capacity : size;
      if (keys > sketch_.capacity())
        sketch_.ensure_capacity(std::max(keys, 2 * sketch_.capacity()));
    }
    count(pool, i, /*window_hit=*/false);
    pool[i].seen.store(kWindow, std::memory_order_relaxed);
    window_.push_front(pool, i);
    const std::uint64_t u = units(pool, i);
    window_units_ += u;
    shrink_window(pool);
  }
  /// Entry `i` leaves.
  template <class Pool>
  [[gnu::noinline]] void remove(Pool& pool, std::uint32_t i) noexcept {
    if (i == candidate_) next_candidate(pool);
    const std::uint64_t u = units(pool, i);
    switch (pool[i].seen.load(std::memory_order_relaxed)) {
      case kWindow:
        window_.unlink(pool, i);
        window_units_ -= u;
        break;
      case kProtected:
        protected_.unlink(pool, i);
        protected_units_ -= u;
        break;
      default:
        probation_.unlink(pool, i);
        break;
    }
  }
  /// Entry `old` is replaced by `now` (a put over a live key): `now` takes its place, then counts
  /// as an access.
  template <class Pool>
  [[gnu::noinline]] void replace(Pool& pool, std::uint32_t old, std::uint32_t now,
                                 std::size_t /*size*/) {
    const std::uint8_t seg = pool[old].seen.load(std::memory_order_relaxed);
    remove(pool, old);
    const std::uint64_t u = units(pool, now);
    pool[now].seen.store(seg, std::memory_order_relaxed);
    list(seg).push_front(pool, now);
    if (seg == kWindow) window_units_ += u;
    if (seg == kProtected) protected_units_ += u;
    access(pool, now);
  }
  /// An access to live entry `i` under the lock.
  template <class Pool>
  [[gnu::noinline]] void record_access(Pool& pool, std::uint32_t i) {
    access(pool, i);
  }
  /// Before a run of victim() calls: every buffered hit, and the window within its share.
  template <class Pool>
  [[gnu::noinline]] void prepare_eviction(Pool& pool) {
    reads_.drain(replay(pool));
    shrink_window(pool);
  }
  /// The entry to evict next (see the file comment), or kNil.
  template <class Pool>
  [[gnu::noinline]] std::uint32_t victim(Pool& pool) noexcept {
    rejecting_ = false;
    if (candidate_ != kNil) {
      std::uint32_t v = probation_.tail();
      if (v == candidate_ || v == kNil) v = protected_.tail();
      const std::uint32_t c = candidate_;
      if (v == kNil || units(pool, c) > main_capacity()) return reject(pool, c);
      if (admit(c, v)) return v;  // (the candidate meets the next victim, if any)
      return reject(pool, c);
    }
    if (std::uint32_t v = probation_.tail(); v != kNil) return v;
    if (std::uint32_t v = protected_.tail(); v != kNil) return v;
    return window_.tail();
  }
  /// What victim() will likely return (kNil: none), and its headward neighbour.
  template <class Pool>
  std::uint32_t likely_victim(Pool& pool, std::uint32_t* neighbour) noexcept {
    std::uint32_t t = probation_.tail();
    if (t == kNil) t = protected_.tail();
    if (t == kNil) t = window_.tail();
    *neighbour = t == kNil ? kNil : pool.link(t).prev;
    return t;
  }
  /// Whether the last victim() was a rejected candidate (which may be the entry just put: a
  /// candidate the filter refuses is evicted even then).
  bool rejected_last() const noexcept { return rejecting_; }
  /// The shard is within its bounds again: pending candidates are admitted.
  void settle() noexcept {
    candidate_ = kNil;
    candidates_ = 0;
  }
  /// Every entry: window, protected, probation, each most recent first; f may remove i.
  template <class Pool, class F>
  void for_each(Pool& pool, F&& f) {
    for (auto* l : {&window_, &protected_, &probation_}) {
      for (std::uint32_t i = l->head(); i != kNil;) {
        const std::uint32_t next = l->next(pool, i);
        f(i);
        i = next;
      }
    }
  }
  /// Empties the order (the frequencies stay: they describe the keys, not the entries).
  void reset() noexcept {
    window_.reset();
    probation_.reset();
    protected_.reset();
    window_units_ = protected_units_ = 0;
    settle();
  }
  const PolicyCounters& counters() const noexcept { return counters_; }
  void reset_counters() noexcept { counters_ = {}; }
  /// The window's current share of the capacity (0..1).
  double window_fraction() const noexcept { return fraction() / 65536.0; }
  /// Bytes the sketch takes.
  std::size_t sketch_bytes() const noexcept { return sketch_.bytes(); }

 private:
  using List = RecencyList</*kCoarse=*/false>;

  List& list(std::uint8_t seg) noexcept {
    return seg == kWindow ? window_ : seg == kProtected ? protected_ : probation_;
  }
  template <class Pool>
  std::uint64_t units(Pool& pool, std::uint32_t i) const noexcept {
    if (config_.count_entries) return 1;
    return pool.extras().weights ? pool.weight(i) : config_.fixed_weight;
  }
  /// The window's share: what the tuner publishes, else the configured one (1/65536ths).
  std::uint32_t fraction() const noexcept {
    return config_.tuned_fraction ? config_.tuned_fraction->load(std::memory_order_relaxed)
                                  : config_.fraction;
  }
  std::uint64_t window_capacity() const noexcept {
    if (config_.capacity == 0) return ~std::uint64_t{0};  // unbounded: nothing is ever evicted
    return std::max<std::uint64_t>(1, (config_.capacity * fraction() + 32768) >> 16);
  }
  std::uint64_t main_capacity() const noexcept {
    const std::uint64_t w = window_capacity();
    return config_.capacity > w ? config_.capacity - w : 1;
  }

  /// A recorded access (a hit replayed, a put over the entry, a locked read).
  template <class Pool>
  void access(Pool& pool, std::uint32_t i) {
    const std::uint8_t seg = pool[i].seen.load(std::memory_order_relaxed);
    count(pool, i, /*window_hit=*/seg == kWindow);
    switch (seg) {
      case kWindow:
        window_.move_to_front(pool, i);
        break;
      case kProtected:
        protected_.move_to_front(pool, i);
        break;
      default: {  // probation: promoted
        if (i == candidate_) next_candidate(pool);
        probation_.unlink(pool, i);
        pool[i].seen.store(kProtected, std::memory_order_relaxed);
        protected_.push_front(pool, i);
        protected_units_ += units(pool, i);
        const std::uint64_t cap = main_capacity() * 4 / 5;
        while (protected_units_ > cap && protected_.tail() != kNil && protected_.tail() != i) {
          const std::uint32_t d = protected_.tail();
          protected_.unlink(pool, d);
          protected_units_ -= units(pool, d);
          pool[d].seen.store(kProbation, std::memory_order_relaxed);
          probation_.push_front(pool, d);
        }
        break;
      }
    }
  }
  /// Counts an access to `i` in the sketch (not a hit in the window: see the file comment) and
  /// in the tuner's simulations.
  template <class Pool>
  void count(Pool& pool, std::uint32_t i, bool window_hit) {
    if (config_.capacity == 0) return;  // (never evicts: nothing to decide)
    const std::uint32_t h = config_.hash(config_.ctx, i);
    if (!window_hit) sketch_.increment(h);
    if (config_.observe)
      config_.observe(config_.tuner, h, static_cast<std::uint32_t>(units(pool, i)));
  }

  /// Moves the window's overflow to probation's head; the oldest moved is the next candidate.
  template <class Pool>
  void shrink_window(Pool& pool) {
    const std::uint64_t cap = window_capacity();
    while (window_units_ > cap) {
      const std::uint32_t t = window_.tail();
      if (t == kNil) break;
      window_.unlink(pool, t);
      window_units_ -= units(pool, t);
      pool[t].seen.store(kProbation, std::memory_order_relaxed);
      probation_.push_front(pool, t);
      ++counters_.admissions;
      if (candidate_ == kNil) candidate_ = t;
      ++candidates_;
    }
  }
  /// The candidate after `candidate_` (moved after it, so nearer probation's head), if any.
  template <class Pool>
  void next_candidate(Pool& pool) noexcept {
    candidate_ = --candidates_ > 0 ? pool.link(candidate_).prev : kNil;
    if (candidate_ == kNil) candidates_ = 0;
  }
  template <class Pool>
  std::uint32_t reject(Pool& pool, std::uint32_t c) noexcept {
    next_candidate(pool);
    rejecting_ = true;
    --counters_.admissions;
    ++counters_.rejected;
    return c;
  }
  /// Whether candidate `c` should displace victim `v`.
  bool admit(std::uint32_t c, std::uint32_t v) noexcept {
    const unsigned fc = sketch_.frequency(config_.hash(config_.ctx, c));
    const unsigned fv = sketch_.frequency(config_.hash(config_.ctx, v));
    if (fc > fv) return true;
    if (fc <= kWarm) return false;
    return (next_random() & 127) == 0;
  }
  std::uint32_t next_random() noexcept {  // xorshift32
    random_ ^= random_ << 13;
    random_ ^= random_ >> 17;
    random_ ^= random_ << 5;
    return random_;
  }

  /// The calling thread's count of hits dropped on full stripes.
  static std::uint32_t& dropped_here() noexcept {
    thread_local std::uint32_t n = 0;
    return n;
  }
  /// Applies one buffered hit; dead slots skip.
  template <class Pool>
  auto replay(Pool& pool) noexcept {
    return [this, &pool](std::uint32_t i) {
      if (i < pool.high_water() && pool[i].state == kLive) access(pool, i);
    };
  }

  ReadBuffer</*kCoalesce=*/false> reads_;  // (first: its stripes' alignment pads nothing before it)
  List window_, probation_, protected_;
  std::uint64_t window_units_ = 0, protected_units_ = 0;
  std::uint32_t candidate_ = kNil;  // the oldest candidate not yet compared
  std::uint32_t candidates_ = 0;    // candidates pending, from candidate_ headward
  bool rejecting_ = false;          // the last victim was a rejected candidate
  std::uint32_t random_;
  PolicyCounters counters_;
  FrequencySketch sketch_;
  const TinyLfuConfig config_;
};

}  // namespace larder::detail
