// larder/detail/loading.h — the loading contract: how larder::cached() (and a TieredCache over its
// L1) load through a cache with single-flight. Cache and TieredCache model it.
//
// THE PROTOCOL. A load of key k goes through four calls, each taking a LoadingKey (a passkey:
// only the loaders can make one, so the calls are public without being API):
//
//   acquire(key, k, accept, led_by_caller) -> Acquired
//       In k's critical section: a live entry accept(age, ttl) approves (Acquired::value), else
//       the flight already loading k (Acquired::flight, lead = false: wait on it), else a new
//       flight the caller must complete (lead = true). With led_by_caller = false the flight is
//       led later, by whoever runs it (a refresh-ahead task).
//   lead_flight(key, k, flight, load, options_for) -> V
//       Runs load() for a flight the caller leads, stores the value with options_for(value)
//       (nullopt: not stored) unless a write of k landed meanwhile (the flight is superseded:
//       flight.h), retires the flight in the same critical section as the store, and publishes
//       the value, or load()'s exception, to the flight's waiters.
//   retire_flight(key, k, flight)
//       Forgets a led flight without storing (e.g. a refresh that could not be queued). Every
//       flight with lead = true ends in exactly one lead_flight or retire_flight.
//   load_single_flight(key, k, accept, load, options_for) -> V
//       The three above for the usual case: an acceptable entry, else wait for the running load,
//       else lead one. A TieredCache reads its L2 in the leader, before load().
//
// And peek_with_age(key, k): an entry's value, age and stored TTL, with no side effects (how a
// memoizer judges freshness).
//
// WHAT THE CACHE PROMISES. Concurrent loads of one key run load() once; waiters get its value or
// its exception (never cached). A write of k (put, erase, erase_prefix, clear, or a TieredCache
// invalidation) that lands while k loads makes that load's result not stored: its callers still
// get it. A loader that waits, directly or through other keys, for a
// key it is loading gets larder::LoaderCycle instead of a deadlock (flight.h's wait-for graph).
// No lock is held while load() runs.
//
// Anchors: Caffeine's LocalCache.computeIfAbsent / BoundedLocalCache, moka's
// value_initializer.rs (one waiter list per key, the writer invalidates pending inits).
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <vector>

#include "larder/clock.h"
#include "larder/detail/flight.h"
#include "larder/options.h"

namespace larder {

template <class K, class V, class Hash, class Eq>
class Cache;
template <class K, class V, class Hash, class Eq>
class TieredCache;

namespace detail {

template <class CacheT, class... Args>
class MemoState;

/// The passkey of the loading contract: only the loaders (and the caches themselves) make one.
class LoadingKey {
  LoadingKey() = default;
  template <class, class, class, class>
  friend class larder::Cache;
  template <class, class, class, class>
  friend class larder::TieredCache;
  template <class, class...>
  friend class MemoState;
};

/// A loader of V: callable with no arguments, its result converts to V.
template <class L, class V>
concept LoaderFor = std::invocable<L&> && std::convertible_to<std::invoke_result_t<L&>, V>;

/// A range of keys a cache's bulk calls take (get_many, get_all): its elements convert to the
/// cache's key_view.
template <class R, class KeyView>
concept KeyRange =
    std::ranges::input_range<R> && std::convertible_to<std::ranges::range_reference_t<R>, KeyView>;

/// A range of (key, value) pairs (std::pair, std::tuple, a map's elements) put_many stores.
template <class R, class K, class V>
concept EntryRange = std::ranges::input_range<R> && requires(std::ranges::range_reference_t<R> e) {
  { std::get<0>(e) } -> std::convertible_to<const K&>;
  { std::get<1>(e) } -> std::convertible_to<const V&>;
};

/// get_all's loader: called with the missing keys (const std::vector<K>&), returns a range of
/// (key, value) pairs, e.g. std::vector<std::pair<K, V>>.
template <class L, class K, class V>
concept BulkLoaderFor = std::invocable < L&,
        const std::vector<K>
& > &&EntryRange<std::invoke_result_t<L&, const std::vector<K>&>, K, V>;

/// Stand-ins for the callables a loader passes, to state the contract's signatures.
using AcceptArchetype = std::function<bool(Duration age, Duration ttl)>;
template <class V>
using LoadArchetype = std::function<V()>;
template <class V>
using OptionsForArchetype = std::function<std::optional<PutOptions>(const V&)>;

/// A cache larder::cached() can load through (see the file comment for the protocol).
template <class C>
concept LoadingCache = requires(C& c, const C& cc, LoadingKey pass, typename C::key_view k,
                                const std::shared_ptr<Flight<typename C::mapped_type>>& f,
                                AcceptArchetype& accept,
                                LoadArchetype<typename C::mapped_type>& load,
                                OptionsForArchetype<typename C::mapped_type>& options_for) {
  typename C::key_type;
  typename C::mapped_type;
  typename C::Acquired;
  { c.acquire(pass, k, accept, true) } -> std::same_as<typename C::Acquired>;
  { c.lead_flight(pass, k, f, load, options_for) } -> std::same_as<typename C::mapped_type>;
  c.retire_flight(pass, k, f.get());
  {
    c.load_single_flight(pass, k, accept, load, options_for)
    } -> std::same_as<typename C::mapped_type>;
  {
    cc.peek_with_age(pass, k)
    } -> std::same_as<std::optional<std::tuple<typename C::mapped_type, Duration, Duration>>>;
};

}  // namespace detail
}  // namespace larder
