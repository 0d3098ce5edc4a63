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
// NOPERM, NOAUTH), kProtocol, kServer. Reads (get, get_many) are retried at most once, after a
// full-jitter backoff, only for kConnection/kTimeout and only inside the command deadline; writes
// are never retried. The circuit breaker (larder/circuit_breaker.h) counts kTimeout,
// kConnection and kPoolTimeout: a server that answers, even with an error, is up. ping() bypasses
// the breaker (it is what a health check wants to know).
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
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "larder/backend.h"
#include "larder/circuit_breaker.h"

namespace larder {

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
  /// Retry a failed read once (see the file comment). Default true.
  bool retry_reads = true;
  /// Upper bound of the retry's full-jitter backoff. Default 2ms.
  Duration retry_backoff = std::chrono::milliseconds(2);
  /// Circuit breaker settings (larder/circuit_breaker.h).
  BreakerOptions breaker{};
  /// Invalidation channel name. Default "": key_prefix + "larder:invalidate:" + db.
  std::string channel{};
  /// Subscriber ping interval; the channel is reported down after two unanswered. Default 250ms.
  Duration heartbeat = std::chrono::milliseconds(250);

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
  std::unique_ptr<Impl> impl_;
};

/// `prefix` with the glob metacharacters `* ? [ ] \` escaped by a backslash (for SCAN MATCH).
std::string escape_glob(std::string_view prefix);

}  // namespace larder
