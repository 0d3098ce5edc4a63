// larder/redis_backend.h — `larder::RedisBackend`: a Backend on Redis through hiredis.
// CMake: find_package(larder COMPONENTS redis) and link larder::redis (pkg-config: larder-redis).
//
//   auto l2 = std::make_shared<larder::RedisBackend>(larder::RedisOptions{
//       .uri = "redis://app:secret@127.0.0.1:6379/2",   // or .host/.port, .unix_socket, .user...
//       .key_prefix = "orders:",                        // every key and pattern stays under it
//       .command_timeout = 50ms});
//   larder::TieredCache<std::string, Order> orders({.max_entries = 50'000}, l2);
//
// CONNECTIONS. A pool of up to `pool_size` connections, opened lazily. Each one gets the full
// handshake (connect timeout, command timeout, TCP keepalive, AUTH, SELECT). A connection that
// fails with an I/O error is closed and replaced by a new one with the same handshake (never
// redisReconnect, which forgets timeouts, AUTH and SELECT); an I/O error also closes the idle
// connections, which a restarted or killed server has broken too. A caller waits at most
// `pool_wait_timeout` for a free connection (ErrorCode::kPoolTimeout). Host names are resolved
// by getaddrinfo, which the connect timeout does not cover: give an address to be sure.
//
// FAILURES are values: kTimeout, kConnection, kPoolTimeout, kBreakerOpen, kAuth (WRONGPASS,
// NOPERM, NOAUTH), kProtocol, kServer. RETRIES follow RedisOptions::retry (a RetryPolicy): an
// operation that failed with kConnection or kTimeout is attempted again, up to `attempts` in all,
// after a full-jitter exponential backoff, and only inside its deadline (command_timeout, every
// attempt included). By default reads (GET, MGET, SCAN, INFO) get one retry and writes none;
// idempotent writes (SET and UNLINK: put, put_many, erase, prefix and pattern erases) may be
// retried too. SET NX, scripts (tagged writes, erase_if_equal, erase_tagged) and PUBLISH never
// are: repeating them could change what they did. The circuit breaker (larder/circuit_breaker.h)
// counts CALLS, not attempts: a call whose retries all failed is one failure, so it opens after
// `consecutive_failures` failed calls whatever the retry policy. It counts kTimeout, kConnection
// and kPoolTimeout: a server that answers, even with an error, is up. ping() bypasses the breaker
// (it is what a health check wants to know).
//
// SIGNALS. hiredis writes with write(): a server that dies mid-write would raise SIGPIPE. Every
// call blocks SIGPIPE on the calling thread for the duration of its I/O and consumes a SIGPIPE it
// caused (as libpq does); process-wide signal handling is never changed.
//
// SECURITY. Passwords never appear in error messages or stats. Commands are sent argv-style
// (binary-safe; user data is never a format string). erase_prefix uses SCAN + UNLINK (never KEYS)
// with `* ? [ ] \` in the prefix escaped, so a prefix cannot match outside itself.
// set_if_absent is SET NX; erase_if_equal a three-line Lua script sent with EVAL (an ACL user
// needs +eval, or +@scripting, besides the read and write commands).
//
// TAGS. A tag is a sorted set at key_prefix + "\0tag:" + tag (a NUL no key of yours starts
// with), its members the tagged keys, each scored by its write's deadline (server TIME + TTL,
// +inf without one). A tagged write is one EVAL: the SET, then per tag ZADD, a prune of the
// members whose deadline has passed (ZREMRANGEBYSCORE -inf now), and the set's own expiry raised
// to the longest member's (PEXPIRE; PERSIST for a member without TTL). Cost per put: the same
// round trip as a SET, plus O(log n) per tag on the server; a set holds only live members after
// each tagged write, and an idle tag's set expires with its last member. erase_tagged pops 500
// members at a time (ZRANGE + ZREM + UNLINK in one script, so no server stall on a big tag) until
// the set is empty. Those scripts touch keys they are not passed in KEYS: fine on one server, not
// on Redis Cluster.
//
// INVALIDATION CHANNEL. publish()/subscribe() use Redis pub/sub on `channel` (default:
// key_prefix + "larder:invalidate:" + db; pub/sub ignores SELECT, hence the db in the name). An
// ACL user needs the channel permission too (e.g. `&orders:*`). The subscriber runs on its own
// thread and connection, pings every `heartbeat`, and reports the channel down (on_state(false))
// when a ping goes unanswered for two heartbeats or the connection breaks; it reconnects by itself.
//
// THREAD SAFETY. Every member may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "larder/backend.h"
#include "larder/circuit_breaker.h"

namespace larder {

/// How a RedisBackend retries an operation that failed with kConnection or kTimeout (see
/// FAILURES). Every field says its default.
struct RetryPolicy {
  /// Attempts in all, the first included, in [1, 10]; 1: never retry. Default 2.
  int attempts = 2;
  /// Cap of the first retry's wait, drawn uniformly from [0, cap] (full jitter). Default 2ms.
  Duration backoff = std::chrono::milliseconds(2);
  /// Each further retry's cap is the previous one's times this, >= 1. Default 2.
  double multiplier = 2.0;
  /// Largest cap, >= backoff. Default 50ms.
  Duration max_backoff = std::chrono::milliseconds(50);
  /// Retry reads: GET, MGET, SCAN, INFO. Default true.
  bool reads = true;
  /// Retry idempotent writes: SET (put, put_many) and UNLINK (erase, erase_prefix,
  /// erase_matching). A write whose reply was lost may have landed: the retry stores the same
  /// value again, or reports an erased key as not there. Default false.
  bool idempotent_writes = false;

  /// Throws larder::InvalidArgument naming the field.
  void validate() const;
};

/// Settings of a RedisBackend. Every field says its default. Field order is API.
struct RedisOptions {
  /// Server address (ignored with unix_socket or a uri). Default "127.0.0.1".
  std::string host = "127.0.0.1";
  /// Server port. Default 6379.
  int port = 6379;
  /// Unix socket path; when set, host and port are not used. Default "": TCP.
  std::string unix_socket{};
  /// `redis://[user[:password]@]host[:port][/db]` or `unix://[user[:password]@]/path[?db=N]`
  /// (user and password percent-decoded). Parts it gives override the fields above and below.
  /// Default "": use the fields.
  std::string uri{};
  /// ACL user for AUTH. Default "": the default user (AUTH password only, if a password is set).
  std::string user{};
  /// Password for AUTH. Default "": no AUTH. Never logged, never in error messages.
  std::string password{};
  /// Database for SELECT. Default 0.
  int db = 0;
  /// Namespace: prepended to every key; prefix deletes stay inside it. Default "".
  std::string key_prefix{};
  /// Limit of one connection attempt (TCP/unix connect; not DNS). Default 200ms.
  Duration connect_timeout = std::chrono::milliseconds(200);
  /// Deadline of one operation, retry included (socket send/receive timeout). Default 100ms.
  Duration command_timeout = std::chrono::milliseconds(100);
  /// Most connections open at once (the subscriber's not counted). Default 8.
  std::size_t pool_size = 8;
  /// Longest wait for a free pooled connection. Default 20ms.
  Duration pool_wait_timeout = std::chrono::milliseconds(20);
  /// TCP keepalive idle time (probes every third of it, 3 probes). Default 15s; zero: off.
  Duration keepalive = std::chrono::seconds(15);
  /// Older spelling of retry.reads: false turns read retries off. Default true.
  bool retry_reads = true;
  /// Older spelling of retry.backoff: a value other than 2ms replaces it (and raises
  /// retry.max_backoff to it if need be). Default 2ms.
  Duration retry_backoff = std::chrono::milliseconds(2);
  /// Circuit breaker settings (larder/circuit_breaker.h).
  BreakerOptions breaker{};
  /// Invalidation channel name. Default "": key_prefix + "larder:invalidate:" + db.
  std::string channel{};
  /// Subscriber ping interval; the channel is reported down after two unanswered. Default 250ms.
  Duration heartbeat = std::chrono::milliseconds(250);
  /// Which operations are retried, how often and how far apart (see FAILURES).
  RetryPolicy retry{};

  /// Applies `uri` to the fields and checks every field; throws larder::InvalidArgument naming the
  /// field (never echoing a password).
  void resolve();
};

class RedisBackend final : public Backend {
 public:
  /// Checks the options (RedisOptions::resolve) and prepares the pool; connects lazily, so a
  /// server that is down makes calls fail, not the constructor.
  explicit RedisBackend(RedisOptions options);
  ~RedisBackend() override;
  RedisBackend(const RedisBackend&) = delete;
  RedisBackend& operator=(const RedisBackend&) = delete;

  Result<std::optional<BackendEntry>> get(std::string_view key) override;
  Result<std::vector<std::optional<BackendEntry>>> get_many(
      std::span<const std::string_view> keys) override;
  Result<void> set(std::string_view key, std::string_view value, Duration ttl) override;
  Result<void> set_many(std::span<const BackendItem> items, Duration ttl) override;
  Result<bool> set_if_absent(std::string_view key, std::string_view value, Duration ttl) override;
  /// INFO server, INFO memory, INFO clients and DBSIZE in one pipeline. `keys` counts the whole
  /// database (every key prefix); a server that hides a field leaves it zero.
  Result<ServerInfo> server_info() override;
  /// SCAN MATCH key_prefix + glob (the prefix escaped), COUNT 1000 per round trip.
  Result<std::vector<std::string>> keys(std::string_view glob) override;
  /// The same scan, each batch UNLINKed.
  Result<std::size_t> erase_matching(std::string_view glob) override;
  /// One pipeline of EVALs of the tagged-write script (see TAGS).
  Result<std::vector<bool>> set_many_tagged(std::span<const BackendItem> items, Duration ttl,
                                            std::span<const std::string> tags,
                                            bool only_if_absent) override;
  /// Batches of 500 members (see TAGS).
  Result<std::vector<std::string>> erase_tagged(std::string_view tag) override;
  /// One pipeline of SET NX (PX ttl).
  Result<std::vector<bool>> set_many_if_absent(std::span<const BackendItem> items,
                                               Duration ttl) override;
  Result<bool> erase(std::string_view key) override;
  Result<bool> erase_if_equal(std::string_view key, std::string_view value) override;
  Result<std::size_t> erase_prefix(std::string_view prefix) override;
  Result<Duration> ping() override;
  BackendStats stats() const override;
  std::string_view kind() const noexcept override { return "redis"; }
  Result<void> publish(std::string_view message) override;
  std::unique_ptr<Subscription> subscribe(InvalidationHandler handler) override;

  /// The resolved options (password included: do not log them).
  const RedisOptions& options() const noexcept;
  /// Connections in the pool right now (idle + in use).
  std::size_t open_connections() const;

 private:
  struct Impl;
  class Subscriber;
  /// SCAN MATCH `pattern` (a full-key pattern), each batch of keys to each().
  Result<void> scan(const std::string& pattern,
                    const std::function<Result<void>(std::vector<std::string>&&)>& each);
  /// SCAN MATCH `pattern` with each batch UNLINKed (tags' sets spared, or not); how many went.
  Result<std::size_t> scan_unlink(const std::string& pattern, bool spare_tag_sets);
  /// UNLINK of full keys; how many existed.
  Result<std::size_t> unlink(const std::vector<std::string>& keys);
  /// Whether `full_key` is a tag's set under `prefix` (see TAGS).
  static bool is_tag_set(std::string_view full_key, std::string_view prefix);
  std::unique_ptr<Impl> impl_;
};

/// `prefix` with the glob metacharacters `* ? [ ] \` escaped by a backslash (for SCAN MATCH).
std::string escape_glob(std::string_view prefix);

}  // namespace larder
