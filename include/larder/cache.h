// larder/cache.h — `larder::Cache<K, V>`: a thread-safe, sharded TTL + LRU in-process cache.
//
//   #include <larder/cache.h>
//   using namespace std::chrono_literals;
//
//   larder::Cache<std::string, User> users({.name = "users", .max_entries = 100'000,
//                                           .default_ttl = 5min});
//   users.put("u:1", u);                              // default TTL
//   users.put("u:1", u, {.ttl = 30s, .tags = {"user:1"}});
//   std::optional<User> a = users.get("u:1");         // counts hit/miss, refreshes recency
//   std::optional<User> b = users.peek("u:1");        // no stats, no recency change
//   auto r = users.lookup("u:1");                     // r.value, r.hit, r.age -> X-Cache(-Age)
//   users.erase("u:1"); users.erase_prefix("u:"); users.invalidate_tag("user:1");
//   auto page = users.get_all(ids, [&](const std::vector<std::string>& missing) {
//     return db.load_users(missing);                // ONE query: vector<pair<string, User>>
//   });
//   larder::Stats s = users.stats();                  // s.hits, s.misses, s.hit_rate(), ...
//
// THREAD SAFETY. Every member function may be called concurrently from any number of threads.
// Values are returned by copy (std::optional<V>); no reference into the cache ever escapes.
// get, lookup, peek and contains take no lock and write no line another thread writes (see
// "how the hit path works" in detail/shard.h), except with Options::expire_after_access, where
// a read moves the entry's deadline and so takes its shard's lock. Writes take one shard lock,
// except the simplest put (see WHEN VALUES ARE DESTROYED): an update of a live, untagged small
// value whose deadline does not move earlier (the same TTL, a longer one, or none), by a put
// without tags, in a cache with no on_removal listener, no expire_after_access and no weigher,
// takes no lock either: it writes the entry under its version and records its access like a hit.
// (detail/features.h is where that is decided, once per cache.)
// Callbacks that run under a shard lock (erase_if's predicate, the key's hash and equality) must
// not call back into the same cache. The destructor must not race with other calls on the same
// cache, but it is safe while the background sweep runs: it waits for the sweep. (So a removal
// listener must not destroy its own cache: on the sweeper thread it cannot wait.)
//
// EVICTION ORDER. max_entries / max_bytes evict least recently used entries first. A cache of
// one shard (Options::shards = 1, or auto with max_entries below 2048) keeps exact LRU order:
// hits are buffered per thread and replayed into the list under the lock. A cache of several
// shards is LRU per shard (a put evicts from its own shard first), and each shard keeps that
// order at the grain of a tick, a sixteenth of its entries inserted: an entry read or written in
// a later tick outlives every entry last accessed in an earlier one; within a tick, insertion
// order decides. That is what lets a hit write nothing shared: it stamps its entry with the tick,
// and only when the tick moved since (detail/recency_list.h). On the reference traces and the
// benchmark's Zipf workload both stay within 0.1 percentage point of exact LRU's hit ratio.
// With Options::policy = Policy::kTinyLfu every shard runs adaptive W-TinyLFU instead
// (detail/tiny_lfu.h): new entries enter a small LRU window, and the window's oldest entry
// enters the main area only if a frequency sketch says it is requested more often than the main
// area's victim; otherwise that candidate is the entry evicted (kEvicted, Stats::rejected). The
// window's share adapts to the workload (detail/window_tuner.h, Stats::window_fraction).
//
// WHEN EXPIRY HAPPENS. An entry put at time t with TTL d is returned by reads at times < t + d and
// never at or after t + d. With expire_after_access = a, every get/lookup/put also moves that
// entry's deadline to min(t + d, now + a). An expired entry is reclaimed (memory freed, listener
// called with kExpired, Stats::expirations counted) by whichever comes first:
//   * a get/lookup/put/erase of that key,
//   * a put into the same shard (each put reclaims up to 8 expired entries of its shard; a
//     lock-free update, see THREAD SAFETY, reclaims nothing),
//   * cleanup(), or the background sweep (Options::background_cleanup, default every 1 s),
//     which works in slices of at most 256 entries per lock hold.
// peek() and contains() never reclaim; size() and bytes() count expired entries until reclaimed.
//
// WHEN LISTENERS RUN. Options::on_removal is called once per entry that leaves the cache, with
// the cause, after the shard lock is released, on the thread of the operation that removed it:
//   * kReplaced  by put() over a live entry (with the old value);
//   * kExplicit  by erase, erase_if, erase_prefix, invalidate_tag and clear();
//   * kExpired   by whatever reclaims the entry (see above) — the sweeper thread included;
//   * kEvicted   by the put() that went over max_entries / max_bytes.
// It does NOT run for the destructor, and not for a put refused with an exception.
//
// WHEN VALUES ARE DESTROYED. A removed or replaced entry's key and value are not destroyed at
// once: a lock-free reader may still be copying them. They are destroyed by a later write to the
// same shard once every read that could have seen them has finished (typically within a few
// dozen writes to that shard), or by the destructor. Memory held this way is bounded per shard.
// clear() keeps the shard's slot storage for reuse; the destructor frees it.
// One exception: a put over a live entry whose value is trivially copyable (an integer, a small
// POD; see detail::kInPlace) with the same weight, and no tags on either, overwrites the old value
// in place, under a per-entry version that lock-free readers copy under and writers take as a
// lock (detail/seqlock.h): there is nothing to destroy.
//
// ERRORS. A zero or negative TTL throws larder::InvalidArgument; a value heavier than max_bytes
// throws larder::ValueTooLarge. The cache is unchanged when an operation throws. The Hash must
// not throw (an exception from it calls std::terminate; see the class comment).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "larder/clock.h"
#include "larder/codec.h"
#include "larder/compression.h"
#include "larder/detail/fixed_array.h"
#include "larder/detail/flight.h"
#include "larder/detail/loading.h"
#include "larder/detail/mutex.h"
#include "larder/detail/read_counters.h"
#include "larder/detail/shard.h"
#include "larder/detail/sweeper.h"
#include "larder/detail/value_store.h"
#include "larder/detail/window_tuner.h"
#include "larder/detail/write_log.h"
#include "larder/errors.h"
#include "larder/glob.h"
#include "larder/hash.h"
#include "larder/options.h"
#include "larder/registry.h"
#include "larder/stats.h"

namespace larder {

/// What lookup() returns: the value if present, and what a service puts in X-Cache/X-Cache-Age.
template <class V>
struct LookupResult {
  std::optional<V> value;  ///< The value, if the key was present and not expired.
  bool hit = false;        ///< value.has_value(): "X-Cache: HIT" vs "MISS".
  /// Time since the entry was put (zero on a miss): X-Cache-Age. On the default clock, an entry
  /// put without a TTL was stamped at the kernel's last tick: its age may read ~a tick (1-4 ms)
  /// high (Options::clock).
  Duration age = Duration{};
  Duration ttl = Duration{};  ///< The TTL it was put with (kNoExpiry: none; zero on a miss).
  explicit operator bool() const noexcept { return hit; }
};

namespace detail {

template <class K, class Hash, class Eq>
inline constexpr bool kTransparentStringKey =
    std::same_as<K, std::string> &&
    (std::is_invocable_v<const Hash&, std::string_view, std::uint64_t> ||
     std::is_invocable_v<const Hash&,
                         std::string_view>)&&(std::same_as<Eq, std::equal_to<std::string>> ||
                                              std::same_as<Eq, std::equal_to<>> ||
                                              requires { typename Eq::is_transparent; });

/// A predicate over a cache's entries: pred(const K&, const V&).
template <class P, class K, class V>
concept EntryPredicate = std::predicate<P&, const K&, const V&>;

/// Equality used inside the index: std::equal_to<std::string> becomes transparent.
template <class K, class Eq>
using IndexEq =
    std::conditional_t<std::same_as<K, std::string> && std::same_as<Eq, std::equal_to<std::string>>,
                       std::equal_to<>, Eq>;

}  // namespace detail

/// A thread-safe, sharded cache with per-entry TTL, LRU eviction by entry count and/or weight,
/// tags, and statistics. See the file comment for thread safety, expiry and listener timing.
///
/// K: copyable (or movable) and hashable via larder::Hash<K> (or the `Hash` argument). Hashing
/// must not throw: it runs on paths that cannot undo a half-done operation, and an exception
/// from it ends the program (std::terminate). A Hash whose call operator is noexcept says so to
/// the compiler; one that allocates (formatting a key, say) should catch inside.
/// V: copy-constructible (reads return copies).
/// Not copyable or movable (the background sweeper refers to it); hold it in a unique_ptr to move.
template <class K, class V, class Hash = larder::Hash<K>, class Eq = std::equal_to<K>>
class Cache {
 public:
  using key_type = K;
  using mapped_type = V;
  using Options = larder::Options<K, V>;
  /// What lookups take: std::string_view for std::string keys (so "literal", std::string and
  /// string_view all look up without allocating), const K& otherwise.
  using key_view =
      std::conditional_t<detail::kTransparentStringKey<K, Hash, Eq>, std::string_view, const K&>;

 private:
  using KeyEq = detail::IndexEq<K, Eq>;
  using ShardT = detail::Shard<K, V, Hash, KeyEq, key_view>;
  /// What a braced list of keys holds (get_many({"a", "b"})).
  using KeyArg = std::remove_cvref_t<key_view>;

 public:
  /// Builds a cache. Throws larder::InvalidArgument (naming the field) for invalid options.
  explicit Cache(Options options = {}, Hash hash = Hash(), Eq eq = Eq())
      : options_(std::move(options)),
        hash_(std::move(hash)),
        eq_(make_key_eq(std::move(eq))),
        values_(options_, cache_label()) {
    options_.validate();
    seed_ = detail::instance_seed(this);
    clock_ = options_.clock.get();
    times_ = {options_.default_ttl, options_.expire_after_access.count()};
    bounds_.max_entries = static_cast<std::int64_t>(options_.max_entries);
    bounds_.max_bytes = static_cast<std::int64_t>(options_.max_bytes);
    const std::size_t n = options_.shards ? options_.shards : auto_shards(options_);
    const detail::Features features = detail::features_of(options_, n);
    const detail::TinyLfuConfig tiny = tiny_lfu_config(features, n);
    shards_.build(n, [&](std::size_t i) {
      detail::TinyLfuConfig t = tiny;
      t.seed += i;
      return ShardT(&hash_, &eq_, seed_, &bounds_, features, times_.access_ttl, t);
    });
    if (options_.registry) {
      registry_id_ = options_.registry->add(
          options_.name, "cache",
          {.info =
               [this] {
                 return CacheInfo{options_.name, "cache", stats(), std::nullopt, std::nullopt};
               },
           .clear = [this] { clear(); },
           .cleanup = [this] { return cleanup(); },
           .rebuild = [this](const std::function<void()>& fill) { return rebuild(fill); }});
    }
    if (options_.background_cleanup.count() > 0) {
      try {
        sweeper_id_ =
            detail::Sweeper::instance().add(options_.background_cleanup, [this] { cleanup(); });
      } catch (...) {
        if (registry_id_) options_.registry->remove(registry_id_);
        throw;
      }
    }
  }

  /// Destroys all entries without calling on_removal. Unregisters from Options::registry and waits
  /// for a background sweep in progress.
  ~Cache() {
    if (registry_id_) options_.registry->remove(registry_id_);  // waits for registry calls
    if (sweeper_id_) detail::Sweeper::instance().remove(sweeper_id_);
  }

  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // ---------------------------------------------------------------------------------------------
  // Reads

  /// The value for `key`, or nullopt. Counts a hit or a miss, marks the entry most recently used
  /// and (with expire_after_access) extends its life. Reclaims the entry if it has expired.
  /// O(1) expected.
  std::optional<V> get(key_view key) {
    if constexpr (!kFrames) {
      std::optional<V> result;
      read(key, [&](const auto& e, detail::LazyNow&) { result.emplace(e.value()); });
      return result;
    } else {
      std::optional<Payload> p;
      read(key, [&](const auto& e, detail::LazyNow&) { p.emplace(detail::copy_payload<V>(e)); });
      if (!p) return std::nullopt;
      return values_.materialize(std::move(*p));
    }
  }

  /// Like get(), plus the entry's age (time since its put) and the TTL it was put with: the data
  /// behind X-Cache: HIT|MISS, X-Cache-Age and Cache-Control: max-age.
  LookupResult<V> lookup(key_view key) {
    LookupResult<V> r;
    std::optional<Payload> p;
    read<true>(key, [&](const auto& e, detail::LazyNow& now) {
      if constexpr (kFrames) {
        p.emplace(detail::copy_payload<V>(e));
      } else {
        r.value.emplace(e.value());
      }
      r.age = detail::age_of(e, now);
      r.ttl = detail::stored_ttl(e);
    });
    if constexpr (kFrames) {
      if (p) r.value = values_.materialize(std::move(*p));
    }
    r.hit = r.value.has_value();
    if (!r.hit) r.age = r.ttl = Duration{};
    return r;
  }

  /// The value for `key`, or nullopt, with no side effect: no stats, no recency change, no
  /// reclaiming (an expired entry is simply not returned). O(1) expected.
  std::optional<V> peek(key_view key) const {
    std::optional<Payload> p;
    inspect(key, [&](const auto& e) { p.emplace(detail::copy_payload<V>(e)); });
    if (!p) return std::nullopt;
    return values_.materialize(std::move(*p));
  }

  /// Whether a live (unexpired) entry exists for `key`. No stats, no recency change.
  bool contains(key_view key) const {
    bool found = false;
    inspect(key, [&](const auto&) { found = true; });
    return found;
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /// Stores `value` under `key` as the most recently used entry, replacing any previous value
  /// (listener: kReplaced), with `opts.ttl` (default: Options::default_ttl) and `opts.tags`.
  /// Then evicts least recently used entries while over max_entries / max_bytes.
  /// Throws InvalidArgument for a zero/negative ttl and ValueTooLarge for a value heavier than
  /// max_bytes; the cache is unchanged then. O(1) expected, plus O(log n) with a TTL.
  void put(K key, V value, PutOptions opts = {}) {
    store(std::move(key), std::move(value), std::move(opts), /*only_if_absent=*/false);
  }

  /// Stores `value` only if no live entry exists for `key`; returns whether it stored. An existing
  /// entry is left as it is (no recency change, no stats). Same errors as put().
  bool put_if_absent(K key, V value, PutOptions opts = {}) {
    return store(std::move(key), std::move(value), std::move(opts), /*only_if_absent=*/true);
  }

  /// The value for `key`; on a miss, `loader()` computes it and it is stored with `opts`.
  /// Single-flight: concurrent misses for one key run the loader once; the others wait for that
  /// result (or its exception, which is rethrown to every waiter and not cached). No shard lock
  /// is held while the loader runs, so different keys load in parallel. A loader that waits,
  /// directly or through other keys, for its own key throws larder::LoaderCycle instead of
  /// deadlocking. Counts a hit or a miss like get(). See larder/memoize.h for TTL policies,
  /// negative caching, refresh-ahead and stale-if-error on top of this.
  ///
  ///   User u = users.get_or_load("u:1", [&] { return db.load("u:1"); }, {.ttl = 1min});
  template <detail::LoaderFor<V> Loader>
  V get_or_load(key_view key, Loader loader, PutOptions opts = {}) {
    if (std::optional<V> v = get(key)) return *std::move(v);
    auto any = [](Duration, Duration) { return true; };
    auto options_for = [&opts](const V&) -> std::optional<PutOptions> { return opts; };
    return load_single_flight(detail::LoadingKey{}, key, any, loader, options_for);
  }

  // ---------------------------------------------------------------------------------------------
  // Bulk reads and writes

  /// The values for `keys`, in their order (nullopt where absent): get() of each, so each counts
  /// a hit or a miss and refreshes recency. Any range of things that convert to key_view (a
  /// std::vector<std::string>, string_views, a braced list). O(keys).
  template <detail::KeyRange<key_view> Keys>
  std::vector<std::optional<V>> get_many(const Keys& keys) {
    std::vector<std::optional<V>> out;
    if constexpr (std::ranges::sized_range<const Keys>) out.reserve(std::ranges::size(keys));
    for (auto&& key : keys) out.push_back(get(key_view(key)));
    return out;
  }
  std::vector<std::optional<V>> get_many(std::initializer_list<KeyArg> keys) {
    return get_many<std::initializer_list<KeyArg>>(keys);
  }

  /// put() of every (key, value) pair of `entries` (std::pair, std::tuple, a map's elements),
  /// each with `opts`. All or nothing on refusal: every value is checked (and compressed) first,
  /// so InvalidArgument or ValueTooLarge leaves the cache unchanged. O(entries).
  template <detail::EntryRange<K, V> Entries>
  void put_many(const Entries& entries, const PutOptions& opts = {}) {
    std::vector<std::pair<K, Prepared>> prepared;
    if constexpr (std::ranges::sized_range<const Entries>) {
      prepared.reserve(std::ranges::size(entries));
    }
    for (auto&& e : entries) {
      const K& key = std::get<0>(e);
      prepared.emplace_back(key, prepare_put(key, V(std::get<1>(e)), opts));
    }
    for (auto& [key, p] : prepared) {
      store_prepared(std::move(key), std::move(p), PutOptions(opts), /*only_if_absent=*/false);
    }
  }

  /// The values for `keys`, in their order, loading what is missing in ONE call: hits come from
  /// the cache (counted like get()); keys already being loaded (get_or_load, cached(), another
  /// get_all) are awaited; the rest go to bulk_loader(missing), a const std::vector<K>& of each
  /// missing key once, which returns a range of (key, value) pairs (e.g. a
  /// std::vector<std::pair<K, V>>). Those are stored with `opts` and returned; a key it leaves out
  /// is absent (nullopt), and a get_or_load waiting on it gets larder::NotLoaded; pairs for keys
  /// not asked for are ignored. Single-flight per key, as get_or_load: a key is loaded once however
  /// many callers ask at the same time. An exception from bulk_loader reaches every caller waiting
  /// on those keys and is rethrown; one from a load this call waited on is rethrown too. A loaded
  /// value heavier than max_bytes is returned, not stored (Stats::uncacheable). A write of a key
  /// while it loads wins (see erase()). No lock is held while bulk_loader runs.
  ///
  ///   auto users = cache.get_all(ids, [&](const std::vector<std::string>& missing) {
  ///     return db.load_users(missing);  // std::vector<std::pair<std::string, User>>
  ///   });
  template <detail::KeyRange<key_view> Keys, detail::BulkLoaderFor<K, V> BulkLoader>
  std::vector<std::optional<V>> get_all(const Keys& keys, BulkLoader bulk_loader,
                                        const PutOptions& opts = {}) {
    opts.validate();
    auto first = [this](key_view key) { return get(key); };
    BulkLoad b = acquire_all(keys, first);
    if (!b.led.empty()) load_led(b, bulk_loader, opts);
    return finish_all(std::move(b));
  }

  /// Removes `key`; returns whether a live entry was removed (listener: kExplicit). A load of
  /// `key` in flight (get_or_load, a memoized call) then returns its result to its callers
  /// without storing it: the erase is not undone by a load that began before it.
  bool erase(key_view key) {
    const std::uint64_t h = hash_of(key);
    ShardT& s = shard_for(h);
    detail::LazyNow now(clock_);
    Batch batch;
    const bool removed = s.erase({key, h}, now, batch_ptr(batch));
    notify(batch);
    return removed;
  }

  /// Removes every live entry for which pred(const K&, const V&) returns true; returns how many.
  /// pred runs under a shard lock: it must not call this cache. O(entries). (Values stored
  /// compressed are decompressed, under the lock, to be shown to pred.)
  template <detail::EntryPredicate<K, V> Pred>
  std::size_t erase_if(Pred pred) {
    auto matches = [&](const K& key, const auto& e) {
      if constexpr (kFrames) {
        if (e.framed) {
          std::optional<V> v = values_.decode(e.frame());
          return v && static_cast<bool>(pred(key, *v));
        }
      }
      return static_cast<bool>(pred(key, e.value()));
    };
    auto no_loads = [](const K&) { return false; };  // a load in flight has no value to test
    return erase_matching(matches, no_loads);
  }

  /// Removes every live entry whose key starts with `prefix`; returns how many. String-like keys
  /// only. O(entries); looks at keys only (compressed values are not decompressed). Loads of such
  /// keys in flight store nothing (see erase()).
  std::size_t erase_prefix(
      std::string_view prefix) requires std::convertible_to<const K&, std::string_view> {
    auto has_prefix = [prefix](const K& key) {
      return std::string_view(key).substr(0, prefix.size()) == prefix;
    };
    auto matches = [&](const K& key, const auto&) { return has_prefix(key); };
    return erase_matching(matches, has_prefix);
  }

  /// Removes every live entry whose key matches the Redis glob `glob` (larder/glob.h: `* ? [...]`,
  /// `\` escapes); returns how many. String-like keys only. O(entries), under each shard's lock
  /// in turn, looking at keys only. Loads of matching keys in flight store nothing (see erase()).
  std::size_t erase_matching(std::string_view glob) {
    static_assert(std::convertible_to<const K&, std::string_view>,
                  "larder::Cache::erase_matching needs string-like keys");
    auto matches_key = [glob](const K& key) { return glob_match(glob, std::string_view(key)); };
    auto matches = [&](const K& key, const auto&) { return matches_key(key); };
    return erase_matching(matches, matches_key);
  }

  // ---------------------------------------------------------------------------------------------
  // Enumeration

  /// The keys of the live entries matching the Redis glob `glob` (default "*": all), in no
  /// particular order. String-like keys only. O(entries): a walk of every shard's slots, 256 at
  /// a time under its lock (other operations on the shard wait at most that long); an entry put
  /// or removed during the walk may or may not be listed. No stats, no recency change.
  std::vector<K> keys(std::string_view glob = "*") const {
    static_assert(std::convertible_to<const K&, std::string_view>,
                  "larder::Cache::keys needs string-like keys (use for_each for others)");
    std::vector<K> out;
    const bool all = glob == "*";
    walk([&](const K& key, const auto&) {
      if (all || glob_match(glob, std::string_view(key))) out.push_back(key);
    });
    return out;
  }

  /// Calls fn(key, value) for every live entry, in no particular order, each a consistent copy
  /// (key and value as one put left them) taken under its shard's lock, 256 entries per lock
  /// hold; fn runs with no lock held, so it may call this cache. An entry put or removed during
  /// the walk may or may not be seen. No stats, no recency change. O(entries).
  template <std::invocable<const K&, const V&> Fn>
  void for_each(Fn fn) const {
    std::vector<std::pair<K, Payload>> batch;
    for (ShardT& s : shards_) {
      detail::LazyNow now(clock_);
      for (std::uint32_t from = 0; from != detail::kNil;) {
        batch.clear();
        from = s.visit(from, kWalkSlice, now, [&](const K& key, const auto& e) {
          batch.emplace_back(key, detail::copy_payload<V>(e));
        });
        for (auto& [key, payload] : batch) {
          if (std::optional<V> v = values_.materialize(std::move(payload))) fn(key, *v);
        }
      }
    }
  }

  /// Removes every entry put with `tag` among its PutOptions::tags; returns how many.
  /// O(shards + entries with that tag).
  std::size_t invalidate_tag(std::string_view tag) {
    std::size_t n = 0;
    for (ShardT& s : shards_) {
      Batch batch;
      n += s.invalidate_tag(tag, batch_ptr(batch));
      notify(batch);
    }
    return n;
  }

  /// Removes every entry (listener: kExplicit for each; counted as explicit removals). Loads in
  /// flight store nothing (see erase()).
  void clear() {
    for (ShardT& s : shards_) {
      Batch batch;
      s.clear(batch_ptr(batch));
      notify(batch);
    }
  }

  /// Replaces the contents without a window of misses: runs fill(), which writes the new
  /// contents (put, put_many, get_or_load, ...), while readers still see the old entries; then
  /// removes (listener: kExplicit) every entry that was not written while fill() ran. Returns how
  /// many it removed. Writes by other threads during fill() count as new contents and are kept;
  /// a write racing with the start of a rebuild may be removed by it. If fill() throws, nothing
  /// is removed (the cache holds old and new entries) and the exception propagates. One rebuild
  /// at a time: a second one waits for the first. fill() must not rebuild this cache. Cost while
  /// it runs: each write also records its key (a copy, under a mutex); then one pass over the
  /// entries, as erase_if.
  template <std::invocable Fill>
  std::size_t rebuild(Fill&& fill) {
    return rebuild_with(fill, [this](const auto& written) {
      auto stale = [&](const K& key, const auto&) { return !written(key); };
      auto no_loads = [](const K&) { return false; };  // a load in flight stores what it read now
      return this->erase_matching(stale, no_loads);
    });
  }

  /// Reclaims every entry expired by now, shard by shard, looking at most 256 expiry-heap nodes
  /// per lock hold; returns how many. What the background sweep runs. O(due · log n), where due
  /// counts expired entries plus heap nodes a lock-free put left behind an entry's later deadline.
  std::size_t cleanup() {
    detail::LazyNow clock_now(clock_);
    const std::int64_t now = clock_now();
    std::size_t total = 0;
    for (ShardT& s : shards_) {
      bool more;
      do {
        Batch batch;
        total += s.expire_slice(now, kCleanupSlice, batch_ptr(batch), &more);
        notify(batch);
      } while (more);
    }
    return total;
  }

  // ---------------------------------------------------------------------------------------------
  // Observers

  /// Entries held, including expired ones not reclaimed yet. O(1).
  std::size_t size() const noexcept {
    return static_cast<std::size_t>(bounds_.entries.load(std::memory_order_relaxed));
  }
  /// Sum of the held entries' weights (see Options::weigher). O(1).
  std::size_t bytes() const noexcept {
    return static_cast<std::size_t>(bounds_.bytes.load(std::memory_order_relaxed));
  }
  /// A snapshot of the counters (see larder/stats.h). O(shards).
  Stats stats() const {
    Stats st;
    st.hits = reads_.hits();
    st.misses = reads_.misses();
    st.puts = st.updates = reads_.updates();  // lock-free puts (all updates); locked ones below
    for (ShardT& s : shards_) {
      const detail::ShardCounters c = s.counters();
      st.puts += c.puts;
      st.updates += c.updates;
      st.evictions += c.evictions;
      st.evicted_bytes += c.evicted_bytes;
      st.expirations += c.expirations;
      st.explicit_removals += c.explicit_removals;
      st.admissions += c.policy.admissions;
      st.rejected += c.policy.rejected;
    }
    st.listener_errors = listener_errors_.load(std::memory_order_relaxed);
    if (tuner_) st.window_fraction = tuner_->fraction().load(std::memory_order_relaxed) / 65536.0;
    values_.fill(st);
    st.uncacheable = uncacheable_.load(std::memory_order_relaxed);
    st.size = size();
    st.bytes = bytes();
    st.capacity = options_.max_entries;
    st.capacity_bytes = options_.max_bytes;
    return st;
  }
  /// Zeroes every counter (size and bytes stay what they are).
  void reset_stats() {
    for (ShardT& s : shards_) s.reset_counters();
    reads_.reset();
    listener_errors_.store(0, std::memory_order_relaxed);
    uncacheable_.store(0, std::memory_order_relaxed);
    values_.reset();
  }

  /// Options::name.
  const std::string& name() const noexcept { return options_.name; }
  /// The options this cache was built with.
  const Options& options() const noexcept { return options_; }
  /// Number of shards in use (Options::shards, or the auto choice).
  std::size_t shard_count() const noexcept { return shards_.size(); }

  /// The shard count Options::shards = 0 picks for `o` on this machine.
  static std::size_t auto_shards(const Options& o) noexcept {
    const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
    std::size_t n = std::min<std::size_t>(64, std::bit_ceil(4 * hw));
    if (o.max_entries)
      n = std::min(n, std::max<std::size_t>(1, std::bit_floor(o.max_entries / 1024)));
    if (o.max_bytes) {
      n = std::min(n, std::max<std::size_t>(1, std::bit_floor(o.max_bytes / (64 * 1024))));
    }
    return n;
  }

 private:
  using Batch = detail::RemovalBatch<K, V>;
  using FlightT = detail::Flight<V>;
  using SlotT = detail::Slot<K, V>;
  using Payload = detail::Payload<V>;
  /// Whether entries of V can be stored compressed (see detail::kFrameStorage).
  static constexpr bool kFrames = detail::kFrameStorage<V>;
  static constexpr std::size_t kCleanupSlice = 256;

  static KeyEq make_key_eq(Eq&& eq) {
    if constexpr (std::same_as<KeyEq, Eq>) {
      return std::move(eq);
    } else {
      return KeyEq{};
    }
  }
  std::uint64_t hash_of(key_view key) const noexcept {
    return detail::seeded_hash(hash_, key, seed_);
  }
  ShardT& shard_for(std::uint64_t h) const noexcept { return shards_[shard_index(h)]; }
  std::size_t shard_index(std::uint64_t h) const noexcept {
    return static_cast<std::size_t>(((h >> 32) * shards_.size()) >> 32);
  }
  Batch* batch_ptr(Batch& b) const noexcept { return options_.on_removal ? &b : nullptr; }

  /// get/lookup: counts a hit or a miss; on a hit calls `on_hit(entry, now)` (copy only: it runs
  /// inside a read section or under the shard lock) and refreshes the entry's recency. `entry`
  /// is the slot, or for kInPlace<V> a detail::DataCopy of its value and times; `kAge`: on_hit
  /// reads the entry's write time (lookup), which a lock-free get then need not copy.
  /// Lock-free (see detail/shard.h, "how the hit path works") unless expire_after_access is set
  /// or the entry found has expired and must be reclaimed, or is being updated in place at that
  /// moment (detail/seqlock.h): then Shard::read under the lock.
  template <bool kAge = false, class OnHit>
  [[gnu::always_inline]] void read(key_view key, OnHit&& on_hit) {
    const std::uint64_t h = hash_of(key);
    ShardT& s = shard_for(h);
    detail::LazyNow now(clock_);
    const auto got =
        s.template get_unlocked<kAge>({key, h}, now, [&](const auto& e) { on_hit(e, now); });
    if (got == ShardT::Got::kMiss) return reads_.registered_miss();
    if (got == ShardT::Got::kHit) [[likely]]
      return reads_.registered_hit();
    read_locked(key, h, s, now, on_hit);  // expired (to reclaim), busy, or access expiry
  }
  /// read()'s path under the shard lock, out of line: the lock-free path then keeps few values
  /// live and saves few registers. `on_hit` (a closure of references) is taken by value, so
  /// that the lock-free path keeps it in registers instead of storing it for this call on every
  /// read.
  template <class OnHit>
  [[gnu::noinline]] void read_locked(key_view key, std::uint64_t h, ShardT& s, detail::LazyNow& now,
                                     OnHit on_hit) {
    Batch batch;
    const bool hit = s.get({key, h}, now, batch_ptr(batch), [&](const auto& e) { on_hit(e, now); });
    if (hit) {
      reads_.hit();
    } else {
      reads_.miss();
    }
    notify(batch);
  }

  /// peek/contains/peek_with_age: hands the unexpired entry to `f` (as read() does, `kAge`
  /// included), without the lock unless expire_after_access is set or the entry is being updated
  /// in place; changes nothing.
  template <class F>
  void inspect(key_view key, F&& f) const {
    detail::LazyNow now(clock_);
    inspect<false>(key, now, f);
  }
  template <bool kAge, class F>
  void inspect(key_view key, detail::LazyNow& now, F&& f) const {
    const std::uint64_t h = hash_of(key);
    shard_for(h).template peek<kAge>({key, h}, now, f);
  }

  /// A value made ready for a put: what the slot will hold and its weight, checked.
  struct Prepared {
    Payload payload;
    std::size_t weight;
    /// How long ago the value was written elsewhere (a fill from a remote tier): the entry's
    /// write time is set back by this much, so lookup()'s age and TTL count from that write.
    Duration age{};
  };
  /// Everything a put can refuse, before anything changes: throws InvalidArgument for bad
  /// `opts`, ValueTooLarge for a value over max_bytes or compression.max_value_size.
  Prepared prepare_put(const K& key, V&& value, const PutOptions& opts) {
    opts.validate();
    Prepared p{values_.prepare(std::move(value)), 0};  // in place: a Payload move costs ~15
    p.weight = values_.weight(key, p.payload);
    check_weight(p.weight);
    return p;
  }
  /// prepare_put() of a payload already made (ValueStore::prepare): its weight, checked.
  Prepared prepare_payload(const K& key, Payload&& payload, const PutOptions& opts) {
    opts.validate();
    Prepared p{std::move(payload), 0};
    p.weight = values_.weight(key, p.payload);
    check_weight(p.weight);
    return p;
  }
  /// prepare_put() of a value read from a remote tier as `frame` (ValueStore::adopt: a
  /// compressed frame is kept as it is when this cache would keep the value compressed).
  Prepared prepare_adopted(const K& key, std::string&& frame, const V& value,
                           const PutOptions& opts, Duration age = {}) {
    opts.validate();
    Prepared p{values_.adopt(std::move(frame), value), 0, age};
    p.weight = values_.weight(key, p.payload);
    check_weight(p.weight);
    return p;
  }
  /// The bytes a remote tier stores for a prepared value (ValueStore::remote_bytes).
  std::string remote_bytes(const Prepared& p, Duration ttl) const {
    return values_.remote_bytes(p.payload, ttl);
  }

  /// A store's condition, checked inside its critical section: a fill stores only if still_valid()
  /// holds there (a TieredCache's L2 read overtaken by a write is not kept, and no reader ever
  /// sees it). Guarded stores are fills, not writes: they take the lock and mark no loads.
  using NoGuard = detail::NoGuard;

  /// put/put_if_absent; `retire` (a load's flight) is forgotten in the same critical section.
  template <class Guard = NoGuard>
  bool store(K&& key, V&& value, PutOptions&& opts, bool only_if_absent,
             const FlightT* retire = nullptr, Guard guard = {}) {
    auto prepare = [this, &value](const K& k, const PutOptions& o) {
      return prepare_put(k, std::move(value), o);
    };
    return store_with(std::move(key), std::move(opts), only_if_absent, retire, prepare, guard);
  }
  /// put() of a value prepare_put() made ready (nothing left to refuse).
  template <class Guard = NoGuard>
  bool store_prepared(K&& key, Prepared&& prepared, PutOptions&& opts, bool only_if_absent,
                      Guard guard = {}) {
    auto prepare = [&prepared](const K&, const PutOptions&) { return std::move(prepared); };
    return store_with(std::move(key), std::move(opts), only_if_absent, nullptr, prepare, guard);
  }
  /// The put itself, with prepare(key, opts) -> Prepared run first (one function: the usual put
  /// builds its Prepared in place).
  template <class Prepare, class Guard>
  bool store_with(K&& key, PutOptions&& opts, bool only_if_absent, const FlightT* retire,
                  Prepare& prepare, Guard& guard) {
    Prepared prepared = prepare(std::as_const(key), std::as_const(opts));
    const std::uint64_t h = hash_of(key);
    const std::size_t home = shard_index(h);
    ShardT& s = shards_[home];
    detail::LazyNow now(clock_);
    detail::EntryMeta meta =
        times_.meta(opts.ttl, static_cast<std::uint32_t>(prepared.weight), now);
    if (prepared.age.count() > 0) meta.written -= prepared.age.count();  // deadlines stay
    detail::Absence absent;
    constexpr bool kGuarded = !std::is_same_v<Guard, NoGuard>;
    if constexpr (!kGuarded) {  // a write, not a fill: new contents for a rebuild in progress
      if (rebuilding_.load(std::memory_order_seq_cst)) [[unlikely]]
        written_.add(key);
    }
    const bool plain = !kGuarded && !only_if_absent && !retire;
    if (s.put_unlocked({key, h}, prepared.payload, meta, opts.tags, plain, now, &absent)) {
      reads_.update();
      return true;
    }
    Batch batch;
    Batch* out = batch_ptr(batch);
    const auto r = s.put(std::move(key), h, std::move(prepared.payload), meta, std::move(opts.tags),
                         only_if_absent, retire, guard, now, out, absent);
    if (r.over) evict_elsewhere(home, out);
    notify(batch);
    return r.stored;
  }

  /// rebuild() (and TieredCache's): runs fill() while writes record their keys, then
  /// sweep(written), where written(key) tells whether `key` was written meanwhile.
  template <class Fill, class Sweep>
  std::size_t rebuild_with(Fill& fill, Sweep&& sweep) {
    std::lock_guard<std::mutex> one_at_a_time(rebuild_mu_);
    written_.clear();
    rebuilding_.store(true, std::memory_order_seq_cst);
    struct Done {
      Cache* c;
      ~Done() {
        c->rebuilding_.store(false, std::memory_order_seq_cst);
        c->written_.clear();
      }
    } done{this};
    fill();
    return sweep([this](const K& key) { return written_.contains(key); });
  }

  /// erase_if / erase_prefix: removes, shard by shard, the entries matches(key, slot) selects,
  /// and marks the loads in flight of keys stale_loads(key) selects stale.
  template <class Matches, class StaleLoads>
  std::size_t erase_matching(Matches& matches, StaleLoads& stale_loads) {
    std::size_t n = 0;
    for (ShardT& s : shards_) {
      detail::LazyNow now(clock_);
      Batch batch;
      try {
        n += s.erase_matching(matches, stale_loads, now, batch_ptr(batch));
      } catch (...) {
        notify(batch);  // what was removed before a predicate threw is still reported
        throw;
      }
      notify(batch);
    }
    return n;
  }

  // ---- single-flight loading (detail/flight.h) ----
  template <class, class, class, class>
  friend class TieredCache;  // the tier composition: prepared stores, guards, the value path

 public:
  // ---- the loading contract (detail/loading.h): for larder::cached() and TieredCache ----

  /// What acquire() found: `value`, an entry accept(age, ttl) approved; else `flight`, the load
  /// to wait on, or (`lead`) a new one the caller created and must complete.
  using Acquired = typename ShardT::Acquired;

  /// Under the key's shard lock: an acceptable live entry, else the running flight, else a new
  /// flight led by the caller (or, led_by_caller = false, by whoever runs it later).
  template <class Accept>
  Acquired acquire(detail::LoadingKey, key_view key, Accept& accept, bool led_by_caller) {
    const std::uint64_t h = hash_of(key);
    ShardT& s = shard_for(h);
    detail::LazyNow now(clock_);
    Batch batch;
    Acquired a = s.acquire({key, h}, now, batch_ptr(batch), accept, led_by_caller);
    notify(batch);
    return a;
  }

  /// How lead_flight makes a loaded value ready to store: prepare_put of a copy.
  struct PrepareCopy {
    Prepared operator()(Cache& c, const K& key, const V& v, const PutOptions& o) const {
      return c.prepare_put(key, V(v), o);
    }
  };

  /// Runs `load` for flight `f` (which the caller leads), stores the value with
  /// options_for(value) (nullopt: do not store; nor when `guard` says no, under the lock) while
  /// retiring the flight in the same critical section, and publishes the value or the exception
  /// to the flight's waiters. `make(cache, key, value, opts)` makes the value ready to store
  /// (a TieredCache hands over what it already prepared for L2, or an L2 frame to adopt).
  template <class Load, class OptionsFor, class Guard = NoGuard, class Make = PrepareCopy>
  V lead_flight(detail::LoadingKey, key_view key, const std::shared_ptr<FlightT>& f, Load& load,
                OptionsFor& options_for, Guard guard = {}, Make make = {}) {
    std::optional<V> v;
    try {
      v.emplace(load());
      std::optional<PutOptions> o = options_for(std::as_const(*v));
      if (o) {
        try {
          auto prepare = [&](const K& k, const PutOptions& po) { return make(*this, k, *v, po); };
          store_with(K(key), std::move(*o), /*only_if_absent=*/false, f.get(), prepare, guard);
        } catch (const ValueTooLarge&) {
          // Too heavy to keep: the callers still get it (reads do not throw for it).
          retire(key, f.get());
          uncacheable_.fetch_add(1, std::memory_order_relaxed);
        }
      } else {
        retire(key, f.get());
      }
    } catch (...) {
      retire(key, f.get());
      f->set_exception(std::current_exception());
      throw;
    }
    f->set_value(*v);
    return *std::move(v);
  }

  /// An acceptable entry's value, else the result of the load in flight, else the value of a
  /// load this caller leads (lead_flight).
  template <class Accept, class Load, class OptionsFor>
  V load_single_flight(detail::LoadingKey pass, key_view key, Accept& accept, Load& load,
                       OptionsFor& options_for) {
    return single_flight(key, accept, [&](const std::shared_ptr<FlightT>& f) {
      return lead_flight(pass, key, f, load, options_for);
    });
  }
  /// Forgets flight `f` of `key`, which the caller leads, without storing anything.
  void retire_flight(detail::LoadingKey, key_view key, const FlightT* f) { retire(key, f); }
  /// peek() plus the entry's age and stored TTL; no side effects.
  std::optional<std::tuple<V, Duration, Duration>> peek_with_age(detail::LoadingKey,
                                                                 key_view key) const {
    std::optional<Payload> p;
    Duration age{}, ttl{};
    detail::LazyNow now(clock_);
    inspect<true>(key, now, [&](const auto& e) {
      p.emplace(detail::copy_payload<V>(e));
      age = detail::age_of(e, now);
      ttl = detail::stored_ttl(e);
    });
    if (!p) return std::nullopt;
    std::optional<V> v = values_.materialize(std::move(*p));
    if (!v) return std::nullopt;
    return std::tuple<V, Duration, Duration>(std::move(*v), age, ttl);
  }

 private:
  /// load_single_flight with any leader: lead(flight) for a new flight the caller leads.
  template <class Accept, class Lead>
  V single_flight(key_view key, Accept& accept, Lead&& lead) {
    Acquired a = acquire(detail::LoadingKey{}, key, accept, /*led_by_caller=*/true);
    if (a.value) {
      if (std::optional<V> v = values_.materialize(std::move(*a.value))) return *std::move(v);
      // Undecodable (counted): load it again like a miss.
      a = acquire(detail::LoadingKey{}, key, kNothingAcceptable, /*led_by_caller=*/true);
    }
    if (!a.lead) return a.flight->wait();
    return lead(a.flight);
  }
  /// Calls f(key, entry) under each shard's lock for every live entry, kWalkSlice slots per lock
  /// hold (f copies only).
  template <class F>
  void walk(F&& f) const {
    for (ShardT& s : shards_) {
      detail::LazyNow now(clock_);
      for (std::uint32_t from = 0; from != detail::kNil;) from = s.visit(from, kWalkSlice, now, f);
    }
  }
  static constexpr std::uint32_t kWalkSlice = 256;

  // ---- bulk loading (get_all, here and in TieredCache) ----

  /// A flight a get_all leads: its place in the result, its key.
  struct LedLoad {
    std::size_t index;
    K key;
    std::shared_ptr<FlightT> flight;
    bool done = false;  // its result (or exception) is published
  };
  /// A get_all under way: the results so far, the flights it leads, the ones it waits on
  /// (others'), and the keys asked twice (result index, led index).
  struct BulkLoad {
    std::vector<std::optional<V>> out;
    std::vector<LedLoad> led;
    std::vector<std::pair<std::size_t, std::shared_ptr<FlightT>>> awaited;
    std::vector<std::pair<std::size_t, std::size_t>> repeats;
  };
  /// get_all's first pass: first(key) for each key (a read that counts), then, for a miss, the
  /// key's flight in flight (awaited) or a new one this call leads.
  template <class Keys, class First>
  BulkLoad acquire_all(const Keys& keys, First& first) {
    BulkLoad b;
    for (auto&& k : keys) {
      const key_view key(k);
      const std::size_t i = b.out.size();
      b.out.push_back(first(key));
      if (b.out.back()) continue;
      Acquired a = acquire(detail::LoadingKey{}, key, kAnythingAcceptable, /*led_by_caller=*/true);
      if (a.value) {
        b.out.back() = values_.materialize(std::move(*a.value));
        if (b.out.back()) continue;
        a = acquire(detail::LoadingKey{}, key, kNothingAcceptable, /*led_by_caller=*/true);
      }
      if (a.lead) {
        b.led.push_back({i, K(key), std::move(a.flight)});
        continue;
      }
      auto mine = std::find_if(b.led.begin(), b.led.end(),
                               [&](const LedLoad& l) { return l.flight == a.flight; });
      if (mine != b.led.end()) {
        b.repeats.emplace_back(i, static_cast<std::size_t>(mine - b.led.begin()));
      } else {
        b.awaited.emplace_back(i, std::move(a.flight));
      }
    }
    return b;
  }
  /// Completes led flight `l` with `v`: stored with `o` (make(cache, key, v, o) prepares it) if
  /// guard() holds under the lock and no write of the key landed meanwhile, retired in the same
  /// critical section, and published to its waiters. Too heavy to keep: returned all the same
  /// (Stats::uncacheable).
  template <class Guard, class Make>
  void complete_led(BulkLoad& b, LedLoad& l, const V& v, PutOptions o, Guard guard, Make make) {
    try {
      auto prepare = [&](const K& k, const PutOptions& po) { return make(*this, k, v, po); };
      store_with(K(l.key), std::move(o), /*only_if_absent=*/false, l.flight.get(), prepare, guard);
    } catch (const ValueTooLarge&) {
      retire(l.key, l.flight.get());
      count_uncacheable();
    }
    l.done = true;
    l.flight->set_value(v);
    b.out[l.index] = v;
  }
  /// Ends every led flight not completed yet with exception `e` (retired, nothing stored).
  void fail_led(BulkLoad& b, const std::exception_ptr& e) {
    for (LedLoad& l : b.led) {
      if (l.done) continue;
      retire(l.key, l.flight.get());
      l.flight->set_exception(e);
      l.done = true;
    }
  }
  /// Ends the led flights the bulk loader gave no value: NotLoaded to their waiters.
  void fail_unloaded(BulkLoad& b) {
    fail_led(b,
             std::make_exception_ptr(NotLoaded(
                 "larder: get_all's bulk loader returned no value for this key" + cache_label())));
  }
  /// Calls bulk_loader once with the keys of the led flights for which pending(led index) holds
  /// (not at all if none does), then on(led, value) for each pair it returns that names one of
  /// them (the first pair for a key; others are ignored). Its exception propagates.
  template <class BulkLoader, class Pending, class On>
  void run_bulk_loader(BulkLoad& b, BulkLoader& bulk_loader, Pending pending, On on) {
    std::vector<K> missing;
    std::unordered_multimap<std::uint64_t, std::size_t> where;  // hash -> led index
    for (std::size_t j = 0; j < b.led.size(); ++j) {
      if (!pending(j)) continue;
      missing.push_back(b.led[j].key);
      where.emplace(hash_of(b.led[j].key), j);
    }
    if (missing.empty()) return;
    std::vector<bool> given(b.led.size(), false);
    auto loaded = bulk_loader(std::as_const(missing));
    for (auto&& e : loaded) {
      const auto& key = std::get<0>(e);
      const auto [lo, hi] = where.equal_range(hash_of(key));
      auto it = std::find_if(
          lo, hi, [&](const auto& w) { return !given[w.second] && eq_(b.led[w.second].key, key); });
      if (it == hi) continue;  // not asked for, or given twice
      given[it->second] = true;
      on(b.led[it->second], std::get<1>(e));
    }
  }
  /// get_all's load: ONE bulk_loader call for the led keys, each value stored and published;
  /// keys it left out get NotLoaded; its exception goes to every waiter, then to the caller.
  template <class BulkLoader>
  void load_led(BulkLoad& b, BulkLoader& bulk_loader, const PutOptions& opts) {
    try {
      run_bulk_loader(
          b, bulk_loader, [](std::size_t) { return true; },
          [&](LedLoad& l, const V& v) { complete_led(b, l, v, opts, NoGuard{}, PrepareCopy{}); });
    } catch (...) {
      fail_led(b, std::current_exception());
      throw;
    }
    fail_unloaded(b);
  }
  /// get_all's end: keys asked twice get their first answer; the flights of others are awaited
  /// (NotLoaded from another get_all's loader reads as absent).
  std::vector<std::optional<V>> finish_all(BulkLoad&& b) {
    for (auto [i, l] : b.repeats) b.out[i] = b.out[b.led[l].index];
    for (auto& [i, f] : b.awaited) {
      try {
        b.out[i] = f->wait();
      } catch (const NotLoaded&) {
        // (absent: the get_all that loaded it got no value for it)
      }
    }
    return std::move(b.out);
  }

  /// Marks the loads of `key` in flight stale (flight.h): a write of the key is about to land.
  void invalidate_loads(key_view key) {
    const std::uint64_t h = hash_of(key);
    shard_for(h).invalidate_load({key, h});
  }
  /// Marks the loads in flight of keys pred(key) selects stale (for prefixes of non-string keys).
  template <class Pred>
  void invalidate_loads_if(Pred pred) {
    for (ShardT& s : shards_) s.invalidate_loads_if(pred);
  }
  /// Whether the load of flight `f` (for `key`, still in flight) may no longer store its result.
  bool superseded(key_view key, const FlightT* f) {
    const std::uint64_t h = hash_of(key);
    return shard_for(h).load_superseded({key, h}, *f);
  }
  /// Counts a value returned without being stored (Stats::uncacheable).
  void count_uncacheable() noexcept { uncacheable_.fetch_add(1, std::memory_order_relaxed); }

  void retire(key_view key, const FlightT* f) { shard_for(hash_of(key)).retire_flight(f); }

  /// After a put whose own shard had nothing left to evict: evicts from the other shards.
  void evict_elsewhere(std::size_t from, Batch* out) {
    for (std::size_t k = 1; k < shards_.size() && bounds_.over(); ++k) {
      shards_[(from + k) % shards_.size()].evict_over_bounds(out);
    }
  }

  void check_weight(std::size_t weight) const {
    if ((options_.max_bytes && weight > options_.max_bytes) ||
        weight > std::numeric_limits<std::uint32_t>::max()) [[unlikely]] {
      throw_too_large(weight);
    }
  }
  [[noreturn, gnu::cold, gnu::noinline]] void throw_too_large(std::size_t weight) const {
    if (options_.max_bytes && weight > options_.max_bytes) {
      throw ValueTooLarge("larder: value of " + std::to_string(weight) +
                          " bytes exceeds Options.max_bytes (" +
                          std::to_string(options_.max_bytes) + " bytes)" + cache_label());
    }
    throw ValueTooLarge("larder: value of " + std::to_string(weight) +
                        " bytes exceeds the per-entry limit of 4294967295 bytes" + cache_label());
  }
  std::string cache_label() const {
    return options_.name.empty() ? std::string() : " in cache \"" + options_.name + "\"";
  }

  void notify(Batch& batch) {
    if (!batch.empty()) [[unlikely]]
      notify_each(batch);
  }
  [[gnu::noinline]] void notify_each(Batch& batch) {
    for (auto& r : batch) {
      std::optional<V> v = values_.materialize(std::move(r.value));
      if (!v) continue;  // undecodable (counted in decode_errors): nothing to show
      try {
        options_.on_removal(r.key, *v, r.cause);
      } catch (...) {
        listener_errors_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  static constexpr auto kNothingAcceptable = [](Duration, Duration) { return false; };
  static constexpr auto kAnythingAcceptable = [](Duration, Duration) { return true; };

  /// The shards' TinyLfu settings (Policy::kTinyLfu: also builds the cache's tuner).
  detail::TinyLfuConfig tiny_lfu_config(const detail::Features& f, std::size_t shards) {
    detail::TinyLfuConfig c;
    if (f.recency != detail::Recency::kTinyLfu) return c;
    c.count_entries = options_.max_entries != 0 || options_.max_bytes == 0;
    const std::uint64_t bound = c.count_entries ? options_.max_entries : options_.max_bytes;
    c.capacity = bound == 0 ? 0 : (bound + shards - 1) / shards;
    c.fixed_weight = f.fixed_weight;
    c.seed = seed_ * 0x9e3779b97f4a7c15ULL;
    if (bound != 0) {
      tuner_ = std::make_unique<detail::WindowTuner>(bound, c.count_entries, c.seed);
      c.tuned_fraction = &tuner_->fraction();
      c.observe = &detail::WindowTuner::observe;
      c.tuner = tuner_.get();
    }
    return c;
  }

  Options options_;
  Hash hash_;
  KeyEq eq_;
  std::uint64_t seed_ = 0;
  std::unique_ptr<detail::WindowTuner> tuner_;  // Policy::kTinyLfu (bounded) only
  const Clock* clock_ = nullptr;
  detail::EntryTimes times_;  // what a put's times are made of (entry_time.h)
  detail::Bounds bounds_;     // max_entries / max_bytes and the totals every shard shares
  detail::ReadCounters reads_;
  detail::FixedArray<ShardT> shards_;  // side by side: shard_for is arithmetic, not a load
  std::atomic<std::uint64_t> listener_errors_{0};
  std::atomic<std::uint64_t> uncacheable_{0};
  detail::ValueStore<K, V> values_;  // (last: built from options_)
  detail::Sweeper::Id sweeper_id_ = 0;
  Registry::Id registry_id_ = 0;
  // rebuild(): the keys written while one runs (write_log.h), kept for the cache's lifetime so a
  // write that saw rebuilding_ set never touches a freed log.
  struct LogHash {
    const Cache* c;
    std::size_t operator()(const K& k) const noexcept { return c->hash_of(k); }
  };
  struct LogEq {
    const KeyEq* eq;
    bool operator()(const K& a, const K& b) const { return (*eq)(a, b); }
  };
  std::mutex rebuild_mu_;
  std::atomic<bool> rebuilding_{false};
  detail::WriteLog<K, LogHash, LogEq> written_{LogHash{this}, LogEq{&eq_}};
};

static_assert(detail::LoadingCache<Cache<std::string, std::string>>,
              "larder::Cache models the loading contract (detail/loading.h)");

}  // namespace larder
