// The order a shard evicts in (larder::detail): one seam, several policies.
//
// IMPLEMENTATION DETAILS
// A shard does not know how its entries are ordered for eviction; it tells its EvictionOrder
// what happens to them and asks it for the next victim (CacheLib's MMContainer: add / remove /
// recordAccess / getEvictionIterator). A policy is a class with the members below (the
// EvictionPolicy concept says which); the ones that change the order take the shard's pool,
// which only the holder of the shard lock can name (it is guarded by it), so the thread-safety
// analysis checks them at the call site; record_read alone runs without the lock, on the hit
// path, and must write nothing another thread writes in the common case.
//   record_read(i, slot) -> bool   a lock-free hit; false: buffer full, sync under the lock
//   sync(pool)                     before every change: the caller's pending reads
//   add(pool, i, size)             a new entry (the shard now holds `size`)
//   remove(pool, i)                an entry leaves
//   replace(pool, old, now, size)  a put over a live key: entry `now` takes `old`'s place
//   record_access(pool, i)         an access under the lock (a put over it, a locked read)
//   prepare_eviction(pool)         before a run of victim() calls
//   victim(pool) -> i | kNil       the next entry to evict (it is then removed, or not)
//   settle()                       the shard is within its bounds again (after the last victim)
// and, the TinyLfu alone (EvictionOrder asks it by type): counters(), rejected_last().
//   likely_victim(pool, &n) -> i   what victim() will likely return, and its neighbour: to prefetch
//   for_each(pool, f)              every entry (clear)
//   reset()                        empty (the shard's entries are all gone)
// The policies: ExactLru (exact_lru.h), for a one-shard cache; CoarseLru (coarse_lru.h), LRU at
// tick grain, for each shard of a cache of several; TinyLfu (tiny_lfu.h), adaptive W-TinyLFU,
// for every shard of a cache with Options::policy = kTinyLfu. Which one a cache uses is decided
// in features.h. A new policy is a new file with these members and one more entry in `Recency` and
// the list below; nothing in the shard changes.
//
// The choice is made at run time (it depends on the shard count), once per shard; every call
// dispatches on it with one compare of a byte that never changes (the compiler folds the
// alternatives' bodies in place, as an `if` on a const flag would).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <variant>

#include "larder/detail/coarse_lru.h"
#include "larder/detail/exact_lru.h"
#include "larder/detail/slot_pool.h"
#include "larder/detail/tiny_lfu.h"

namespace larder::detail {

/// The policies an EvictionOrder can run, in the order of EvictionOrder's alternatives.
enum class Recency : std::uint8_t {
  kExact,    ///< ExactLru: exact LRU (one-shard caches)
  kTinyLfu,  ///< TinyLfu: adaptive W-TinyLFU (Options::policy = kTinyLfu)
  kCoarse,   ///< CoarseLru: LRU at tick grain (each shard of a cache of several)
};

/// What a policy provides (see the file comment), for a pool of slots SlotT.
template <class P, class Pool>
concept EvictionPolicy = requires(P& p, Pool& pool, std::uint32_t i,
                                  const typename Pool::SlotT& slot, std::uint32_t* n) {
  { p.record_read(i, slot) } -> std::same_as<bool>;
  p.sync(pool);
  p.add(pool, i, std::size_t{});
  p.remove(pool, i);
  p.replace(pool, i, i, std::size_t{});
  p.record_access(pool, i);
  p.prepare_eviction(pool);
  { p.victim(pool) } -> std::same_as<std::uint32_t>;
  { p.likely_victim(pool, n) } -> std::same_as<std::uint32_t>;
  p.settle();
  p.for_each(pool, [](std::uint32_t) {});
  p.reset();
};

/// One shard's eviction order: the policy chosen when the shard was built.
class EvictionOrder {
 public:
  /// `tiny`: the TinyLfu's settings (read only for Recency::kTinyLfu, which needs its hash).
  EvictionOrder(Recency r, const TinyLfuConfig& tiny = {}) {
    switch (r) {
      case Recency::kCoarse:
        policy_.emplace<CoarseLru>();
        break;
      case Recency::kTinyLfu:
        policy_.emplace<TinyLfu>(tiny);
        break;
      case Recency::kExact:
        break;  // (the default alternative)
    }
  }
  EvictionOrder(const EvictionOrder&) = delete;
  EvictionOrder& operator=(const EvictionOrder&) = delete;

  Recency recency() const noexcept { return static_cast<Recency>(policy_.index()); }

  template <class SlotT>
  [[gnu::always_inline]] bool record_read(std::uint32_t i, const SlotT& slot) noexcept {
    return visit([&](auto& p) { return p.record_read(i, slot); });
  }
  template <class Pool>
  [[gnu::always_inline]] void sync(Pool& pool) {
    visit([&](auto& p) { p.sync(pool); });
  }
  template <class Pool>
  void add(Pool& pool, std::uint32_t i, std::size_t size) noexcept {
    visit([&](auto& p) { p.add(pool, i, size); });
  }
  template <class Pool>
  void remove(Pool& pool, std::uint32_t i) noexcept {
    visit([&](auto& p) { p.remove(pool, i); });
  }
  template <class Pool>
  void replace(Pool& pool, std::uint32_t old, std::uint32_t now, std::size_t size) {
    visit([&](auto& p) { p.replace(pool, old, now, size); });
  }
  template <class Pool>
  void record_access(Pool& pool, std::uint32_t i) {
    visit([&](auto& p) { p.record_access(pool, i); });
  }
  template <class Pool>
  void prepare_eviction(Pool& pool) {
    visit([&](auto& p) { p.prepare_eviction(pool); });
  }
  template <class Pool>
  std::uint32_t victim(Pool& pool) noexcept {
    return visit([&](auto& p) { return p.victim(pool); });
  }
  template <class Pool>
  std::uint32_t likely_victim(Pool& pool, std::uint32_t* neighbour) noexcept {
    return visit([&](auto& p) { return p.likely_victim(pool, neighbour); });
  }
  void settle() noexcept {
    if (auto* t = std::get_if<TinyLfu>(&policy_)) t->settle();  // (a no-op for the LRUs)
  }
  /// Whether the last victim() was a candidate the TinyLfu's filter refused (the only victim
  /// that may be the entry just put).
  bool rejected_last() const noexcept {
    const auto* t = std::get_if<TinyLfu>(&policy_);
    return t && t->rejected_last();
  }
  /// The TinyLfu's counters (zero for the LRU policies).
  PolicyCounters counters() const noexcept {
    const auto* t = std::get_if<TinyLfu>(&policy_);
    return t ? t->counters() : PolicyCounters{};
  }
  void reset_counters() noexcept {
    if (auto* t = std::get_if<TinyLfu>(&policy_)) t->reset_counters();
  }
  template <class Pool, class F>
  void for_each(Pool& pool, F&& f) {
    visit([&](auto& p) { p.for_each(pool, f); });
  }
  void reset() noexcept {
    visit([](auto& p) { p.reset(); });
  }

 private:
  // (The default several-shard cache's policy last: the one dispatch reaches without a compare.)
  using Policies = std::variant<ExactLru, TinyLfu, CoarseLru>;

  /// f(the policy): a chain of index compares, the last alternative unchecked.
  template <std::size_t I = 0, class F>
  [[gnu::always_inline]] std::invoke_result_t<F&, ExactLru&> visit(F&& f) {
    if constexpr (I + 1 == std::variant_size_v<Policies>) {
      if (policy_.index() != I) __builtin_unreachable();  // (never valueless: noexcept builds)
      return f(*std::get_if<I>(&policy_));
    } else {
      if (policy_.index() == I) return f(*std::get_if<I>(&policy_));
      return visit<I + 1>(std::forward<F>(f));
    }
  }

  Policies policy_;
};

}  // namespace larder::detail
