// larder/tiered.h — `larder::TieredCache<K, V>`: an in-process cache (L1) in front of a Backend
// (L2).
//
//   auto redis = std::make_shared<larder::RedisBackend>(larder::RedisOptions{
//       .uri = "redis://127.0.0.1:6379/0", .key_prefix = "users:"});
//   larder::TieredCache<std::string, User> users(
//       {.name = "users", .max_entries = 100'000, .default_ttl = 5min}, redis);
//   users.put("u:1", u);                      // L1 and L2, then other processes drop their copy
//   std::optional<User> a = users.get("u:1"); // L1, else L2 (then kept in L1), else nullopt
//   auto load = larder::cached(users, load_user, [](const std::string& id) { return id; });
//
// READS. get(): an L1 hit returns at once. On an L1 miss the L2 entry is read, decoded (Codec +
// the frame of larder/compression.h) and put into L1 with the L2 entry's remaining TTL, capped by
// L1's default_ttl; when L1 would keep the value compressed, it keeps the L2 frame as it is.
// lookup() adds which tier answered and the value's age since its write (in any process): the
// frame carries the TTL the value was written with, so the age is that minus what L2 has left,
// and an L1 copy filled from L2 keeps the write's time. Frames also carry the value type's tag
// (larder/codec.h): bytes written for another type read as a miss and a decode error.
// get_or_load() and larder::cached() add single-flight across both tiers: concurrent misses of one
// key in this process make one L2 read and at most one loader call. Reads do not throw for what L1
// cannot hold: a value heavier than L1's max_bytes (or over its max_value_size) is returned without
// being kept, counted in Stats::uncacheable.
//
// BULK. get_many() is one L1 pass plus ONE L2 read (Backend::get_many) for the misses;
// put_many() one L2 pipeline and ONE invalidation message for all its keys; get_all() one L1
// pass, one L2 read for the misses nobody in this process is loading, ONE bulk_loader call for
// what L2 lacks, and one L2 pipeline (set_many_if_absent) for its results. contains() and peek()
// read L1, else L2, and change nothing; put_if_absent() is decided by L2's SET NX, atomic across
// every process on the backend. erase_if() scans L2 and tests the decoded values, removing each
// match only if it is unchanged (Backend::erase_if_equal).
//
// TAGS. A put's PutOptions::tags reach L2 with the write (Backend::set_many_tagged: on Redis a
// sorted set per tag, in the same round trip), so invalidate_tag() removes the tag's entries from
// L2 whatever their keys, then from this L1 (its tagged entries, and the copies it filled of
// those keys), then tells the other caches on the backend (the tag, and the keys L2 removed).
// How a tag's set stays small (expired members are pruned by each tagged write, the set expires
// with its longest-lived member) and what it costs: redis_backend.h, TAGS.
//
// WRITES. put() stores in L2 and L1 (write-through, same TTL; the value is encoded and compressed
// once for both, larder/detail/value_store.h), erase()/erase_prefix()/clear()
// remove from both, and each then publishes an invalidation so that other processes' TieredCaches
// on the same backend drop their L1 copies (see COHERENCE). Once a write has returned, no read in
// this process returns an older value: an L2 read that began before it is not kept in L1, and a
// load in flight for its key (get_or_load, cached()) returns its result to its callers without
// storing it in either tier (see "FILLS AGAINST WRITES" below and larder/detail/flight.h). A
// loader's result goes to L2 with Backend::set_if_absent after the L2 miss that started it, so
// it never overwrites a write (of any process) that reached L2 after that miss; a result whose
// load was overtaken during its L2 write is taken back with Backend::erase_if_equal, which never
// removes a later write. A write by another process reaches this process's loads once its
// message arrives: a load whose L2 write lands between that process's erase and its message
// stays in L2 (the cache-aside race, bounded by the TTL), and a refresh-ahead reload (which
// overwrites on purpose) can likewise overwrite a put in that window (last writer wins). All of
// this holds while L2 answers: a write whose L2 part fails leaves L2 as it was.
//
// DEGRADATION. When L2 fails (timeout, connection, breaker open, ...) reads fall back to L1 (and,
// for get_or_load / memoized functions, to the loader), writes still land in L1, and the failure
// is counted in TieredStats::l2_errors; nothing throws unless TieredOptions::strict is set, which
// throws larder::RemoteError instead. Bytes from L2 that do not decode count as a miss and a
// decode error (TieredStats::decode_errors).
//
// COHERENCE. Invalidations travel on the backend's pub/sub channel (for Redis: a dedicated
// connection). Pub/sub rather than CLIENT TRACKING: one subscriber connection per cache, no
// per-connection tracking state to re-establish after every pool reconnect, prefix and clear
// invalidations carry as easily as keys, and it works the same on MemoryBackend. The cost: only
// writes made through larder are seen (a redis-cli SET is not). A fill that races with a write
// of its key, here or by message, is dropped again (a per-key epoch check), so a stale L2 read
// cannot outlive the write that overtook it. While the channel is down (and before it first comes
// up) L1 entries are served only while younger than TieredOptions::unsubscribed_ttl, counted from
// their put or from the moment the channel went down, whichever is later; new L1 entries are stored
// with at most that TTL. When the channel comes back, messages may have been lost: every key L1
// holds is read again from L2 (500 per round trip) and L1 keeps L2's current value, with its TTL;
// keys L2 no longer has are dropped (all of L1, when L2 fails meanwhile). So L1 stays warm and
// agrees with L2 without a read per key; TieredStats::resync_kept and resync_dropped count it.
// A cache with a TieredOptions::key_namespace marks its messages with it, and applies only the
// messages of its own namespace: caches of other namespaces on the same backend and channel
// never drop each other's L1 entries.
//
// THREAD SAFETY. Every member may be called concurrently. Destroying the TieredCache stops its
// subscription first (waiting for a message being handled).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "larder/backend.h"
#include "larder/cache.h"
#include "larder/codec.h"
#include "larder/compression.h"
#include "larder/errors.h"
#include "larder/glob.h"
#include "larder/registry.h"

namespace larder {

/// Settings of a TieredCache beyond its L1 Options. Every field says its default. Field order is
/// API.
template <class K>
struct TieredOptions {
  /// How a key becomes an L2 key (before the backend's key_prefix). Default: the string itself
  /// for std::string keys, std::to_string for integers; required for other key types.
  std::function<std::string(const K&)> key_to_string{};
  /// The inverse, for invalidations received by key. Default: as above; required for other key
  /// types.
  std::function<std::optional<K>(std::string_view)> key_from_string{};
  /// Throw larder::RemoteError when L2 fails, instead of counting and carrying on. Default false.
  bool strict = false;
  /// Subscribe to the backend's invalidation channel (cross-process coherence). Default true.
  bool invalidation = true;
  /// Longest life of an L1 entry while the invalidation channel is down. Default 1s.
  Duration unsubscribed_ttl = std::chrono::seconds(1);
  /// Register under the L1 Options::name in this registry while alive (kind "tiered"; remote
  /// errors and breaker state in its exports). Default nullptr: not registered.
  Registry* registry = nullptr;
  /// This cache's namespace on a backend it shares with other caches: its L2 keys are
  /// key_namespace + ":" + key, and its tags, clear(), erase_prefix(), erase_matching(), keys()
  /// and invalidation messages stay inside it (a clear() of one cache leaves the others' keys
  /// and L1s alone). Caches that should see each other's writes use the same namespace.
  /// Default empty: the backend's whole keyspace (within its key_prefix), as before.
  std::string key_namespace{};
};

/// Counters of a TieredCache.
struct TieredStats {
  Stats l1;                              ///< the in-process tier's own counters
  BackendStats l2;                       ///< the backend's counters (shared by everything using it)
  std::uint64_t l2_hits = 0;             ///< L1 misses answered by L2
  std::uint64_t l2_misses = 0;           ///< L1 misses L2 did not have either
  std::uint64_t l2_errors = 0;           ///< L2 operations of this cache that failed (any kind)
  std::uint64_t decode_errors = 0;       ///< L2 values that did not decode (read as misses)
  std::uint64_t invalidations_sent = 0;  ///< messages published
  std::uint64_t invalidations_received = 0;  ///< messages from other caches applied to L1
  std::uint64_t fills_dropped = 0;  ///< L2 reads not kept in L1: a write of their key overtook them
  std::uint64_t resyncs = 0;        ///< times the channel came back and L1 was checked against L2
  bool channel_up = false;          ///< the invalidation channel is live (always, when disabled)
  std::uint64_t resync_kept = 0;    ///< L1 entries a resync refreshed from L2 and kept
  std::uint64_t resync_dropped = 0;  ///< L1 entries a resync dropped: L2 no longer had them
  std::uint64_t resync_clears = 0;   ///< resyncs that cleared L1 because L2 failed
};

/// What a TieredCache write did in each tier (put, put_many). Writes do not throw for a remote
/// failure (unless TieredOptions::strict): this is how a caller tells "stored in Redis" from
/// "only in this process's L1".
struct WriteResult {
  bool l1 = false;                ///< the in-process tier holds the write
  bool l2 = false;                ///< the remote tier took it
  std::optional<Error> l2_error;  ///< why it did not, when L2 failed (also in l2_errors)
};

/// What TieredCache::erase did. Converts to bool as erase() always did: whether either tier held
/// the key.
struct EraseResult {
  bool l1 = false;                ///< the in-process tier held the key
  bool l2 = false;                ///< the remote tier held it (false also when L2 failed)
  std::optional<Error> l2_error;  ///< why L2 did not answer, when it failed
  /// Whether either tier held the key.
  bool removed() const noexcept { return l1 || l2; }
  operator bool() const noexcept { return removed(); }  // NOLINT(google-explicit-constructor)
};

/// Which tier answered a TieredCache::lookup.
enum class Tier : std::uint8_t {
  kNone,  ///< neither: a miss
  kL1,    ///< the in-process tier
  kL2,    ///< the remote tier (the value is now in L1 too)
};

/// "miss", "l1", "l2": e.g. for an X-Cache header ("HIT-L2").
constexpr std::string_view to_string(Tier t) noexcept {
  switch (t) {
    case Tier::kL1:
      return "l1";
    case Tier::kL2:
      return "l2";
    case Tier::kNone:
      break;
  }
  return "miss";
}

/// What TieredCache::lookup returns: the value, the tier that had it, and how old it is.
template <class V>
struct TieredLookupResult {
  std::optional<V> value;   ///< the value, if either tier had it
  Tier tier = Tier::kNone;  ///< which tier answered
  /// Time since the write that stored it, in any process (zero on a miss): X-Cache-Age.
  Duration age = Duration{};
  Duration ttl = Duration{};  ///< the TTL it was written with (kNoExpiry: none known; zero: miss)
  /// Whether either tier had it.
  bool hit() const noexcept { return value.has_value(); }
  explicit operator bool() const noexcept { return hit(); }
};

template <class K, class V, class Hash = larder::Hash<K>, class Eq = std::equal_to<K>>
class TieredCache {
  static_assert(Encodable<V>,
                "larder::TieredCache: no larder::Codec<T> for this value type "
                "(L2 stores bytes; see larder/codec.h)");

 public:
  using key_type = K;
  using mapped_type = V;
  using L1 = Cache<K, V, Hash, Eq>;
  using key_view = typename L1::key_view;

 private:
  /// What a braced list of keys holds (get_many({"a", "b"})).
  using KeyArg = std::remove_cvref_t<key_view>;

 public:
  /// L1 from `l1_options` (its name names this cache), L2 = `backend` (shared with others).
  /// Throws larder::InvalidArgument for invalid options or a missing key conversion.
  TieredCache(Options<K, V> l1_options, std::shared_ptr<Backend> backend,
              TieredOptions<K> options = {})
      : options_(std::move(options)),
        ns_(options_.key_namespace.empty() ? std::string() : options_.key_namespace + ":"),
        backend_(std::move(backend)),
        clock_(l1_options.clock ? l1_options.clock : std::make_shared<SteadyClock>()),
        l1_ttl_(l1_options.default_ttl.count() == 0 ? kNoExpiry : Duration(l1_options.default_ttl)),
        origin_(make_origin()),
        l1_(without_registry(std::move(l1_options))) {
    if (!backend_) throw InvalidArgument("larder: TieredCache needs a backend (got nullptr)");
    if (options_.unsubscribed_ttl.count() <= 0) {
      throw InvalidArgument("larder: TieredOptions.unsubscribed_ttl must be positive (got " +
                            detail::format_duration(options_.unsubscribed_ttl) + ")");
    }
    default_conversions();
    if (options_.registry) {
      registry_id_ = options_.registry->add(
          l1_.name(), "tiered",
          {.info = [this] { return info(); },
           .clear = [this] { clear(); },
           .cleanup = [this] { return l1_.cleanup(); },
           .rebuild = [this](const std::function<void()>& fill) { return rebuild(fill); }});
    }
    if (options_.invalidation) {
      down_since_.store(now_ns());
      subscription_ =
          backend_->subscribe({.on_message = [this](std::string_view m) { on_message(m); },
                               .on_state = [this](bool up) { on_channel(up); }});
    } else {
      channel_up_.store(true);
    }
  }

  ~TieredCache() {
    subscription_.reset();  // no handler runs past this line
    if (registry_id_) options_.registry->remove(registry_id_);
  }
  TieredCache(const TieredCache&) = delete;
  TieredCache& operator=(const TieredCache&) = delete;

  // ---------------------------------------------------------------------------------------------
  // Reads

  /// L1, else L2 (kept in L1 with the remaining TTL), else nullopt. An L2 failure reads as a miss
  /// (counted; RemoteError in strict mode).
  std::optional<V> get(key_view key) {
    if (std::optional<V> v = get_local(key)) return v;
    std::optional<Filled> f = fill_from_l2(key);
    if (!f) return std::nullopt;
    return std::move(f->value);
  }

  /// get() plus which tier answered and how old the value is: the data behind X-Cache (an L1
  /// hit, an L2 hit, a miss) and X-Cache-Age. The age counts from the write that stored the
  /// value, in whichever process made it: for an L2 hit, the TTL its frame was written with minus
  /// what L2 has left (no other machine's clock is read), and an L1 entry filled from L2 keeps
  /// that write time (while the channel is up). An L2 entry without a TTL, or written before
  /// frames carried one, reads age 0 with ttl kNoExpiry.
  TieredLookupResult<V> lookup(key_view key) {
    TieredLookupResult<V> out;
    if (LookupResult<V> local = lookup_local(key); local.hit) {
      out.value = std::move(local.value);
      out.tier = Tier::kL1;
      out.age = local.age;
      out.ttl = local.ttl;
      return out;
    }
    std::optional<Filled> f = fill_from_l2(key);
    if (!f) return out;
    out.value = std::move(f->value);
    out.tier = Tier::kL2;
    out.age = f->age;
    out.ttl = f->written_ttl;
    return out;
  }

  /// L1 only (the degraded-channel age rule applies); counts an L1 hit or miss.
  std::optional<V> get_local(key_view key) {
    if (channel_up_.load(std::memory_order_acquire)) return l1_.get(key);
    return std::move(lookup_local(key).value);
  }

  /// L1's lookup (value, hit, age) under the degraded-channel age rule.
  LookupResult<V> lookup_local(key_view key) {
    LookupResult<V> r = l1_.lookup(key);
    if (r.hit && !channel_up_.load(std::memory_order_acquire) && !young_enough(r.age)) {
      return LookupResult<V>{};
    }
    return r;
  }

  /// The value for `key` from L1, else L2, else `loader()` (stored in both tiers with `opts`).
  /// Single-flight across the tiers: one L2 read and one loader call per key at a time in this
  /// process; the others wait for that result.
  template <detail::LoaderFor<V> Loader>
  V get_or_load(key_view key, Loader loader, PutOptions opts = {}) {
    if (std::optional<V> v = get_local(key)) return *std::move(v);
    auto any = [](Duration, Duration) { return true; };
    auto options_for = [&opts](const V&) -> std::optional<PutOptions> { return opts; };
    return load_single_flight(detail::LoadingKey{}, key, any, loader, options_for);
  }

  /// Whether a live entry for `key` is in L1 (under the degraded-channel age rule) or L2. No
  /// stats, no recency change, nothing kept in L1; an L2 failure reads as absent (counted;
  /// RemoteError in strict mode). Costs an L2 round trip when L1 does not have it.
  bool contains(key_view key) { return peek_tiers(key, /*want_value=*/false).has_value(); }

  /// The value for `key` from L1, else L2, with no side effect: no stats, no recency change,
  /// nothing kept in L1 (an L2 failure reads as absent: counted, RemoteError in strict mode).
  std::optional<V> peek(key_view key) {
    std::optional<std::optional<V>> v = peek_tiers(key, /*want_value=*/true);
    if (!v) return std::nullopt;
    return std::move(*v);
  }

  // ---------------------------------------------------------------------------------------------
  // Bulk reads and writes

  /// get() of every key in ONE L1 pass, then ONE L2 read (Backend::get_many) for the keys L1 did
  /// not have; what L2 had is kept in L1 as get() keeps it. In the caller's order, nullopt where
  /// absent; an L2 failure reads as misses (counted; RemoteError in strict mode).
  template <detail::KeyRange<key_view> Keys>
  std::vector<std::optional<V>> get_many(const Keys& keys) {
    std::vector<std::optional<V>> out;
    std::vector<Miss> misses;
    for (auto&& k : keys) {
      const key_view key(k);
      out.push_back(get_local(key));
      if (!out.back()) misses.push_back(miss_of(out.size() - 1, key));
    }
    if (misses.empty()) return out;
    std::vector<std::optional<Filled>> filled = read_l2_many(misses);
    for (std::size_t j = 0; j < misses.size(); ++j) {
      if (!filled[j]) continue;
      Miss& m = misses[j];
      out[m.index] = filled[j]->value;
      keep_in_l1(key_view(m.key), std::move(filled[j]->frame), filled[j]->value,
                 std::min(filled[j]->ttl, l1_ttl_), filled[j]->age, not_overtaken(m.epoch));
    }
    return out;
  }
  std::vector<std::optional<V>> get_many(std::initializer_list<KeyArg> keys) {
    return get_many<std::initializer_list<KeyArg>>(keys);
  }

  /// The values for `keys`, in their order, as get_or_load would give each, loading what is
  /// missing in bulk: ONE L1 pass; for the misses no load in this process is already running for,
  /// ONE L2 read (Backend::get_many); for what L2 did not have, ONE bulk_loader(missing) call
  /// (a const std::vector<K>&, each key once; it returns (key, value) pairs, as Cache::get_all's).
  /// Loaded values go to L2 in ONE pipeline (Backend::set_many_if_absent after an L2 miss, so a
  /// write that reached L2 meanwhile is never overwritten), then to L1, then ONE invalidation
  /// message. Keys the loader leaves out are absent (a get_or_load waiting on one gets
  /// larder::NotLoaded). Single-flight per key with get_or_load, cached() and other get_alls in
  /// this process. The loader's exception reaches every waiter and is rethrown; an L2 failure
  /// reads as misses (counted; RemoteError in strict mode).
  template <detail::KeyRange<key_view> Keys, detail::BulkLoaderFor<K, V> BulkLoader>
  std::vector<std::optional<V>> get_all(const Keys& keys, BulkLoader bulk_loader,
                                        PutOptions opts = {}) {
    opts.validate();
    auto first = [this](key_view key) { return get_local(key); };
    typename L1::BulkLoad b = l1_.acquire_all(keys, first);
    if (!b.led.empty()) {
      try {
        load_led(b, bulk_loader, opts);
      } catch (...) {
        l1_.fail_led(b, std::current_exception());
        throw;
      }
      l1_.fail_unloaded(b);
    }
    return l1_.finish_all(std::move(b));
  }

  /// put() of every (key, value) pair of `entries`, each with `opts`: every value is checked
  /// (and compressed) first, so InvalidArgument or ValueTooLarge changes nothing; then ONE L2
  /// pipeline (Backend::set_many), L1, and ONE invalidation message for all the keys. Returns
  /// what each tier did (l1: every entry stored).
  template <detail::EntryRange<K, V> Entries>
  WriteResult put_many(const Entries& entries, PutOptions opts = {}) {
    opts.validate();  // (refused even with no entries)
    std::vector<std::pair<K, Write>> items;
    PutOptions l1_opts = opts;
    for (auto&& e : entries) {
      K key(std::get<0>(e));
      l1_opts = opts;
      Write w = prepare_write(key, V(std::get<1>(e)), l1_opts);
      items.emplace_back(std::move(key), std::move(w));
    }
    WriteResult out;
    if (items.empty()) return out;
    std::vector<BackendItem> l2;
    l2.reserve(items.size());
    for (const auto& [key, w] : items) {
      l1_.invalidate_loads(key);  // L2, then L1, as put() does
      l2.push_back({w.l2_key, w.bytes});
    }
    const Result<void> r = l2_set_many(l2, items[0].second.ttl, opts.tags);
    for (const auto& [key, w] : items) bump(w.l2_key);
    out.l1 = true;
    for (auto& [key, w] : items) {
      out.l1 &= l1_.store_prepared(std::move(key), std::move(w.prepared), PutOptions(l1_opts),
                                   /*only_if_absent=*/false);
    }
    if (!r) out.l2_error = r.error();
    out.l2 = remote(r);
    if (out.l2) {
      std::vector<std::string_view> keys;
      keys.reserve(items.size());
      for (const auto& [key, w] : items) keys.push_back(w.l2_key);
      announce_keys(keys);
    }
    return out;
  }

  /// Stores `value` only if neither tier holds `key`, deciding in L2 (Backend::set_if_absent,
  /// atomic across every process on the backend); returns whether it stored. Then L1 and an
  /// invalidation, as put(). When L2 fails, L1 decides alone (Cache::put_if_absent; counted,
  /// RemoteError in strict mode). Throws like put() for bad options or a too-large value.
  bool put_if_absent(K key, V value, PutOptions opts = {}) {
    Write w = prepare_write(key, std::move(value), opts);
    const Result<bool> r = l2_set_if_absent(w.l2_key, w.bytes, w.ttl, opts.tags);
    if (r && !*r) return false;  // L2 holds it: nothing changes
    if (!remote(r)) {
      return l1_.store_prepared(std::move(key), std::move(w.prepared), std::move(opts),
                                /*only_if_absent=*/true);
    }
    l1_.invalidate_loads(key);  // (after L2 here: a load's own set_if_absent now fails)
    bump(w.l2_key);
    l1_.store_prepared(std::move(key), std::move(w.prepared), std::move(opts),
                       /*only_if_absent=*/false);
    announce('k', w.l2_key);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /// Stores in L1 and L2 (same TTL: opts.ttl, else L1's default_ttl), then publishes an
  /// invalidation. Throws like Cache::put for bad options or a too-large value; an L2 failure is
  /// counted (RemoteError in strict mode, after L1 was written). Returns what each tier did.
  WriteResult put(K key, V value, PutOptions opts = {}) {
    Write w = prepare_write(key, std::move(value), opts);
    // L2, then L1 (see "FILLS AGAINST WRITES"): loads in flight first learn not to store.
    l1_.invalidate_loads(key);
    const Result<void> r = l2_set(w.l2_key, w.bytes, w.ttl, opts.tags);
    bump(w.l2_key);
    WriteResult out;
    out.l1 = l1_.store_prepared(std::move(key), std::move(w.prepared), std::move(opts),
                                /*only_if_absent=*/false);
    if (!r) out.l2_error = r.error();
    out.l2 = remote(r);
    if (out.l2) announce('k', w.l2_key);
    return out;
  }

  /// Removes `key` from both tiers and publishes an invalidation; returns which tiers held it
  /// (as a bool: whether either did) and L2's error if it failed.
  EraseResult erase(key_view key) {
    const std::string k = l2_key(K(key));
    l1_.invalidate_loads(key);  // L2, then L1, as put() does
    Result<bool> r = backend_->erase(k);
    bump(k);
    EraseResult e;
    e.l1 = l1_.erase(key);
    if (!r) e.l2_error = r.error();
    if (remote(r)) {
      e.l2 = *r;
      announce('k', k);
    }
    return e;
  }

  /// Removes every key starting with `prefix` from both tiers (L2: SCAN + UNLINK within the
  /// backend's namespace and this cache's key_namespace) and publishes an invalidation; returns
  /// how many keys L2 removed (L1's count when L2 fails: counted, RemoteError in strict mode), as
  /// erase_matching() and invalidate_tag() do: L2 holds every key written, so its count is the
  /// number of entries that went.
  std::size_t erase_prefix(std::string_view prefix) {
    // L1 before L2 too: loads in flight under the prefix learn not to store (flight.h).
    std::size_t n = erase_local_prefix(prefix);
    Result<std::size_t> r = backend_->erase_prefix(ns_ + std::string(prefix));
    bump_all();
    n += erase_local_prefix(prefix);
    if (!remote(r)) return n;
    announce('p', prefix);
    return *r;
  }

  /// Removes every key matching the Redis glob `glob` (larder/glob.h) from both tiers (L2: SCAN
  /// MATCH + UNLINK within the backend's namespace), and tells the other caches on the backend to
  /// drop their matching L1 entries; returns how many keys L2 removed (L1's count when L2 fails:
  /// counted, RemoteError in strict mode). O(keys in the database) on Redis. String-like keys
  /// (or keys with key_to_string: L1 is then matched by their string form).
  std::size_t erase_matching(std::string_view glob) {
    std::size_t n = erase_local_matching(glob);  // before L2 too: loads in flight learn
    Result<std::size_t> r = backend_->erase_matching(glob_escape(ns_) + std::string(glob));
    bump_all();
    n += erase_local_matching(glob);
    if (!remote(r)) return n;
    announce('g', glob);
    return *r;
  }

  /// Removes every entry for which pred(const K&, const V&) returns true from both tiers, and
  /// tells the other caches on the backend to drop those keys; returns how many L2 removed
  /// (plus L1's count of its own matches when L2 fails: counted, RemoteError in strict mode).
  /// L2 is scanned (Backend::keys of this namespace: SCAN on Redis, O(keys in the database)),
  /// its values read 500 at a time (one get_many each) and decoded, and each match removed with
  /// Backend::erase_if_equal: a value written after it was tested is never removed. Values that
  /// do not decode are left alone (counted in decode_errors). Then this L1 drops its own matches
  /// (entries only it holds). pred sees L2's values outside any lock and L1's under a shard lock:
  /// it must not call this cache. Cost: the scan, one round trip per 500 keys, and one per match.
  template <detail::EntryPredicate<K, V> Pred>
  std::size_t erase_if(Pred pred) {
    Result<std::vector<std::string>> listed = backend_->keys(glob_escape(ns_) + "*");
    bool l2_ok = remote(listed);
    std::size_t removed = 0;
    std::vector<std::string> gone;
    for (std::size_t i = 0; l2_ok && i < listed->size(); i += kReadBatch) {
      const std::size_t end = std::min(listed->size(), i + kReadBatch);
      const std::vector<std::string_view> batch(listed->begin() + static_cast<std::ptrdiff_t>(i),
                                                listed->begin() + static_cast<std::ptrdiff_t>(end));
      Result<std::vector<std::optional<BackendEntry>>> read = backend_->get_many(batch);
      if (!(l2_ok = remote(read))) break;
      for (std::size_t j = 0; j < batch.size() && j < read->size(); ++j) {
        const std::optional<BackendEntry>& e = (*read)[j];
        std::optional<K> key = e ? from_l2_key(batch[j]) : std::nullopt;
        if (!key) continue;
        Result<V> v = decode_framed<V>(e->value, l1_.values_.compression().max_value_size);
        if (!v) {
          decode_errors_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (!static_cast<bool>(pred(std::as_const(*key), std::as_const(*v)))) continue;
        l1_.invalidate_loads(*key);  // L2, then L1, as erase() does
        const Result<bool> erased = backend_->erase_if_equal(batch[j], e->value);
        if (!(l2_ok = remote(erased))) break;
        bump(batch[j]);
        l1_.erase(*key);
        if (*erased) {
          ++removed;
          gone.emplace_back(batch[j]);
        }
      }
    }
    const std::size_t local = l1_.erase_if(pred);
    announce_removed(gone);
    return l2_ok ? removed : removed + local;
  }

  /// Replaces the contents of both tiers without a window of misses (as Cache::rebuild): runs
  /// fill(), which writes the new contents through this cache (put, put_many, ...) while readers
  /// in every process still see the old ones; then removes, from L2 in every process and from this
  /// L1 (erase_if, with its guarantees and cost), each key no write of this process made while
  /// fill() ran. Returns what erase_if returns. Writes that only other processes make meanwhile
  /// are not seen here and are removed: rebuild a shared cache from one process. Values L1 read
  /// from L2 meanwhile are fills, not writes. If fill() throws, nothing is removed.
  template <std::invocable Fill>
  std::size_t rebuild(Fill&& fill) {
    return l1_.rebuild_with(fill, [this](const auto& written) {
      return this->erase_if([&](const K& key, const V&) { return !written(key); });
    });
  }

  /// The keys matching `glob` in either tier: L2's (SCAN MATCH, O(keys in the database) on
  /// Redis) and this L1's (entries only L1 holds: an L2 write that failed), each once, in no
  /// particular order. An L2 failure lists L1's alone (counted; RemoteError in strict mode).
  std::vector<K> keys(std::string_view glob = "*") {
    std::vector<K> out;
    Result<std::vector<std::string>> r = backend_->keys(glob_escape(ns_) + std::string(glob));
    if (remote(r)) {
      for (const std::string& k : *r) {
        if (std::optional<K> key = from_l2_key(k)) out.push_back(std::move(*key));
      }
    }
    std::vector<K> local;
    if constexpr (std::convertible_to<const K&, std::string_view>) {
      local = l1_.keys(glob);
    } else {
      l1_.for_each([&](const K& k, const V&) {
        if (glob_match(glob, options_.key_to_string(k))) local.push_back(k);
      });
    }
    out.insert(out.end(), local.begin(), local.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  /// Removes every entry put with `tag` among its PutOptions::tags, in every process on the
  /// backend: L2 removes the tag's members (Backend::erase_tagged), then this L1 drops its tagged
  /// entries and the copies it read of those keys, and one message tells the other caches to do
  /// the same. Returns how many keys L2 removed (L1's count when L2 fails: counted, RemoteError in
  /// strict mode). A tagged put that lands while it runs may survive it (it came after); a load
  /// in flight elsewhere stores its result after it (the cache-aside window, bounded by the TTL).
  /// Cost: one round trip per 500 members, and one message per 4,096 keys removed.
  std::size_t invalidate_tag(std::string_view tag) {
    Result<std::vector<std::string>> r = backend_->erase_tagged(ns_ + std::string(tag));
    bump_all();  // whatever it removed, fills in progress are not kept
    std::size_t n = l1_.invalidate_tag(tag);
    if (!remote(r)) return n;
    for (const std::string& k : *r) {
      if (std::optional<K> key = from_l2_key(k)) l1_.erase(*key);
    }
    announce('t', tag);
    announce_removed(*r);
    return r->size();
  }

  /// Removes everything from L1 and every key of L2 within this cache's key_namespace (all of
  /// the backend's keys when it has none), and tells the other caches of that namespace to clear
  /// their L1; caches of other namespaces keep theirs. (A namespace's tag sets are not keys: they
  /// outlive a clear() until their members' TTLs, naming keys that are gone.)
  void clear() {
    l1_.clear();  // before L2 too: loads in flight learn not to store (flight.h)
    const Result<std::size_t> r = backend_->erase_prefix(ns_);
    bump_all();
    l1_.clear();
    if (remote(r)) announce('a', "");
  }

  /// Reclaims expired L1 entries (see Cache::cleanup).
  std::size_t cleanup() { return l1_.cleanup(); }

  // ---------------------------------------------------------------------------------------------
  // Observers

  TieredStats stats() const {
    TieredStats s;
    s.l1 = l1_.stats();
    s.l2 = backend_->stats();
    s.l2_hits = l2_hits_.load(std::memory_order_relaxed);
    s.l2_misses = l2_misses_.load(std::memory_order_relaxed);
    s.l2_errors = l2_errors_.load(std::memory_order_relaxed);
    s.decode_errors = decode_errors_.load(std::memory_order_relaxed);
    s.invalidations_sent = sent_.load(std::memory_order_relaxed);
    s.invalidations_received = received_.load(std::memory_order_relaxed);
    s.fills_dropped = fills_dropped_.load(std::memory_order_relaxed);
    s.resyncs = resyncs_.load(std::memory_order_relaxed);
    s.resync_kept = resync_kept_.load(std::memory_order_relaxed);
    s.resync_dropped = resync_dropped_.load(std::memory_order_relaxed);
    s.resync_clears = resync_clears_.load(std::memory_order_relaxed);
    s.channel_up = channel_up_.load(std::memory_order_acquire);
    return s;
  }
  /// The in-process tier.
  L1& l1() noexcept { return l1_; }
  /// The remote tier.
  Backend& backend() noexcept { return *backend_; }
  /// L1's name.
  const std::string& name() const noexcept { return l1_.name(); }
  /// Whether the invalidation channel is live.
  bool channel_up() const noexcept { return channel_up_.load(std::memory_order_acquire); }

  /// Blocks until at least `count` invalidations from other caches have been applied, or
  /// `timeout` passes; returns whether they were. For tests and tools that need to know a remote
  /// write has reached this L1.
  bool wait_for_invalidations(std::uint64_t count, Duration timeout) {
    std::unique_lock<std::mutex> lock(wait_mu_);
    return wait_cv_.wait_for(lock, timeout,
                             [&] { return received_.load(std::memory_order_acquire) >= count; });
  }
  /// Blocks until the channel is up (or down: `up` false), or `timeout` passes.
  bool wait_for_channel(bool up, Duration timeout) {
    std::unique_lock<std::mutex> lock(wait_mu_);
    return wait_cv_.wait_for(lock, timeout,
                             [&] { return channel_up_.load(std::memory_order_acquire) == up; });
  }

 private:
  struct Filled {
    V value;
    Duration ttl;       // what L2 has left
    std::string frame;  // as L2 stored it (L1 may keep it as it is: ValueStore::adopt)
    Duration age{};     // since its write (the frame's TTL minus what is left; 0: not known)
    Duration written_ttl = kNoExpiry;  // the TTL it was written with (kNoExpiry: none known)
  };

  static Options<K, V> without_registry(Options<K, V> o) {
    o.registry = nullptr;  // the TieredCache registers itself (kind "tiered")
    return o;
  }

  /// This cache's id in its messages: 16 random hex digits.
  static std::string make_origin() {
    std::random_device rd;
    const std::uint64_t id =
        (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex(16, '0');
    for (int i = 0; i < 16; ++i) hex[i] = kHex[(id >> (60 - 4 * i)) & 0xF];
    return hex;
  }

  void default_conversions() {
    if (!options_.key_to_string) {
      if constexpr (std::same_as<K, std::string>) {
        options_.key_to_string = [](const K& k) { return k; };
      } else if constexpr (std::integral<K>) {
        options_.key_to_string = [](const K& k) { return std::to_string(k); };
      } else {
        throw InvalidArgument("larder: TieredOptions.key_to_string is required for this key type");
      }
    }
    if (!options_.key_from_string) {
      if constexpr (std::same_as<K, std::string>) {
        options_.key_from_string = [](std::string_view s) { return std::optional<K>(K(s)); };
      } else if constexpr (std::integral<K>) {
        options_.key_from_string = [](std::string_view s) -> std::optional<K> {
          K k{};
          auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), k);
          if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
          return k;
        };
      } else {
        throw InvalidArgument(
            "larder: TieredOptions.key_from_string is required for this key type");
      }
    }
  }

  std::int64_t now_ns() const { return clock_->now().time_since_epoch().count(); }

  /// Degraded rule: an entry of age `age` may be served while younger than unsubscribed_ttl,
  /// counted from its put or from when the channel went down, whichever is later.
  bool young_enough(Duration age) const {
    const Duration limit = options_.unsubscribed_ttl;
    if (age < limit) return true;
    return Duration{now_ns() - down_since_.load(std::memory_order_acquire)} < limit;
  }

  /// `accept` (an L1 entry's age and TTL -> whether a load may return it) under the
  /// degraded-channel rule: while the channel is down, only entries young_enough() are.
  template <class Accept>
  auto degraded_rule(Accept& accept) const {
    return [this, &accept](Duration age, Duration ttl) {
      return (channel_up_.load(std::memory_order_acquire) || young_enough(age)) && accept(age, ttl);
    };
  }

  /// How far back an L1 fill's write time is set (Cache::Prepared::age): the L2 entry's age
  /// while the channel is up; none while it is down, where an L1 entry's own age is how long
  /// ago this process last read it from L2 (the unsubscribed_ttl rule).
  Duration l1_age(Duration age) const {
    return channel_up_.load(std::memory_order_acquire) ? age : Duration{};
  }

  /// TTL of an L1 store of something with TTL `ttl` (capped while degraded).
  Duration l1_put_ttl(Duration ttl) const {
    if (!channel_up_.load(std::memory_order_acquire)) {
      return std::min(ttl, options_.unsubscribed_ttl);
    }
    return ttl;
  }

  /// Counts a failed L2 result (throws in strict mode); returns whether it succeeded.
  template <class R>
  bool remote(const R& r) {
    if (r) return true;
    l2_errors_.fetch_add(1, std::memory_order_relaxed);
    if (options_.strict) throw RemoteError(r.error());
    return false;
  }

  /// get()'s L1 miss: the L2 entry of `key` (counted), kept in L1 unless a write overtook it.
  std::optional<Filled> fill_from_l2(key_view key) {
    const std::string k = l2_key(K(key));
    const Epoch epoch = epoch_of(k);
    std::optional<Filled> f = read_l2(k);
    if (!f) return std::nullopt;
    keep_in_l1(key, std::move(f->frame), f->value, std::min(f->ttl, l1_ttl_), f->age,
               not_overtaken(epoch));
    return f;
  }

  /// The value of L2 key `k` and its remaining TTL, counted as an L2 hit or miss. nullopt:
  /// absent, undecodable (also a decode error) or failed (an L2 error); `*absent` (if given) is
  /// set to whether L2 answered that it holds nothing for `k`.
  std::optional<Filled> read_l2(const std::string& k, bool* absent = nullptr) {
    Result<std::optional<BackendEntry>> r = backend_->get(k);
    if (!remote(r)) return std::nullopt;
    if (absent) *absent = !*r;
    return filled_from(std::move(*r));
  }

  // ---- FILLS AGAINST WRITES ----
  // An L2 read kept in L1 must not outlive, nor be seen after, a write of its key that landed
  // after the read: a put, erase, erase_prefix or clear of this cache, or another cache's (by
  // message). Every write changes L2 first, then moves the key's epoch (a stripe of 64, or all of
  // them), then changes L1. A fill notes the epoch before its L2 read and stores in L1 only if
  // the epoch has not moved, checked inside L1's critical section for the key (Cache's store
  // guard). Either the fill's store comes after the write's L1 change, and so after the epoch
  // moved (which came after the write reached L2, which came after the fill's read), and the
  // check refuses it; or it comes before, and the write's own L1 change replaces it. No reader
  // ever sees the older value in L1. (A load's result is kept from overwriting a write by its
  // flight: flight.h.)

  /// A key's epoch as a fill saw it before its L2 read (and where to look again).
  struct Epoch {
    const std::atomic<std::uint64_t>* stripe = nullptr;
    std::uint64_t all = 0, key = 0;
  };
  static constexpr std::size_t kEpochStripes = 64;
  std::atomic<std::uint64_t>& stripe(std::string_view l2_key) noexcept {
    return key_epochs_[std::hash<std::string_view>{}(l2_key) % kEpochStripes];
  }
  Epoch epoch_of(std::string_view l2_key) noexcept {
    const std::atomic<std::uint64_t>& s = stripe(l2_key);
    const std::uint64_t all = all_epoch_.load(std::memory_order_seq_cst);
    return {&s, all, s.load(std::memory_order_seq_cst)};
  }
  void bump(std::string_view l2_key) noexcept {
    stripe(l2_key).fetch_add(1, std::memory_order_seq_cst);
  }
  void bump_all() noexcept { all_epoch_.fetch_add(1, std::memory_order_seq_cst); }

  /// The store guard of a fill from an L2 read begun at `epoch`: true while no write of the key
  /// has landed since (else counted in fills_dropped). Two loads: it runs under L1's lock.
  auto not_overtaken(const Epoch& epoch) {
    return [this, epoch] {
      if (all_epoch_.load(std::memory_order_seq_cst) == epoch.all &&
          epoch.stripe->load(std::memory_order_seq_cst) == epoch.key) {
        return true;
      }
      fills_dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    };
  }

  /// Keeps a value read from L2 as `frame` in L1 with `ttl` (capped while degraded), written
  /// `age` ago, if `guard()` holds in L1's critical section; L1 keeps the frame itself when it
  /// would keep the value compressed (no inflate-then-deflate). A value L1 cannot hold (heavier
  /// than its max_bytes, over its max_value_size) is returned to the reader all the same,
  /// counted in Stats::uncacheable: reads do not throw.
  /// (`as_if_up`: the resync, which runs before the channel counts as up again: no cap.)
  template <class Guard>
  void keep_in_l1(key_view key, std::string&& frame, const V& value, Duration ttl, Duration age,
                  Guard guard, bool as_if_up = false) {
    K k(key);
    PutOptions o{.ttl = as_if_up ? ttl : l1_put_ttl(ttl)};
    std::optional<typename L1::Prepared> p;
    try {
      p.emplace(l1_.prepare_adopted(k, std::move(frame), value, o, as_if_up ? age : l1_age(age)));
    } catch (const ValueTooLarge&) {
      l1_.count_uncacheable();
      return;
    }
    l1_.store_prepared(std::move(k), std::move(*p), std::move(o), /*only_if_absent=*/false, guard);
  }

  /// A write made ready for both tiers: its L2 key and TTL, what L1 stores, what L2 stores.
  struct Write {
    std::string l2_key;
    Duration ttl;
    typename L1::Prepared prepared;
    std::string bytes;
  };
  /// Everything either tier could refuse, before either changes (throws like Cache::put), with
  /// `opts.ttl` set to L1's. One value path: the frame L1 keeps (compressed once) is what L2
  /// stores.
  Write prepare_write(const K& key, V&& value, PutOptions& opts) {
    opts.validate();
    const Duration ttl = opts.ttl.value_or(l1_ttl_);
    opts.ttl = l1_put_ttl(ttl);
    typename L1::Prepared p = l1_.prepare_put(key, std::move(value), opts);
    std::string bytes = l1_.remote_bytes(p, ttl);
    return {l2_key(key), ttl, std::move(p), std::move(bytes)};
  }

  // ---- the namespace (TieredOptions::key_namespace) ----

  /// The L2 key of `key`: its string form inside this cache's namespace.
  std::string l2_key(const K& key) const { return ns_ + options_.key_to_string(key); }
  /// The key an L2 key of this namespace names (nullopt: another namespace's, or unreadable).
  std::optional<K> from_l2_key(std::string_view l2) const {
    if (!l2.starts_with(ns_)) return std::nullopt;
    return options_.key_from_string(l2.substr(ns_.size()));
  }
  /// Tags as L2 keeps them: inside this cache's namespace.
  std::vector<std::string> l2_tags(const std::vector<std::string>& tags) const {
    if (ns_.empty()) return tags;
    std::vector<std::string> out;
    out.reserve(tags.size());
    for (const std::string& t : tags) out.push_back(ns_ + t);
    return out;
  }

  // ---- L2 writes: tagged (Backend::set_many_tagged) when the put has tags ----

  Result<void> l2_set_many(std::span<const BackendItem> items, Duration ttl,
                           const std::vector<std::string>& tags) {
    if (tags.empty()) return backend_->set_many(items, ttl);
    Result<std::vector<bool>> r = backend_->set_many_tagged(items, ttl, l2_tags(tags), false);
    if (!r) return r.error();
    return {};
  }
  Result<std::vector<bool>> l2_set_many_if_absent(std::span<const BackendItem> items, Duration ttl,
                                                  const std::vector<std::string>& tags) {
    if (tags.empty()) return backend_->set_many_if_absent(items, ttl);
    return backend_->set_many_tagged(items, ttl, l2_tags(tags), true);
  }
  Result<void> l2_set(std::string_view k, std::string_view bytes, Duration ttl,
                      const std::vector<std::string>& tags) {
    if (tags.empty()) return backend_->set(k, bytes, ttl);
    const BackendItem item{k, bytes};
    return l2_set_many(std::span<const BackendItem>(&item, 1), ttl, tags);
  }
  Result<bool> l2_set_if_absent(std::string_view k, std::string_view bytes, Duration ttl,
                                const std::vector<std::string>& tags) {
    if (tags.empty()) return backend_->set_if_absent(k, bytes, ttl);
    const BackendItem item{k, bytes};
    Result<std::vector<bool>> r =
        l2_set_many_if_absent(std::span<const BackendItem>(&item, 1), ttl, tags);
    if (!r) return r.error();
    return !r->empty() && bool((*r)[0]);
  }

  /// A key L1 did not have, in a bulk read: its place in the result, its key, its L2 key and
  /// the epoch its L2 read begins at.
  struct Miss {
    std::size_t index;
    K key;
    std::string l2_key;
    Epoch epoch;
  };
  Miss miss_of(std::size_t index, key_view key) {
    K k(key);
    std::string l2 = l2_key(k);
    const Epoch epoch = epoch_of(l2);
    return {index, std::move(k), std::move(l2), epoch};
  }
  /// ONE L2 read of the misses' keys (Backend::get_many): for each, what read_l2 would give.
  /// `absent` (if given) gets, per miss, whether L2 answered that it holds nothing for it.
  std::vector<std::optional<Filled>> read_l2_many(const std::vector<Miss>& misses,
                                                  std::vector<bool>* absent = nullptr) {
    std::vector<std::string_view> keys;
    keys.reserve(misses.size());
    for (const Miss& m : misses) keys.push_back(m.l2_key);
    std::vector<std::optional<Filled>> out(misses.size());
    if (absent) absent->assign(misses.size(), false);
    Result<std::vector<std::optional<BackendEntry>>> r = backend_->get_many(keys);
    if (!remote(r)) return out;
    for (std::size_t j = 0; j < misses.size() && j < r->size(); ++j) {
      if (absent) (*absent)[j] = !(*r)[j];
      out[j] = filled_from(std::move((*r)[j]));
    }
    return out;
  }
  /// An L2 answer decoded: counted as an L2 hit or miss (and a decode error if it does not
  /// decode).
  std::optional<Filled> filled_from(std::optional<BackendEntry>&& e, bool count = true) {
    std::optional<V> v;
    if (e && e->ttl.count() > 0) {  // (a zero TTL would break Backend's contract: absent)
      if (Result<V> d = decode_framed<V>(e->value, l1_.values_.compression().max_value_size)) {
        v.emplace(*std::move(d));
      } else {
        decode_errors_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (!v) {
      if (count) l2_misses_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    if (count) l2_hits_.fetch_add(1, std::memory_order_relaxed);
    Filled f{*std::move(v), e->ttl, std::move(e->value)};
    const std::optional<FrameHeader> h = read_frame_header(f.frame);
    if (h && h->tag.ttl_ms > 0) {
      f.written_ttl = std::chrono::milliseconds(h->tag.ttl_ms);
      if (f.ttl != kNoExpiry && f.ttl < f.written_ttl) f.age = f.written_ttl - f.ttl;
    }
    return f;
  }
  /// contains / peek: L1 (age rule), else L2, no side effects; nullopt: absent. The inner
  /// optional holds the value when `want_value` (else it is empty: presence is all).
  std::optional<std::optional<V>> peek_tiers(key_view key, bool want_value) {
    if (auto local = l1_.peek_with_age(detail::LoadingKey{}, key)) {
      if (channel_up_.load(std::memory_order_acquire) || young_enough(std::get<1>(*local))) {
        if (!want_value) return std::optional<V>();
        return std::optional<V>(std::move(std::get<0>(*local)));
      }
    }
    Result<std::optional<BackendEntry>> r = backend_->get(l2_key(K(key)));
    if (!remote(r)) return std::nullopt;
    std::optional<Filled> f = filled_from(std::move(*r), /*count=*/false);
    if (!f) return std::nullopt;
    if (!want_value) return std::optional<V>();
    return std::optional<V>(std::move(f->value));
  }

  static constexpr std::size_t kKeysPerMessage = 4096;
  /// Keys read per Backend::get_many when erase_if scans L2.
  static constexpr std::size_t kReadBatch = 500;
  /// One invalidation message for several keys: op 'm', each key as "<length>:<key>".
  /// announce_keys() of L2 keys a call removed, kKeysPerMessage to a message.
  void announce_removed(const std::vector<std::string>& keys) {
    for (std::size_t i = 0; i < keys.size(); i += kKeysPerMessage) {
      const std::size_t end = std::min(keys.size(), i + kKeysPerMessage);
      announce_keys(std::vector<std::string_view>(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                                  keys.begin() + static_cast<std::ptrdiff_t>(end)));
    }
  }
  void announce_keys(const std::vector<std::string_view>& keys) {
    if (keys.size() == 1) return announce('k', keys[0]);
    std::string payload;
    for (std::string_view k : keys) {
      payload += std::to_string(k.size());
      payload += ':';
      payload += k;
    }
    announce('m', payload);
  }
  /// The keys of an 'm' message's payload; nullopt if malformed.
  static std::optional<std::vector<std::string_view>> parse_keys(std::string_view payload) {
    std::vector<std::string_view> keys;
    while (!payload.empty()) {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), n);
      if (ec != std::errc() || p == payload.data() + payload.size() || *p != ':') {
        return std::nullopt;
      }
      payload.remove_prefix(static_cast<std::size_t>(p - payload.data()) + 1);
      if (n > payload.size()) return std::nullopt;
      keys.push_back(payload.substr(0, n));
      payload.remove_prefix(n);
    }
    return keys;
  }

  // ---- invalidation messages: "<origin hex> <op><payload>", op k(ey), m(any keys),
  // t(ag), g(lob), p(refix), a(ll) ----

  void announce(char op, std::string_view payload) {
    std::string m = origin_;
    m += ' ';
    if (!ns_.empty()) {  // "n<length>:<namespace>" first: other namespaces' caches skip it
      m += 'n';
      m += std::to_string(options_.key_namespace.size());
      m += ':';
      m += options_.key_namespace;
    }
    m += op;
    m += payload;
    if (remote(backend_->publish(m))) sent_.fetch_add(1, std::memory_order_relaxed);
  }

  void on_message(std::string_view m) {
    if (m.size() < 18 || m[16] != ' ') return;  // not ours: ignore
    if (m.substr(0, 16) == origin_) return;     // our own write: L1 is already right
    std::string_view rest = m.substr(17);
    std::string_view ns;  // the writer's namespace ("": none)
    if (rest[0] == 'n') {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), n);
      if (ec != std::errc() || p == rest.data() + rest.size() || *p != ':') return;
      rest.remove_prefix(static_cast<std::size_t>(p - rest.data()) + 1);
      if (n >= rest.size()) return;
      ns = rest.substr(0, n);
      rest.remove_prefix(n);
    }
    if (ns != options_.key_namespace) return;  // another namespace's write
    const char op = rest[0];
    const std::string_view payload = rest.substr(1);
    std::optional<std::vector<std::string_view>> keys;
    if (op == 'k') {
      keys.emplace(1, payload);
    } else if (op == 'm') {
      keys = parse_keys(payload);
    }
    if (keys) {
      for (std::string_view k : *keys) bump(k);
    } else {
      bump_all();  // (a malformed 'm' too: whatever it named may have changed)
    }
    if (keys) {
      for (std::string_view k : *keys) {
        if (std::optional<K> key = from_l2_key(k)) l1_.erase(*key);
      }
    } else if (op == 'm') {
      l1_.clear();
    } else if (op == 'g') {
      erase_local_matching(payload);
    } else if (op == 't') {
      l1_.invalidate_tag(payload);  // (the keys it removed from L2 follow in 'm' messages)
    } else if (op == 'p') {
      erase_local_prefix(payload);
    } else if (op == 'a') {
      l1_.clear();
    } else {
      return;
    }
    {
      std::lock_guard<std::mutex> lock(wait_mu_);
      received_.fetch_add(1, std::memory_order_release);
    }
    wait_cv_.notify_all();
  }

  void on_channel(bool up) {
    if (up) {
      // Messages may have been missed while down: keep only the L1 entries L2 still holds as
      // they are (clear L1 if L2 cannot tell). Until that is done the channel counts as down, so
      // the degraded rule still applies. (Before the first up, L1 entries were stored with at
      // most unsubscribed_ttl: nothing to check.)
      if (seen_up_ && !channel_up_.load(std::memory_order_acquire)) {
        bump_all();
        if (!revalidate_l1()) {
          l1_.clear();
          resync_clears_.fetch_add(1, std::memory_order_relaxed);
        }
        resyncs_.fetch_add(1, std::memory_order_relaxed);
      }
      seen_up_ = true;
    } else {
      down_since_.store(now_ns(), std::memory_order_release);
    }
    {
      std::lock_guard<std::mutex> lock(wait_mu_);
      channel_up_.store(up, std::memory_order_release);
    }
    wait_cv_.notify_all();
  }

  /// The resync after the channel came back: reads from L2, 500 keys per round trip, the current
  /// value of every key L1 holds, and stores it in L1 with L2's TTL and age (a fill: not kept if
  /// a write of the key overtook the read); a key L2 no longer has (erased, expired, lost in a
  /// restart) or holds undecodable is dropped. L1 stays warm, and what it holds afterwards is
  /// what L2 holds. Returns false when L2 failed (the caller clears L1). Cost: the round trips,
  /// and a decode per entry.
  bool revalidate_l1() {
    std::vector<K> keys;
    l1_.walk([&](const K& key, const auto&) { keys.push_back(key); });
    std::vector<std::string> l2_keys;
    l2_keys.reserve(keys.size());
    for (const K& k : keys) l2_keys.push_back(l2_key(k));
    std::size_t kept = 0, dropped = 0;
    std::vector<Epoch> epochs;
    for (std::size_t i = 0; i < keys.size(); i += kReadBatch) {
      const std::size_t end = std::min(keys.size(), i + kReadBatch);
      const std::vector<std::string_view> batch(l2_keys.begin() + static_cast<std::ptrdiff_t>(i),
                                                l2_keys.begin() + static_cast<std::ptrdiff_t>(end));
      epochs.clear();
      for (std::string_view k : batch) epochs.push_back(epoch_of(k));
      Result<std::vector<std::optional<BackendEntry>>> read = backend_->get_many(batch);
      if (!remote(read) || read->size() != batch.size()) return false;
      for (std::size_t j = 0; j < batch.size(); ++j) {
        const K& key = keys[i + j];
        if (std::optional<Filled> f = filled_from(std::move((*read)[j]), /*count=*/false)) {
          keep_in_l1(key, std::move(f->frame), f->value, std::min(f->ttl, l1_ttl_), f->age,
                     not_overtaken(epochs[j]), /*as_if_up=*/true);
          ++kept;
        } else {
          l1_.erase(key);
          ++dropped;
        }
      }
    }
    resync_kept_.fetch_add(kept, std::memory_order_relaxed);
    resync_dropped_.fetch_add(dropped, std::memory_order_relaxed);
    return true;
  }

  std::size_t erase_local_matching(std::string_view glob) {
    if constexpr (std::convertible_to<const K&, std::string_view>) {
      return l1_.erase_matching(glob);
    } else {
      auto matches = [&](const K& k) { return glob_match(glob, options_.key_to_string(k)); };
      l1_.invalidate_loads_if(matches);  // erase_if cannot: it tests values
      return l1_.erase_if([&](const K& k, const V&) { return matches(k); });
    }
  }

  std::size_t erase_local_prefix(std::string_view prefix) {
    if constexpr (std::convertible_to<const K&, std::string_view>) {
      return l1_.erase_prefix(prefix);
    } else {
      auto has_prefix = [&](const K& k) {
        return std::string_view(options_.key_to_string(k)).starts_with(prefix);
      };
      l1_.invalidate_loads_if(has_prefix);  // erase_if cannot: it tests values
      return l1_.erase_if([&](const K& k, const V&) { return has_prefix(k); });
    }
  }

  CacheInfo info() const {
    const TieredStats s = stats();
    CacheInfo i{l1_.name(), "tiered", s.l1, std::nullopt, std::nullopt};
    i.remote = RemoteInfo{std::string(backend_->kind()),
                          s.l2,
                          s.l2_hits,
                          s.l2_misses,
                          s.l2_errors,
                          s.decode_errors,
                          s.channel_up,
                          backend_->label()};
    return i;
  }

 public:
  // ---- the loading contract (detail/loading.h): for larder::cached() ----

  using Acquired = typename L1::Acquired;

  /// L1's acquire (the flights live in L1's shards).
  template <class Accept>
  Acquired acquire(detail::LoadingKey pass, key_view key, Accept& accept, bool led_by_caller) {
    auto servable = degraded_rule(accept);
    return l1_.acquire(pass, key, servable, led_by_caller);
  }
  void retire_flight(detail::LoadingKey pass, key_view key, const typename L1::FlightT* f) {
    l1_.retire_flight(pass, key, f);
  }
  std::optional<std::tuple<V, Duration, Duration>> peek_with_age(detail::LoadingKey pass,
                                                                 key_view key) const {
    return l1_.peek_with_age(pass, key);
  }

  /// A refresh: the loader's value goes to both tiers (no L2 read: the point is to reload).
  template <class Load, class OptionsFor>
  V lead_flight(detail::LoadingKey pass, key_view key,
                const std::shared_ptr<typename L1::FlightT>& f, Load& load,
                OptionsFor& options_for) {
    Ready ready;
    auto through = [&] { return load_through(key, *f, load, options_for, nullptr, ready); };
    auto l1_options = [&](const V& v) { return capped(options_for(v)); };
    return l1_.lead_flight(pass, key, f, through, l1_options, typename L1::NoGuard{},
                           ready.maker());
  }

  /// Single-flight over L2 then the loader: the flight's leader reads L2; on a miss (or an L2
  /// failure) it runs `load` and writes the result through to L2.
  template <class Accept, class Load, class OptionsFor>
  V load_single_flight(detail::LoadingKey pass, key_view key, Accept& accept, Load& load,
                       OptionsFor& options_for) {
    auto servable = degraded_rule(accept);
    return l1_.single_flight(key, servable, [&](const std::shared_ptr<typename L1::FlightT>& f) {
      const std::string k = l2_key(K(key));
      std::optional<Duration> l2_ttl;
      Epoch epoch{};
      bool l2_has_other = false;  // the loader's result lost its L2 write to another's
      Ready ready;
      auto tiered_load = [&]() -> V {
        epoch = epoch_of(k);
        bool absent = false;
        if (std::optional<Filled> filled = read_l2(k, &absent)) {
          l2_ttl = filled->ttl;
          ready.age = l1_age(filled->age);
          ready.frame = std::move(filled->frame);
          return std::move(filled->value);
        }
        return load_through(key, *f, load, options_for, absent ? &l2_has_other : nullptr, ready);
      };
      auto l1_options = [&](const V& v) -> std::optional<PutOptions> {
        std::optional<PutOptions> o = options_for(v);
        if (o && l2_ttl) o->ttl = std::min({o->ttl.value_or(l1_ttl_), *l2_ttl, l1_ttl_});
        return capped(std::move(o));
      };
      // A loader's result is a write of its own (kept out by its flight if superseded), not
      // kept in L1 when L2 took another write meanwhile (the next read fetches that one); an L2
      // read is a fill, stored only if no write of the key overtook it.
      auto fill_guard = [&] { return !l2_has_other && (!l2_ttl || not_overtaken(epoch)()); };
      return l1_.lead_flight(pass, key, f, tiered_load, l1_options, fill_guard, ready.maker());
    });
  }

 private:
  /// What a load made ready for L1 on its way through L2, so that L1 does not prepare the value
  /// again: the frame an L2 read returned (L1 adopts it when it would keep the value
  /// compressed), or the payload of a loader's result whose frame went to L2.
  struct Ready {
    std::optional<std::string> frame;
    std::optional<typename L1::Payload> payload;
    Duration age{};  // of the L2 entry `frame` came from (Cache::Prepared::age)
    /// The `make` of Cache::lead_flight.
    auto maker() {
      return [this](L1& c, const K& k, const V& v, const PutOptions& o) {
        if (payload) return c.prepare_payload(k, std::move(*payload), o);
        if (frame) return c.prepare_adopted(k, std::move(*frame), v, o, age);
        return c.prepare_put(k, V(v), o);
      };
    }
  };

  std::optional<PutOptions> capped(std::optional<PutOptions> o) const {
    if (o) o->ttl = l1_put_ttl(o->ttl.value_or(l1_ttl_));
    return o;
  }

  /// Runs the loader of flight `f` and writes its result through to L2 (unless options_for says
  /// not to store it, e.g. an absent result without negative caching); the payload L1 will store
  /// is left in `ready` (the frame is made once for both tiers). A result too big for L2 (over
  /// compression.max_value_size) is returned, not written (counted in Stats::uncacheable).
  ///
  /// Against writes of the key in this process (each marks the flight superseded before it
  /// reaches L2; flight.h), and writes of other processes once their message has arrived:
  ///  - superseded before the L2 write: nothing is written;
  ///  - after an L2 read found the key absent (`lost` given), the write is set_if_absent, so a
  ///    write that reached L2 after that read is never overwritten (then `*lost` is set, and the
  ///    result is not kept in L1 either);
  ///  - superseded during the L2 write: the write is taken back with erase_if_equal, which
  ///    removes these bytes only, never a later write's.
  /// So once a write has returned, L2 holds it, a later write, or nothing; never this result.
  template <class Load, class OptionsFor>
  V load_through(key_view key, const typename L1::FlightT& f, Load& load, OptionsFor& options_for,
                 bool* lost, Ready& ready) {
    V v = load();
    std::optional<PutOptions> o = options_for(std::as_const(v));
    if (!o || l1_.superseded(key, &f)) return v;
    const Duration ttl = o->ttl.value_or(l1_ttl_);
    std::optional<std::string> bytes;
    try {
      ready.payload.emplace(l1_.values_.prepare(V(v)));
      bytes.emplace(l1_.values_.remote_bytes(*ready.payload, ttl));
    } catch (const ValueTooLarge&) {
      ready.payload.reset();
      return v;  // too big for either tier (L1's store of it counts it uncacheable)
    }
    const std::string k = l2_key(K(key));
    Result<bool> stored = true;
    if (lost) {
      stored = l2_set_if_absent(k, *bytes, ttl, o->tags);
    } else if (Result<void> r = l2_set(k, *bytes, ttl, o->tags); !r) {
      stored = r.error();
    }
    if (stored && !*stored) {
      *lost = true;  // another write got there first: it stays, and ours is not kept
      return v;
    }
    if (l1_.superseded(key, &f)) {
      // Failed or not, the write may have landed: take it back (counted by the backend if this
      // fails too; the next write mends it), and tell the caches that may have read it.
      (void)backend_->erase_if_equal(k, *bytes);
      announce('k', k);
    } else if (remote(stored)) {
      announce('k', k);
    }
    return v;
  }

  /// get_all's load of the flights it leads: L2 first (one read), then the bulk loader for the
  /// rest, its values written through to L2 in one pipeline under the rules of load_through.
  template <class BulkLoader>
  void load_led(typename L1::BulkLoad& b, BulkLoader& bulk_loader, const PutOptions& opts) {
    std::vector<Miss> misses;
    misses.reserve(b.led.size());
    for (std::size_t j = 0; j < b.led.size(); ++j) {
      misses.push_back(miss_of(b.led[j].index, key_view(b.led[j].key)));
    }
    std::vector<bool> absent;
    std::vector<std::optional<Filled>> filled = read_l2_many(misses, &absent);
    const Duration ttl = opts.ttl.value_or(l1_ttl_);
    for (std::size_t j = 0; j < b.led.size(); ++j) {
      if (!filled[j]) continue;
      // An L2 read: a fill, kept only if no write of the key overtook it.
      PutOptions o = opts;
      o.ttl = l1_put_ttl(std::min({ttl, filled[j]->ttl, l1_ttl_}));
      auto adopt = [&](L1& c, const K& k, const V& v, const PutOptions& po) {
        return c.prepare_adopted(k, std::move(filled[j]->frame), v, po, l1_age(filled[j]->age));
      };
      l1_.complete_led(b, b.led[j], filled[j]->value, std::move(o), not_overtaken(misses[j].epoch),
                       adopt);
    }
    // The loader's results: prepared once for both tiers, written to L2 together.
    struct Loaded {
      std::size_t led;
      V value;
      std::optional<typename L1::Payload> payload;  // unset: not written to L2
      std::string bytes;
      bool lost = false;  // L2 took another write first: not kept in L1 either
    };
    std::vector<Loaded> loaded;
    l1_.run_bulk_loader(
        b, bulk_loader, [&](std::size_t j) { return !b.led[j].done; },
        [&](typename L1::LedLoad& l, const V& v) {
          loaded.push_back({static_cast<std::size_t>(&l - b.led.data()), v, std::nullopt, {}});
        });
    std::vector<BackendItem> if_absent, plain;
    for (Loaded& x : loaded) {
      const auto& l = b.led[x.led];
      if (l1_.superseded(key_view(l.key), l.flight.get())) continue;
      try {
        x.payload.emplace(l1_.values_.prepare(V(x.value)));
        x.bytes = l1_.values_.remote_bytes(*x.payload, ttl);
      } catch (const ValueTooLarge&) {
        x.payload.reset();  // too big for either tier (L1 counts it uncacheable)
        continue;
      }
      (absent[x.led] ? if_absent : plain).push_back({misses[x.led].l2_key, x.bytes});
    }
    Result<std::vector<bool>> stored = std::vector<bool>(if_absent.size(), true);
    if (!if_absent.empty()) stored = l2_set_many_if_absent(if_absent, ttl, opts.tags);
    Result<void> set = Result<void>();
    if (!plain.empty()) set = l2_set_many(plain, ttl, opts.tags);
    const bool l2_ok = remote(stored) && remote(set);
    std::vector<std::string_view> announced;
    std::size_t next_if_absent = 0;
    for (Loaded& x : loaded) {
      if (!x.payload) continue;
      const auto& l = b.led[x.led];
      const std::string& k = misses[x.led].l2_key;
      if (absent[x.led]) {
        const std::size_t at = next_if_absent++;
        if (stored && at < stored->size() && !(*stored)[at]) {
          x.lost = true;  // another write got there first: it stays, and ours is not kept
          continue;
        }
      }
      if (l1_.superseded(key_view(l.key), l.flight.get())) {
        (void)backend_->erase_if_equal(k, x.bytes);  // take back our bytes, never a later write
        announced.push_back(k);
      } else if (l2_ok) {
        announced.push_back(k);
      }
    }
    for (Loaded& x : loaded) {
      typename L1::LedLoad& l = b.led[x.led];
      std::optional<PutOptions> o = capped(opts);
      auto make = [&](L1& c, const K& k, const V& v, const PutOptions& po) {
        if (x.payload) return c.prepare_payload(k, std::move(*x.payload), po);
        return c.prepare_put(k, V(v), po);
      };
      l1_.complete_led(
          b, l, x.value, std::move(*o), [&] { return !x.lost; }, make);
    }
    if (!announced.empty()) announce_keys(announced);
  }

  TieredOptions<K> options_;
  const std::string ns_;  // key_namespace + ":", or empty: what every L2 key and tag begins with
  std::shared_ptr<Backend> backend_;
  std::shared_ptr<Clock> clock_;
  const Duration l1_ttl_;
  const std::string origin_;
  L1 l1_;
  Registry::Id registry_id_ = 0;

  bool seen_up_ = false;  // on_channel only (one thread at a time)
  std::atomic<bool> channel_up_{false};
  std::atomic<std::int64_t> down_since_{0};
  std::atomic<std::uint64_t> all_epoch_{0};
  std::array<std::atomic<std::uint64_t>, kEpochStripes> key_epochs_{};
  std::atomic<std::uint64_t> l2_hits_{0}, l2_misses_{0}, l2_errors_{0}, decode_errors_{0}, sent_{0},
      received_{0}, fills_dropped_{0}, resyncs_{0}, resync_kept_{0}, resync_dropped_{0},
      resync_clears_{0};
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::unique_ptr<Subscription> subscription_;  // last: stopped first
};

static_assert(detail::LoadingCache<TieredCache<std::string, std::string>>,
              "larder::TieredCache models the loading contract (detail/loading.h)");

}  // namespace larder
