// larder/backend.h — `larder::Backend`: a remote (second) tier, bytes in, bytes out.
//
//   std::shared_ptr<larder::Backend> l2 = std::make_shared<larder::MemoryBackend>();   // or
//   std::shared_ptr<larder::Backend> l2 = std::make_shared<larder::RedisBackend>(
//       larder::RedisOptions{.uri = "redis://app:secret@127.0.0.1:6379/0", .key_prefix = "svc:"});
//   larder::Result<std::optional<larder::BackendEntry>> r = l2->get("u:1");
//   if (!r) log(r.error().message);          // timeout, connection, auth, ..., breaker open
//   else if (*r) use((*r)->value, (*r)->ttl);
//
// A Backend stores opaque byte strings under string keys with a TTL. It is what larder::TieredCache
// (larder/tiered.h) puts behind its in-process cache. Every operation returns its failure as a
// value (larder::Result, ErrorCode::kTimeout ... kServer): remote failures are expected, and the
// caller decides whether one matters. Implementations: MemoryBackend (larder/memory_backend.h, in
// process, no server) and RedisBackend (larder/redis_backend.h, target larder::redis).
//
// Invalidation messages. publish()/subscribe() carry "this key changed" notices between the
// processes sharing a backend, so each can drop its in-process copy (TieredCache does this).
//
// Tags. set_many_tagged() writes keys as members of tags and erase_tagged() removes every member
// of one, so "everything of user 42" can be invalidated across every process on the backend
// whatever its keys look like (Redis: a sorted set per tag, scored by each member's deadline;
// see redis_backend.h for its cost and how expired members leave).
//
// Conditional writes. set_if_absent() and erase_if_equal() are atomic on the backend: TieredCache
// writes a loader's result with the first (so it never overwrites a write that reached L2 after
// its L2 read found nothing) and takes it back with the second (so it never removes a later
// write of the key). An implementation must make them atomic against every other write.
//
// THREAD SAFETY. Every member of every implementation may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "larder/clock.h"
#include "larder/result.h"

namespace larder {

/// A value read from a backend with its remaining time to live: positive, or kNoExpiry.
struct BackendEntry {
  std::string value;
  Duration ttl{};
};

/// One key/value pair for Backend::set_many.
struct BackendItem {
  std::string_view key;
  std::string_view value;
};

/// State of a circuit breaker (RedisBackend; other backends are always kClosed).
enum class BreakerState : std::uint8_t {
  kClosed,    ///< calls go through
  kOpen,      ///< calls fail at once with ErrorCode::kBreakerOpen
  kHalfOpen,  ///< a probe is testing whether the backend is back
};

/// "closed", "open", "half-open".
constexpr std::string_view to_string(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half-open";
  }
  return "unknown";
}

/// Upper bounds of the latency histogram buckets in BackendStats (the last bucket is +Inf).
inline constexpr std::array<std::chrono::microseconds, 11> kLatencyBuckets = {
    std::chrono::microseconds(50),     std::chrono::microseconds(100),
    std::chrono::microseconds(250),    std::chrono::microseconds(500),
    std::chrono::microseconds(1000),   std::chrono::microseconds(2500),
    std::chrono::microseconds(5000),   std::chrono::microseconds(10000),
    std::chrono::microseconds(25000),  std::chrono::microseconds(100000),
    std::chrono::microseconds(1000000)};

/// Counters of a backend. Monotonic except breaker_state.
struct BackendStats {
  std::uint64_t ops = 0;      ///< operations called (a get_many is one)
  std::uint64_t errors = 0;   ///< operations that returned an error (any kind)
  std::uint64_t retries = 0;  ///< attempts repeated after a connection/timeout failure
  /// Errors by kind, indexed by ErrorCode (kTimeout, kConnection, ... kServer are the remote ones).
  std::array<std::uint64_t, kErrorCodeCount> errors_by_kind{};
  BreakerState breaker_state = BreakerState::kClosed;
  std::uint64_t breaker_opened = 0;      ///< transitions to kOpen
  std::uint64_t breaker_half_open = 0;   ///< transitions to kHalfOpen (probes started)
  std::uint64_t breaker_closed = 0;      ///< transitions back to kClosed
  std::uint64_t connections_opened = 0;  ///< successful handshakes (pool + subscriber)
  std::uint64_t connections_broken = 0;  ///< connections discarded after an I/O failure
  /// Latency of completed operations (successful or not, breaker refusals excluded).
  std::uint64_t latency_count = 0;
  Duration latency_sum{};
  /// latency_buckets[i]: operations at most kLatencyBuckets[i]; the last one: all the slower ones.
  /// Not cumulative.
  std::array<std::uint64_t, kLatencyBuckets.size() + 1> latency_buckets{};

  /// Errors of one kind.
  std::uint64_t errors_of(ErrorCode c) const noexcept {
    return errors_by_kind[static_cast<std::size_t>(c)];
  }
  /// Errors of kind kTimeout.
  std::uint64_t timeouts() const noexcept { return errors_of(ErrorCode::kTimeout); }
};

/// What a backend's server says about itself (Backend::server_info), for health endpoints.
struct ServerInfo {
  std::string kind;                     ///< Backend::kind(): "redis", "memory", ...
  std::string version;                  ///< the server's version (Redis: redis_version)
  std::uint64_t keys = 0;               ///< keys in the database (Redis: DBSIZE, every prefix)
  std::uint64_t used_memory = 0;        ///< bytes the server uses (Redis: INFO used_memory)
  std::uint64_t connected_clients = 0;  ///< client connections (Redis: INFO connected_clients)
  std::chrono::seconds uptime{};        ///< since the server started (Redis: uptime_in_seconds)
};

/// What a subscription reports (see Backend::subscribe).
struct InvalidationHandler {
  /// A message published on the channel (by another subscriber's process, or this one).
  std::function<void(std::string_view message)> on_message;
  /// The channel went up (true: messages will arrive) or down (false: messages may be lost).
  std::function<void(bool up)> on_state;
};

/// A live subscription; destroying it unsubscribes (and waits for a handler call in progress).
class Subscription {
 public:
  virtual ~Subscription() = default;
};

/// Interface of a remote tier. Keys and values are byte strings; TTLs are whole milliseconds
/// (a TTL below 1 ms is stored as 1 ms; kNoExpiry stores without expiry).
class Backend {
 public:
  virtual ~Backend() = default;

  /// This backend object's name in metrics: kind() + "-" + a number unique in the process
  /// ("redis-1", "memory-2"), so that the caches sharing one backend export its counters once.
  std::string label() const { return std::string(kind()) + "-" + std::to_string(serial_); }

  /// The entry for `key`, or nullopt if absent.
  virtual Result<std::optional<BackendEntry>> get(std::string_view key) = 0;
  /// The entries for `keys`, in order (nullopt for absent ones): one round trip.
  virtual Result<std::vector<std::optional<BackendEntry>>> get_many(
      std::span<const std::string_view> keys) = 0;
  /// Stores `value` under `key` for `ttl` (must be positive, or kNoExpiry).
  virtual Result<void> set(std::string_view key, std::string_view value, Duration ttl) = 0;
  /// Stores every item with the same ttl: one round trip.
  virtual Result<void> set_many(std::span<const BackendItem> items, Duration ttl) = 0;
  /// Stores `value` under `key` for `ttl` only if the key is absent, atomically (Redis: SET NX);
  /// true if it stored. An existing value is left as it is, TTL included.
  virtual Result<bool> set_if_absent(std::string_view key, std::string_view value,
                                     Duration ttl) = 0;
  /// set_if_absent() of every item with the same ttl; per item, whether it stored. Atomic per
  /// item, not across them. The default calls set_if_absent() for each (stopping at the first
  /// failure); RedisBackend sends them in one round trip.
  virtual Result<std::vector<bool>> set_many_if_absent(std::span<const BackendItem> items,
                                                       Duration ttl) {
    std::vector<bool> out;
    out.reserve(items.size());
    for (const BackendItem& it : items) {
      Result<bool> r = set_if_absent(it.key, it.value, ttl);
      if (!r) return r.error();
      out.push_back(*r);
    }
    return out;
  }
  /// Stores every item with the same ttl and tags `tags` (only where the key is absent, with
  /// `only_if_absent`); per item, whether it stored. Each item's write and its tagging are one
  /// atomic step, so erase_tagged() of one of its tags either removes it or comes before it. A
  /// key stays a member of a tag's set until its tagged write's TTL has passed: a later untagged
  /// write of the key may still be removed by that tag (an extra miss, never a stale read).
  virtual Result<std::vector<bool>> set_many_tagged(std::span<const BackendItem> items,
                                                    Duration ttl, std::span<const std::string> tags,
                                                    bool only_if_absent) = 0;
  /// Removes every key written with tag `tag` (set_many_tagged) and forgets the tag; returns
  /// the keys it removed that were present (for invalidation messages).
  virtual Result<std::vector<std::string>> erase_tagged(std::string_view tag) = 0;
  /// Removes `key`; true if it existed.
  virtual Result<bool> erase(std::string_view key) = 0;
  /// Removes `key` only if its value is exactly `value`, atomically (Redis: a script); true if it
  /// removed it. How a writer takes back its own write without removing a later one's.
  virtual Result<bool> erase_if_equal(std::string_view key, std::string_view value) = 0;
  /// Removes every key starting with `prefix` (taken literally); returns how many.
  virtual Result<std::size_t> erase_prefix(std::string_view prefix) = 0;
  /// The keys matching the Redis glob `glob` (larder/glob.h), in no particular order (Redis:
  /// SCAN MATCH within the key prefix, COUNT 1000 per round trip: O(keys in the database), and a
  /// key written during the scan may or may not be listed). Tags' sets are not keys.
  virtual Result<std::vector<std::string>> keys(std::string_view glob) = 0;
  /// Removes every key matching `glob`; returns how many (Redis: SCAN MATCH + UNLINK).
  virtual Result<std::size_t> erase_matching(std::string_view glob) = 0;
  /// Round-trip time of a no-op, or why the backend is unhealthy.
  virtual Result<Duration> ping() = 0;
  /// What the server says about itself (Redis: INFO and DBSIZE in one round trip).
  virtual Result<ServerInfo> server_info() = 0;
  /// Counters (see BackendStats).
  virtual BackendStats stats() const = 0;
  /// "memory", "redis", ...: for logs and metrics.
  virtual std::string_view kind() const noexcept = 0;

  /// Sends `message` to every subscriber of this backend's invalidation channel.
  virtual Result<void> publish(std::string_view message) = 0;
  /// Delivers the channel's messages to `handler` (on a thread of the backend's) until the returned
  /// object is destroyed. on_state(true) is called once the subscription is live. Destroy the
  /// subscription before the backend.
  virtual std::unique_ptr<Subscription> subscribe(InvalidationHandler handler) = 0;

 private:
  inline static std::atomic<std::uint64_t> next_serial_{0};
  const std::uint64_t serial_ = next_serial_.fetch_add(1, std::memory_order_relaxed) + 1;
};

}  // namespace larder
