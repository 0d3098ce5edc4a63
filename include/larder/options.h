// larder/options.h — how a cache is configured: `larder::Options<K, V>` and `larder::PutOptions`.
//
//   larder::Cache<std::string, User> users({.name = "users",
//                                           .max_entries = 100'000,
//                                           .default_ttl = 5min});
//   users.put("u:1", u, {.ttl = 30s, .tags = {"user:1"}});
//
// Every field has a default; `Options::validate()` (called by the Cache constructor) throws
// larder::InvalidArgument with a message naming the field when a value is out of range.
// Field order is part of the API (designated initializers depend on it): new fields are appended.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "larder/clock.h"
#include "larder/compression.h"
#include "larder/detail/format.h"
#include "larder/errors.h"
#include "larder/weigh.h"

namespace larder {

class Registry;

/// TTL meaning "this entry never expires" (neither by TTL nor by expire_after_access).
inline constexpr Duration kNoExpiry = Duration::max();
/// The longest finite TTL (and expire_after_access) a cache takes: 100 years. Deadlines are
/// nanoseconds on the cache's clock, and this keeps every one of them representable; use
/// kNoExpiry for "never".
inline constexpr Duration kMaxTtl = std::chrono::hours(24) * 36525;

namespace detail {
/// How error messages state the TTL limit.
inline std::string ttl_limit_text() { return "at most larder::kMaxTtl (100 years)"; }
}  // namespace detail

/// Why an entry left the cache, as passed to Options::on_removal.
enum class RemovalCause {
  kExplicit,  ///< erase, erase_if, erase_prefix, invalidate_tag or clear.
  kReplaced,  ///< put() stored a new value under the same key (the old value is passed).
  kExpired,   ///< its TTL or expire_after_access ran out.
  kEvicted,   ///< removed to stay within max_entries / max_bytes (least recently used first).
};

/// "explicit", "replaced", "expired", "evicted".
constexpr std::string_view to_string(RemovalCause c) noexcept {
  switch (c) {
    case RemovalCause::kExplicit:
      return "explicit";
    case RemovalCause::kReplaced:
      return "replaced";
    case RemovalCause::kExpired:
      return "expired";
    case RemovalCause::kEvicted:
      return "evicted";
  }
  return "unknown";
}

/// How a bounded cache chooses what to evict (Options::policy).
enum class Policy : std::uint8_t {
  /// Least recently used first (the default): exact LRU in a one-shard cache, LRU at the grain of
  /// 1/16 of a shard in a cache of several. Best when what was used last is what comes next.
  kLru,
  /// Adaptive W-TinyLFU: a new entry enters a small LRU window; when the window overflows, its
  /// oldest entry enters the main area only if a frequency sketch says it is requested more
  /// often than the entry it would displace, else it is evicted (cause kEvicted, counted in
  /// Stats::evictions and Stats::rejected). The window's share of the capacity adapts to the
  /// workload (Stats::window_fraction). Survives scans and loops that flush an LRU; never more
  /// than a point behind LRU on recency-heavy workloads (bench/README.md has the table).
  kTinyLfu,
};

/// "lru", "tinylfu".
constexpr std::string_view to_string(Policy p) noexcept {
  switch (p) {
    case Policy::kLru:
      return "lru";
    case Policy::kTinyLfu:
      return "tinylfu";
  }
  return "unknown";
}

namespace detail {
template <class>
inline constexpr bool kNotADuration = false;
/// A number that is not a duration (what `.ttl = 30` passes).
template <class N>
concept PlainNumber = std::is_arithmetic_v<N>;
}  // namespace detail

/// The type of PutOptions::ttl: a std::optional<Duration> in every way, except that a plain
/// number (`{.ttl = 30}`: seconds? milliseconds?) fails to compile with a sentence saying to
/// write a duration instead of "cannot convert brace-enclosed initializer list".
class OptionalTtl : public std::optional<Duration> {
 public:
  using std::optional<Duration>::optional;
  OptionalTtl() = default;
  template <detail::PlainNumber N>
  OptionalTtl(N) {  // NOLINT(google-explicit-constructor): only to say why not
    static_assert(detail::kNotADuration<N>,
                  "larder: a TTL is a duration, not a plain number: write {.ttl = 30s} (with "
                  "using namespace std::chrono_literals) or {.ttl = std::chrono::seconds(30)}");
  }
};

/// The type of Options::default_ttl and MemoizeOptions::ttl: a Duration in every way (it is one:
/// compare it, add to it, pass it where a Duration goes), except that a plain number
/// (`{.default_ttl = 30}`) fails to compile with a sentence saying to write a duration.
class Ttl : public Duration {
 public:
  constexpr Ttl() noexcept = default;
  template <class Rep, class Period>
  requires std::is_convertible_v<std::chrono::duration<Rep, Period>, Duration>
  constexpr Ttl(std::chrono::duration<Rep, Period> d) noexcept  // NOLINT: any duration is a TTL
      : Duration(d) {}
  template <detail::PlainNumber N>
  Ttl(N) {  // NOLINT(google-explicit-constructor): only to say why not
    static_assert(detail::kNotADuration<N>,
                  "larder: a TTL is a duration, not a plain number: write 30s (with using "
                  "namespace std::chrono_literals) or std::chrono::seconds(30)");
  }
};

/// Per-put settings.
struct PutOptions {
  /// Time to live of this entry. Unset (default): Options::default_ttl. larder::kNoExpiry: never
  /// expires. Must be positive otherwise: zero or negative throws larder::InvalidArgument. A
  /// plain number does not compile (seconds or milliseconds?): write 30s.
  OptionalTtl ttl{};
  /// Tags for invalidate_tag(), e.g. {"user:1"}. Default: none. A put replaces the entry's tags.
  std::vector<std::string> tags{};

  /// Throws larder::InvalidArgument naming the field when `ttl` is zero, negative or above
  /// larder::kMaxTtl (other than kNoExpiry).
  void validate() const {
    if (ttl && *ttl != kNoExpiry && (ttl->count() <= 0 || *ttl > kMaxTtl)) [[unlikely]] {
      throw_bad_ttl(*ttl);
    }
  }

 private:
  [[noreturn, gnu::cold, gnu::noinline]] static void throw_bad_ttl(Duration ttl) {
    if (ttl.count() <= 0) {
      throw InvalidArgument("larder: PutOptions.ttl must be positive or larder::kNoExpiry (got " +
                            detail::format_duration(ttl) +
                            "); leave it unset to use Options.default_ttl");
    }
    throw InvalidArgument("larder: PutOptions.ttl must be " + detail::ttl_limit_text() +
                          " or larder::kNoExpiry (got " + detail::format_duration(ttl) + ")");
  }
};

/// Cache-wide settings. Every field says its default.
template <class K, class V>
struct Options {
  /// Name shown in stats and errors. Default: "" (unnamed).
  std::string name{};
  /// Most entries held at once; a put beyond it evicts the least recently used entries.
  /// Default 0: unbounded.
  std::size_t max_entries = 0;
  /// Most total weight (see `weigher`) held at once; a put beyond it evicts least recently used
  /// entries. A single value heavier than max_bytes is refused with larder::ValueTooLarge.
  /// Default 0: unbounded. At most kMaxBytes (INT64_MAX); larger values (SIZE_MAX meant as
  /// "unbounded", say) are refused: use 0.
  std::size_t max_bytes = 0;
  /// Weight of an entry in bytes, for max_bytes and bytes(). Called once per put, outside locks.
  /// Default (empty): larder::default_weight: sizeof(K) + sizeof(V) + what the key and value
  /// own on the heap (larder/weigh.h: strings and containers with what their elements own,
  /// structs listed in larder::Fields member by member, and types with a larder::Weigh
  /// specialization; any other struct counts sizeof only). Opt in to weighing by the encoded
  /// size with larder::codec_weigher<K, V>(). A value kept compressed always weighs its frame.
  std::function<std::size_t(const K&, const V&)> weigher{};
  /// TTL of a put without PutOptions::ttl. Default zero: never expires (kNoExpiry also means that).
  Ttl default_ttl = Duration::zero();
  /// Expire an entry this long after its last get/lookup/put (peek and contains do not count).
  /// Combines with TTLs: an entry expires at whichever deadline comes first. Entries put with
  /// kNoExpiry are exempt. Default zero: off.
  Duration expire_after_access = Duration::zero();
  /// Number of shards (independent locks). Default 0: auto — 4 per hardware thread rounded up to a
  /// power of two (at most 64), but never fewer than 1024 entries per shard on a max_entries
  /// cache, so small caches stay one exact LRU. At most 65536. One shard evicts in exact LRU
  /// order; several evict per shard in LRU order at the grain of 1/16 of the shard's entries
  /// (see "eviction order" in cache.h), which is what lets their hits write nothing shared.
  std::size_t shards = 0;
  /// Time source. Default nullptr: std::chrono::steady_clock for every deadline (TTLs exact);
  /// the write time of an entry put without one, which only lookup()'s age ever reads, comes
  /// from the kernel's last tick (CLOCK_MONOTONIC_COARSE, a quarter of the cost: such an age
  /// may be overstated by a tick, 1-4 ms). larder::CoarseClock reads the tick for everything
  /// (TTLs and ages then accurate to a tick). A clock passed here is read exactly, for
  /// everything. Tests pass a larder::ManualClock.
  std::shared_ptr<Clock> clock{};
  /// Called with (key, value, cause) each time an entry leaves the cache, after the shard lock is
  /// released, on the thread whose operation removed it (the background sweeper's thread for
  /// entries it expires). Not called by the destructor. Exceptions it throws are caught and
  /// counted in Stats::listener_errors. It may call into the cache. Default: none.
  std::function<void(const K&, const V&, RemovalCause)> on_removal{};
  /// Interval of the background sweep that reclaims expired entries (one shared thread for all
  /// caches; each sweep is cleanup()). Default 1s. Zero: off (expired entries are then reclaimed
  /// by writes, reads of them, and explicit cleanup() calls).
  Duration background_cleanup = std::chrono::seconds(1);
  /// Compression of big values (compression.h): byte-like values (std::string, byte vectors) of
  /// 1 KiB or more are stored zlib-compressed when that saves 10%; values above 10 MiB are refused.
  /// Other value types only with compression.encode = true, which needs a larder::Codec<V> (on a
  /// type without one it does not compile). bytes() and max_bytes count what is stored
  /// (compressed sizes).
  BasicCompressionOptions<detail::EncodeFlag<V>> compression{};
  /// Register this cache under `name` in this registry (larder::Registry::global() or your own;
  /// larder/registry.h) from construction to destruction. A taken or empty name throws
  /// larder::InvalidArgument. Default nullptr: not registered.
  Registry* registry = nullptr;
  /// Which entries a bounded cache evicts first (larder::Policy). Default Policy::kLru. With
  /// Policy::kTinyLfu every shard runs adaptive W-TinyLFU (the shard count then does not change
  /// the order's exactness). No effect on an unbounded cache.
  Policy policy = Policy::kLru;

  /// Throws larder::InvalidArgument naming the first field out of range.
  void validate() const {
    auto fail = [this](std::string_view field, const std::string& what) {
      std::string msg = "larder: Options.";
      msg.append(field).append(" ").append(what);
      if (!name.empty()) msg.append(" (cache \"").append(name).append("\")");
      throw InvalidArgument(msg);
    };
    if (default_ttl.count() < 0) {
      fail("default_ttl", "must not be negative (got " + detail::format_duration(default_ttl) +
                              "); use zero or larder::kNoExpiry for no expiry");
    }
    if (default_ttl != kNoExpiry && default_ttl > kMaxTtl) {
      fail("default_ttl", "must be " + detail::ttl_limit_text() + " or larder::kNoExpiry (got " +
                              detail::format_duration(default_ttl) + ")");
    }
    if (expire_after_access.count() < 0) {
      fail("expire_after_access", "must not be negative (got " +
                                      detail::format_duration(expire_after_access) +
                                      "); use zero to turn it off");
    }
    if (expire_after_access > kMaxTtl) {
      fail("expire_after_access", "must be " + detail::ttl_limit_text() + " (got " +
                                      detail::format_duration(expire_after_access) +
                                      "); use zero to turn it off");
    }
    if (shards > kMaxShards) {
      fail("shards", "must be at most " + std::to_string(kMaxShards) + " (got " +
                         std::to_string(shards) + "); use 0 for auto");
    }
    if (background_cleanup.count() < 0) {
      fail("background_cleanup", "must not be negative (got " +
                                     detail::format_duration(background_cleanup) +
                                     "); use zero to turn it off");
    }
    compression.validate();
    if (policy != Policy::kLru && policy != Policy::kTinyLfu) {
      fail("policy", "must be larder::Policy::kLru or larder::Policy::kTinyLfu (got " +
                         std::to_string(static_cast<int>(policy)) + ")");
    }
    if (max_entries > kMaxEntries) {
      fail("max_entries", "must be at most " + std::to_string(kMaxEntries) + " (got " +
                              std::to_string(max_entries) + ")");
    }
    if (max_bytes > kMaxBytes) {
      fail("max_bytes", "must be at most " + std::to_string(kMaxBytes) + " (got " +
                            std::to_string(max_bytes) + "); use 0 for unbounded");
    }
  }

  /// Upper bound for `shards`.
  static constexpr std::size_t kMaxShards = 65536;
  /// Upper bound for `max_entries` (entries are addressed with 32-bit indices per shard).
  static constexpr std::size_t kMaxEntries = std::size_t{1} << 40;
  /// Upper bound for `max_bytes` (totals are signed 64-bit).
  static constexpr std::size_t kMaxBytes = std::numeric_limits<std::int64_t>::max();
};

}  // namespace larder
