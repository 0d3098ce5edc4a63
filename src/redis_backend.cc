// RedisBackend: see include/larder/redis_backend.h.

#include "larder/redis_backend.h"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "larder/detail/backend_counters.h"
#include "larder/detail/format.h"
#include "larder/errors.h"
#include "larder/options.h"

namespace larder {
namespace {

using Steady = std::chrono::steady_clock;

// ---- options ----------------------------------------------------------------------------------

[[noreturn]] void bad(const char* field, const std::string& why) {
  throw InvalidArgument(std::string("larder: RedisOptions.") + field + " " + why);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, const char* part) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() + 0 || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
      bad("uri", std::string("has a malformed %-escape in its ") + part);
    }
    out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
    i += 2;
  }
  return out;
}

int parse_int(std::string_view s, const char* what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) {
    bad("uri", std::string("has an invalid ") + what + " '" + std::string(s) + "'");
  }
  return v;
}

void apply_uri(RedisOptions& o) {
  std::string_view u = o.uri;
  const bool is_unix = u.starts_with("unix://");
  if (!is_unix && !u.starts_with("redis://")) {
    bad("uri", "must start with redis:// or unix:// (got '" +
                   std::string(u.substr(0, u.find("://") == std::string_view::npos
                                               ? std::min<std::size_t>(u.size(), 8)
                                               : u.find("://") + 3)) +
                   "...')");
  }
  u.remove_prefix(is_unix ? 7 : 8);
  // Credentials: everything before the last '@' (a password may contain '@' only %-encoded, but
  // be lenient: the last '@' ends them).
  if (const std::size_t at = u.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = u.substr(0, at);
    u.remove_prefix(at + 1);
    const std::size_t colon = cred.find(':');
    if (colon == std::string_view::npos) {
      o.user = percent_decode(cred, "user");
    } else {
      o.user = percent_decode(cred.substr(0, colon), "user");
      o.password = percent_decode(cred.substr(colon + 1), "password");
    }
  }
  if (is_unix) {
    std::string_view path = u;
    if (const std::size_t q = u.find('?'); q != std::string_view::npos) {
      path = u.substr(0, q);
      std::string_view query = u.substr(q + 1);
      if (!query.starts_with("db=")) bad("uri", "accepts only ?db=N after a unix socket path");
      o.db = parse_int(query.substr(3), "db");
    }
    if (path.empty() || path[0] != '/') bad("uri", "needs an absolute unix socket path");
    o.unix_socket = std::string(path);
    return;
  }
  std::string_view hostport = u;
  if (const std::size_t slash = u.find('/'); slash != std::string_view::npos) {
    hostport = u.substr(0, slash);
    std::string_view db = u.substr(slash + 1);
    if (!db.empty()) o.db = parse_int(db, "db");
  }
  if (hostport.starts_with('[')) {  // [v6]:port
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) bad("uri", "has an unterminated [IPv6] host");
    o.host = std::string(hostport.substr(1, close - 1));
    hostport.remove_prefix(close + 1);
    if (hostport.starts_with(':')) o.port = parse_int(hostport.substr(1), "port");
  } else if (const std::size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    o.host = std::string(hostport.substr(0, colon));
    o.port = parse_int(hostport.substr(colon + 1), "port");
  } else if (!hostport.empty()) {
    o.host = std::string(hostport);
  }
}

timeval to_timeval(Duration d) {
  const auto us =
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  return timeval{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
}

// ---- SIGPIPE ----------------------------------------------------------------------------------

/// Blocks SIGPIPE on this thread for its lifetime and consumes one that arrived meanwhile (unless
/// one was already pending before). The libpq approach: never touches process-wide handlers.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

// ---- hiredis helpers --------------------------------------------------------------------------

struct ContextDeleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

/// The error a context is in (after a failed hiredis call); `saved_errno` taken right after it.
Error context_error(const redisContext* c, int saved_errno) {
  std::string what = c->errstr;
  if (c->err == REDIS_ERR_PROTOCOL || c->err == REDIS_ERR_OOM) {
    return {ErrorCode::kProtocol, "larder: redis protocol error: " + what};
  }
  if (c->err == REDIS_ERR_IO &&
      (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT ||
       saved_errno == EINPROGRESS || what.find("timed out") != std::string::npos ||
       what.find("temporarily unavailable") != std::string::npos)) {
    return {ErrorCode::kTimeout, "larder: redis timeout: " + what};
  }
  return {ErrorCode::kConnection, "larder: redis connection: " + what};
}

/// A server error reply: auth/permission kinds apart.
Error server_error(const redisReply* r, std::string_view during) {
  std::string msg(r->str, r->len);
  const bool auth = msg.starts_with("NOPERM") || msg.starts_with("NOAUTH") ||
                    msg.starts_with("WRONGPASS") || msg.starts_with("ERR AUTH") ||
                    msg.find("invalid password") != std::string::npos ||
                    msg.find("invalid username-password") != std::string::npos;
  return {auth ? ErrorCode::kAuth : ErrorCode::kServer,
          "larder: redis " + std::string(during) + ": " + msg};
}

bool counts_for_breaker(ErrorCode c) {
  return c == ErrorCode::kTimeout || c == ErrorCode::kConnection || c == ErrorCode::kPoolTimeout;
}

/// argv of one command.
struct Command {
  std::vector<std::string_view> args;
};

/// Queues one command, argv-style (binary-safe; never a format string). false: hiredis could not
/// encode it (out of memory).
bool append(redisContext* c, const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()) ==
         REDIS_OK;
}

void set_keepalive(redisContext* c, Duration idle) {
  if (idle.count() <= 0 || c->connection_type != REDIS_CONN_TCP) return;
  const int on = 1;
  const int secs = std::max<int>(
      1, static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(idle).count()));
  const int intvl = std::max(1, secs / 3), cnt = 3;
  setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof secs);
  setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

std::string ms_string(Duration ttl) {
  const std::int64_t ns = ttl.count();
  const std::int64_t ms = std::max<std::int64_t>(1, (ns + 999'999) / 1'000'000);
  return std::to_string(ms);
}

std::uint64_t jitter_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

void RedisOptions::resolve() {
  if (!uri.empty()) apply_uri(*this);
  if (unix_socket.empty()) {
    if (host.empty()) bad("host", "must not be empty (or set unix_socket or uri)");
    if (port <= 0 || port > 65535)
      bad("port", "must be in [1, 65535] (got " + std::to_string(port) + ")");
  }
  if (db < 0) bad("db", "must not be negative (got " + std::to_string(db) + ")");
  if (!password.empty() && password.find('\0') != std::string::npos)
    bad("password", "contains NUL");
  auto positive = [](const char* field, Duration d) {
    if (d.count() <= 0) bad(field, "must be positive (got " + detail::format_duration(d) + ")");
  };
  positive("connect_timeout", connect_timeout);
  positive("command_timeout", command_timeout);
  positive("pool_wait_timeout", pool_wait_timeout);
  positive("heartbeat", heartbeat);
  if (keepalive.count() < 0) bad("keepalive", "must not be negative");
  if (retry_backoff.count() < 0) bad("retry_backoff", "must not be negative");
  if (!retry_reads) retry.reads = false;
  if (retry_backoff != std::chrono::milliseconds(2)) {  // the older spelling, set: it wins
    retry.backoff = retry_backoff;
    retry.max_backoff = std::max(retry.max_backoff, retry_backoff);
  }
  retry.validate();
  if (pool_size == 0 || pool_size > 1024) {
    bad("pool_size", "must be in [1, 1024] (got " + std::to_string(pool_size) + ")");
  }
  breaker.validate();
  if (channel.empty()) channel = key_prefix + "larder:invalidate:" + std::to_string(db);
}

void RetryPolicy::validate() const {
  auto bad = [](const std::string& field, const std::string& why) {
    throw InvalidArgument("larder: RedisOptions.retry." + field + " " + why);
  };
  if (attempts < 1 || attempts > 10) {
    bad("attempts", "must be in [1, 10] (got " + std::to_string(attempts) + ")");
  }
  if (backoff.count() < 0) bad("backoff", "must not be negative");
  if (!(multiplier >= 1.0) || multiplier > 1000.0) {
    bad("multiplier", "must be in [1, 1000] (got " + std::to_string(multiplier) + ")");
  }
  if (max_backoff < backoff) {
    bad("max_backoff", "must not be below backoff (" + detail::format_duration(max_backoff) +
                           " < " + detail::format_duration(backoff) + ")");
  }
}

std::string escape_glob(std::string_view prefix) {
  std::string out;
  out.reserve(prefix.size() + 4);
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// ---- the backend ------------------------------------------------------------------------------

namespace {
/// What an operation is, for the retry policy: a read, a write that may run twice (SET, UNLINK),
/// or one that must not (SET NX, scripts, PUBLISH).
enum class Op { kRead, kIdempotentWrite, kWrite };
}  // namespace

struct RedisBackend::Impl {
  explicit Impl(RedisOptions o) : options(std::move(o)), breaker(options.breaker) {}

  RedisOptions options;
  detail::BackendCounters counters;
  CircuitBreaker breaker;

  mutable std::mutex mu;
  std::condition_variable freed;
  std::vector<Context> idle;  // guarded by mu
  std::size_t open = 0;       // guarded by mu: idle + leased + being connected

  // -- connections --

  /// A new connection with the full handshake, with `timeout` as its command timeout.
  Result<Context> connect(Duration timeout) {
    SigpipeGuard guard;
    const timeval tv = to_timeval(options.connect_timeout);
    Context c(options.unix_socket.empty()
                  ? redisConnectWithTimeout(options.host.c_str(), options.port, tv)
                  : redisConnectUnixWithTimeout(options.unix_socket.c_str(), tv));
    const int saved = errno;
    if (!c) return Error{ErrorCode::kConnection, "larder: redis connect: out of memory"};
    if (c->err) {
      Error e = context_error(c.get(), saved);
      e.message += where();
      return e;
    }
    redisSetTimeout(c.get(), to_timeval(timeout));
    set_keepalive(c.get(), options.keepalive);
    if (!options.password.empty()) {
      std::vector<std::string_view> args{"AUTH"};
      if (!options.user.empty()) args.push_back(options.user);
      args.push_back(options.password);
      Result<Reply> r = command(c.get(), args, "AUTH");
      if (!r) {
        Error e = r.error();
        if (e.code == ErrorCode::kAuth && !options.user.empty()) {
          e.message += " (user '" + options.user + "')";
        }
        return e;
      }
    }
    if (options.db != 0) {
      const std::string db = std::to_string(options.db);
      Result<Reply> r = command(c.get(), {"SELECT", db}, "SELECT");
      if (!r) return r.error();
    }
    counters.connection_opened();
    return c;
  }

  std::string where() const {
    return options.unix_socket.empty()
               ? " (" + options.host + ":" + std::to_string(options.port) + ")"
               : " (" + options.unix_socket + ")";
  }

  /// One command on `c`, its error reply turned into an Error.
  static Result<Reply> command(redisContext* c, const std::vector<std::string_view>& args,
                               std::string_view during) {
    if (!append(c, args)) return Error{ErrorCode::kProtocol, "larder: redis: cannot encode"};
    void* raw = nullptr;
    const int rc = redisGetReply(c, &raw);
    const int saved = errno;
    Reply r(static_cast<redisReply*>(raw));
    if (rc != REDIS_OK || !r) return context_error(c, saved);
    if (r->type == REDIS_REPLY_ERROR) return server_error(r.get(), during);
    return r;
  }

  /// A pooled connection, or why none could be had before the pool wait timeout.
  Result<Context> lease() {
    std::unique_lock<std::mutex> lock(mu);
    const auto until = Steady::now() + options.pool_wait_timeout;
    for (;;) {
      if (!idle.empty()) {
        Context c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
      if (open < options.pool_size) {
        ++open;
        lock.unlock();
        Result<Context> c = connect(options.command_timeout);
        if (!c) {
          lock.lock();
          --open;
          freed.notify_one();
        }
        return c;
      }
      if (freed.wait_until(lock, until) == std::cv_status::timeout && idle.empty() &&
          open >= options.pool_size) {
        return Error{ErrorCode::kPoolTimeout,
                     "larder: redis: no free connection within pool_wait_timeout (" +
                         detail::format_duration(options.pool_wait_timeout) + ", pool_size " +
                         std::to_string(options.pool_size) + ")"};
      }
    }
  }

  /// Returns a connection to the pool; a broken one is closed, and with it the idle ones (what
  /// broke it, a restart or CLIENT KILL, has most likely broken them too).
  void give_back(Context c, bool broken) {
    std::vector<Context> drop;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!broken) {
        idle.push_back(std::move(c));
        freed.notify_one();
        return;
      }
      drop.swap(idle);
      open -= 1 + drop.size();
      freed.notify_all();
    }
    counters.connection_broken();
    SigpipeGuard guard;
    c.reset();
    drop.clear();
  }

  // -- running commands --

  /// Sends `cmds` as one pipeline and reads every reply. Goes through the breaker once per call
  /// (which counts the call's outcome, not its attempts), retries as options.retry says for
  /// `op`, records the outcome. A server error reply in any position fails the call.
  Result<std::vector<Reply>> run(const std::vector<Command>& cmds, Op op, std::string_view during) {
    const auto t0 = Steady::now();
    const auto deadline = t0 + options.command_timeout;
    switch (breaker.admit()) {
      case CircuitBreaker::kRefuse:
        counters.refused(ErrorCode::kBreakerOpen);
        return Error{ErrorCode::kBreakerOpen, "larder: redis: circuit breaker open" + where()};
      case CircuitBreaker::kProbe: {
        Result<Duration> p = probe();
        breaker.probe_done(p.ok());
        if (!p) {
          counters.refused(ErrorCode::kBreakerOpen);
          return Error{ErrorCode::kBreakerOpen,
                       "larder: redis: circuit breaker open, probe failed: " + p.error().message};
        }
        break;
      }
      case CircuitBreaker::kGo:
        break;
    }
    const RetryPolicy& retry = options.retry;
    const bool may_retry =
        (op == Op::kRead && retry.reads) || (op == Op::kIdempotentWrite && retry.idempotent_writes);
    Duration cap = retry.backoff;
    for (int attempt = 1;; ++attempt) {
      const Duration left = deadline - Steady::now();
      Result<std::vector<Reply>> r = attempt_once(cmds, during, attempt > 1 ? left : Duration{});
      const bool retryable =
          !r && may_retry && attempt < retry.attempts &&
          (r.error().code == ErrorCode::kConnection || r.error().code == ErrorCode::kTimeout);
      if (retryable) {
        thread_local std::mt19937_64 rng(jitter_seed());
        const Duration limit = std::min(cap, deadline - Steady::now());
        const Duration backoff{
            limit.count() > 0 ? std::uniform_int_distribution<std::int64_t>(0, limit.count())(rng)
                              : 0};
        if (Steady::now() + backoff + std::chrono::microseconds(100) < deadline) {
          if (backoff.count() > 0) {
            std::this_thread::sleep_for(backoff);  // jitter between attempts, not synchronization
          }
          counters.retried();
          cap = std::min<Duration>(retry.max_backoff,
                                   Duration{static_cast<std::int64_t>(
                                       static_cast<double>(cap.count()) * retry.multiplier)});
          continue;
        }
      }
      breaker.record(!r && counts_for_breaker(r.error().code));
      counters.record(Steady::now() - t0, r ? nullptr : &r.error());
      return r;
    }
  }

  /// One attempt: lease, pipeline, read, give back. `timeout` > 0: use it for this attempt only.
  Result<std::vector<Reply>> attempt_once(const std::vector<Command>& cmds, std::string_view during,
                                          Duration timeout) {
    Result<Context> leased = lease();
    if (!leased) return leased.error();
    Context c = std::move(*leased);
    if (timeout.count() > 0) redisSetTimeout(c.get(), to_timeval(timeout));
    std::vector<Reply> replies;
    std::optional<Error> err;
    {
      SigpipeGuard guard;
      for (const Command& cmd : cmds) {
        if (!append(c.get(), cmd.args)) {
          err = Error{ErrorCode::kProtocol, "larder: redis: cannot encode"};
          break;
        }
      }
      for (std::size_t i = 0; !err && i < cmds.size(); ++i) {
        void* raw = nullptr;
        const int rc = redisGetReply(c.get(), &raw);
        const int saved = errno;
        Reply r(static_cast<redisReply*>(raw));
        if (rc != REDIS_OK || !r) {
          err = context_error(c.get(), saved);
          err->message += where();
          break;
        }
        replies.push_back(std::move(r));
      }
    }
    // Any failure here leaves replies unread (or the socket broken): the connection goes.
    const bool drop = err.has_value();
    if (timeout.count() > 0 && !drop) redisSetTimeout(c.get(), to_timeval(options.command_timeout));
    give_back(std::move(c), drop);
    if (err) return *err;
    for (const Reply& r : replies) {
      if (r->type == REDIS_REPLY_ERROR) return server_error(r.get(), during);
    }
    return replies;
  }

  /// The half-open probe: PING on a fresh connection (closed after) with the probe timeout.
  Result<Duration> probe() {
    const auto t0 = Steady::now();
    Result<Context> c = connect(options.breaker.probe_timeout);
    if (!c) return c.error();
    SigpipeGuard guard;
    Result<Reply> r = command(c->get(), {"PING"}, "PING");
    if (!r) return r.error();
    return Duration{Steady::now() - t0};
  }

  std::string key(std::string_view k) const {
    std::string out;
    out.reserve(options.key_prefix.size() + k.size());
    out += options.key_prefix;
    out += k;
    return out;
  }

  static Result<std::optional<BackendEntry>> entry(const redisReply* value,
                                                   const redisReply* pttl) {
    if (value->type == REDIS_REPLY_NIL) return std::optional<BackendEntry>{};
    if (value->type != REDIS_REPLY_STRING || pttl->type != REDIS_REPLY_INTEGER) {
      return Error{ErrorCode::kProtocol, "larder: redis: unexpected reply type to GET/PTTL"};
    }
    // -2: expired between GET and PTTL; 0: expires within the millisecond. Both read as absent
    // (a reader never gets an entry at or past its deadline, and no TTL of zero is handed on).
    if (pttl->integer == -2 || pttl->integer == 0) return std::optional<BackendEntry>{};
    const Duration ttl =
        pttl->integer < 0 ? kNoExpiry : Duration{std::chrono::milliseconds(pttl->integer)};
    return std::optional<BackendEntry>{BackendEntry{std::string(value->str, value->len), ttl}};
  }
};

RedisBackend::RedisBackend(RedisOptions options) {
  options.resolve();
  impl_ = std::make_unique<Impl>(std::move(options));
}

RedisBackend::~RedisBackend() {
  SigpipeGuard guard;  // closing sockets must not raise SIGPIPE either
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->idle.clear();
}

const RedisOptions& RedisBackend::options() const noexcept { return impl_->options; }

std::size_t RedisBackend::open_connections() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->open;
}

Result<std::optional<BackendEntry>> RedisBackend::get(std::string_view k) {
  const std::string pk = impl_->key(k);
  Result<std::vector<Reply>> r = impl_->run({{{"GET", pk}}, {{"PTTL", pk}}}, Op::kRead, "GET");
  if (!r) return r.error();
  return Impl::entry((*r)[0].get(), (*r)[1].get());
}

Result<std::vector<std::optional<BackendEntry>>> RedisBackend::get_many(
    std::span<const std::string_view> keys) {
  std::vector<std::optional<BackendEntry>> out;
  if (keys.empty()) return out;
  std::vector<std::string> pks;
  pks.reserve(keys.size());
  for (std::string_view k : keys) pks.push_back(impl_->key(k));
  std::vector<Command> cmds(1 + keys.size());
  cmds[0].args.push_back("MGET");
  for (std::size_t i = 0; i < pks.size(); ++i) {
    cmds[0].args.push_back(pks[i]);
    cmds[1 + i].args = {"PTTL", pks[i]};
  }
  Result<std::vector<Reply>> r = impl_->run(cmds, Op::kRead, "MGET");
  if (!r) return r.error();
  const redisReply* values = (*r)[0].get();
  if (values->type != REDIS_REPLY_ARRAY || values->elements != keys.size()) {
    return Error{ErrorCode::kProtocol, "larder: redis: unexpected reply to MGET"};
  }
  out.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Result<std::optional<BackendEntry>> e = Impl::entry(values->element[i], (*r)[1 + i].get());
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
  return out;
}

Result<void> RedisBackend::set(std::string_view k, std::string_view value, Duration ttl) {
  BackendItem item{k, value};
  return set_many(std::span<const BackendItem>(&item, 1), ttl);
}

Result<void> RedisBackend::set_many(std::span<const BackendItem> items, Duration ttl) {
  if (ttl != kNoExpiry && ttl.count() <= 0) {
    return Error{ErrorCode::kServer, "larder: Backend::set ttl must be positive or kNoExpiry"};
  }
  if (items.empty()) return {};
  const std::string ms = ttl == kNoExpiry ? std::string() : ms_string(ttl);
  std::vector<std::string> pks;
  pks.reserve(items.size());
  for (const BackendItem& it : items) pks.push_back(impl_->key(it.key));
  std::vector<Command> cmds(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    cmds[i].args = {"SET", pks[i], items[i].value};
    if (ttl != kNoExpiry) {
      cmds[i].args.push_back("PX");
      cmds[i].args.push_back(ms);
    }
  }
  Result<std::vector<Reply>> r = impl_->run(cmds, Op::kIdempotentWrite, "SET");
  if (!r) return r.error();
  return {};
}

Result<bool> RedisBackend::set_if_absent(std::string_view k, std::string_view value, Duration ttl) {
  BackendItem item{k, value};
  Result<std::vector<bool>> r = set_many_if_absent(std::span<const BackendItem>(&item, 1), ttl);
  if (!r) return r.error();
  return bool((*r)[0]);
}

Result<std::vector<bool>> RedisBackend::set_many_if_absent(std::span<const BackendItem> items,
                                                           Duration ttl) {
  if (ttl != kNoExpiry && ttl.count() <= 0) {
    return Error{ErrorCode::kServer, "larder: Backend::set ttl must be positive or kNoExpiry"};
  }
  std::vector<bool> out;
  if (items.empty()) return out;
  const std::string ms = ttl == kNoExpiry ? std::string() : ms_string(ttl);
  std::vector<std::string> pks;
  pks.reserve(items.size());
  for (const BackendItem& it : items) pks.push_back(impl_->key(it.key));
  std::vector<Command> cmds(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    cmds[i].args = {"SET", pks[i], items[i].value, "NX"};
    if (ttl != kNoExpiry) {
      cmds[i].args.push_back("PX");
      cmds[i].args.push_back(ms);
    }
  }
  Result<std::vector<Reply>> r = impl_->run(cmds, Op::kWrite, "SET NX");
  if (!r) return r.error();
  out.reserve(items.size());
  for (const Reply& reply : *r) {
    if (reply->type == REDIS_REPLY_NIL) {
      out.push_back(false);  // the key was there
    } else if (reply->type == REDIS_REPLY_STATUS) {
      out.push_back(true);
    } else {
      return Error{ErrorCode::kProtocol, "larder: redis: unexpected reply to SET NX"};
    }
  }
  return out;
}

namespace {
/// Where a tag's member set lives (before the key prefix): a NUL no user key starts with.
std::string tag_key(std::string_view tag) {
  std::string k("\0tag:", 5);
  k += tag;
  return k;
}
}  // namespace

Result<std::vector<bool>> RedisBackend::set_many_tagged(std::span<const BackendItem> items,
                                                        Duration ttl,
                                                        std::span<const std::string> tags,
                                                        bool only_if_absent) {
  if (ttl != kNoExpiry && ttl.count() <= 0) {
    return Error{ErrorCode::kServer, "larder: Backend::set ttl must be positive or kNoExpiry"};
  }
  // KEYS[1] the key, KEYS[2..] its tags' sets; ARGV: value, ttl ms ("0": none), "1" for only if
  // absent, the member (the key without the prefix). Returns 1 if it stored.
  static constexpr std::string_view kScript = R"lua(
local ttl = tonumber(ARGV[2])
local set = {'SET', KEYS[1], ARGV[1]}
if ARGV[3] == '1' then set[#set + 1] = 'NX' end
if ttl > 0 then set[#set + 1] = 'PX'; set[#set + 1] = ARGV[2] end
if not redis.call(unpack(set)) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = '+inf'
if ttl > 0 then score = string.format('%.0f', now + ttl) end
for i = 2, #KEYS do
  local existed = redis.call('EXISTS', KEYS[i])
  redis.call('ZADD', KEYS[i], score, ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', string.format('%.0f', now))
  if ttl > 0 then
    local left = redis.call('PTTL', KEYS[i])
    if existed == 0 or (left >= 0 and left < ttl) then redis.call('PEXPIRE', KEYS[i], ttl) end
  else
    redis.call('PERSIST', KEYS[i])
  end
end
return 1
)lua";
  std::vector<bool> out;
  if (items.empty()) return out;
  const std::string ms = ttl == kNoExpiry ? std::string("0") : ms_string(ttl);
  const std::string nkeys = std::to_string(1 + tags.size());
  std::vector<std::string> tag_keys;
  tag_keys.reserve(tags.size());
  for (const std::string& tag : tags) tag_keys.push_back(impl_->key(tag_key(tag)));
  std::vector<std::string> pks;
  pks.reserve(items.size());
  for (const BackendItem& it : items) pks.push_back(impl_->key(it.key));
  std::vector<Command> cmds(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    cmds[i].args = {"EVAL", kScript, nkeys, pks[i]};
    for (const std::string& tk : tag_keys) cmds[i].args.push_back(tk);
    cmds[i].args.push_back(items[i].value);
    cmds[i].args.push_back(ms);
    cmds[i].args.push_back(only_if_absent ? "1" : "0");
    cmds[i].args.push_back(items[i].key);
  }
  Result<std::vector<Reply>> r = impl_->run(cmds, Op::kWrite, "EVAL");
  if (!r) return r.error();
  out.reserve(items.size());
  for (const Reply& reply : *r) {
    if (reply->type != REDIS_REPLY_INTEGER) {
      return Error{ErrorCode::kProtocol, "larder: redis: unexpected reply to the tagged write"};
    }
    out.push_back(reply->integer == 1);
  }
  return out;
}

Result<std::vector<std::string>> RedisBackend::erase_tagged(std::string_view tag) {
  // KEYS[1] the tag's set; ARGV: the key prefix, the batch size. Drops the members whose tagged
  // write has expired (they no longer name it), pops a batch of the others and unlinks their
  // keys; returns {members popped, the ones that existed}.
  static constexpr std::string_view kScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
local m = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
if #m == 0 then return {{}, {}} end
redis.call('ZREM', KEYS[1], unpack(m))
local gone = {}
for i = 1, #m do
  if redis.call('UNLINK', ARGV[1] .. m[i]) == 1 then gone[#gone + 1] = m[i] end
end
return {m, gone}
)lua";
  const std::string tk = impl_->key(tag_key(tag));
  std::vector<std::string> removed;
  for (;;) {
    Result<std::vector<Reply>> r = impl_->run(
        {{{"EVAL", kScript, "1", tk, impl_->options.key_prefix, "500"}}}, Op::kWrite, "EVAL");
    if (!r) return r.error();
    const redisReply* reply = (*r)[0].get();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_ARRAY ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
      return Error{ErrorCode::kProtocol, "larder: redis: unexpected reply to erase_tagged"};
    }
    const redisReply* gone = reply->element[1];
    for (std::size_t i = 0; i < gone->elements; ++i) {
      removed.emplace_back(gone->element[i]->str, gone->element[i]->len);
    }
    if (reply->element[0]->elements == 0) break;
  }
  return removed;
}

Result<bool> RedisBackend::erase_if_equal(std::string_view k, std::string_view value) {
  // One script, so nothing lands between the comparison and the delete. Sent whole each time
  // (EVAL, not EVALSHA): it is short, and a server restart cannot lose it.
  static constexpr std::string_view kScript =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
      "return 0";
  const std::string pk = impl_->key(k);
  Result<std::vector<Reply>> r =
      impl_->run({{{"EVAL", kScript, "1", pk, value}}}, Op::kWrite, "EVAL");
  if (!r) return r.error();
  const redisReply* reply = (*r)[0].get();
  if (reply->type != REDIS_REPLY_INTEGER) {
    return Error{ErrorCode::kProtocol,
                 "larder: redis: unexpected reply to the erase_if_equal "
                 "script"};
  }
  return reply->integer > 0;
}

Result<bool> RedisBackend::erase(std::string_view k) {
  const std::string pk = impl_->key(k);
  Result<std::vector<Reply>> r = impl_->run({{{"UNLINK", pk}}}, Op::kIdempotentWrite, "UNLINK");
  if (!r) return r.error();
  return (*r)[0]->type == REDIS_REPLY_INTEGER && (*r)[0]->integer > 0;
}

Result<std::size_t> RedisBackend::erase_prefix(std::string_view prefix) {
  // (Tags' sets go too when the prefix is empty: clear() forgets the tags with the keys.)
  return scan_unlink(escape_glob(impl_->options.key_prefix) + escape_glob(prefix) + "*",
                     /*spare_tag_sets=*/false);
}

Result<std::vector<std::string>> RedisBackend::keys(std::string_view glob) {
  const std::string& prefix = impl_->options.key_prefix;
  std::vector<std::string> out;
  Result<void> r = scan(escape_glob(prefix) + std::string(glob),
                        [&](std::vector<std::string>&& keys) -> Result<void> {
                          for (std::string& k : keys) {
                            if (is_tag_set(k, prefix)) continue;
                            out.push_back(k.substr(prefix.size()));
                          }
                          return {};
                        });
  if (!r) return r.error();
  return out;
}

Result<std::size_t> RedisBackend::erase_matching(std::string_view glob) {
  return scan_unlink(escape_glob(impl_->options.key_prefix) + std::string(glob),
                     /*spare_tag_sets=*/true);
}

Result<std::size_t> RedisBackend::scan_unlink(const std::string& pattern, bool spare_tag_sets) {
  const std::string& prefix = impl_->options.key_prefix;
  std::size_t removed = 0;
  Result<void> r = scan(pattern, [&](std::vector<std::string>&& keys) -> Result<void> {
    if (spare_tag_sets) {
      std::erase_if(keys, [&](const std::string& k) { return is_tag_set(k, prefix); });
    }
    Result<std::size_t> n = unlink(keys);
    if (!n) return n.error();
    removed += *n;
    return {};
  });
  if (!r) return r.error();
  return removed;
}

bool RedisBackend::is_tag_set(std::string_view full_key, std::string_view prefix) {
  static constexpr std::string_view kTag("\0tag:", 5);
  return full_key.size() >= prefix.size() + kTag.size() &&
         full_key.substr(prefix.size(), kTag.size()) == kTag;
}

Result<void> RedisBackend::scan(
    const std::string& pattern,
    const std::function<Result<void>(std::vector<std::string>&&)>& each) {
  std::string cursor = "0";
  do {
    Result<std::vector<Reply>> r =
        impl_->run({{{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}}}, Op::kRead, "SCAN");
    if (!r) return r.error();
    const redisReply* s = (*r)[0].get();
    if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
        s->element[0]->type != REDIS_REPLY_STRING || s->element[1]->type != REDIS_REPLY_ARRAY) {
      return Error{ErrorCode::kProtocol, "larder: redis: unexpected reply to SCAN"};
    }
    cursor.assign(s->element[0]->str, s->element[0]->len);
    const redisReply* found = s->element[1];
    if (found->elements == 0) continue;
    std::vector<std::string> keys;
    keys.reserve(found->elements);
    for (std::size_t i = 0; i < found->elements; ++i) {
      keys.emplace_back(found->element[i]->str, found->element[i]->len);
    }
    if (Result<void> e = each(std::move(keys)); !e) return e;
  } while (cursor != "0");
  return {};
}

Result<std::size_t> RedisBackend::unlink(const std::vector<std::string>& keys) {
  if (keys.empty()) return std::size_t{0};
  Command unlink;
  unlink.args.reserve(keys.size() + 1);
  unlink.args.push_back("UNLINK");
  for (const std::string& k : keys) unlink.args.push_back(k);
  Result<std::vector<Reply>> u = impl_->run({unlink}, Op::kIdempotentWrite, "UNLINK");
  if (!u) return u.error();
  if ((*u)[0]->type != REDIS_REPLY_INTEGER) return std::size_t{0};
  return static_cast<std::size_t>((*u)[0]->integer);
}

Result<ServerInfo> RedisBackend::server_info() {
  Result<std::vector<Reply>> r =
      impl_->run({{{"INFO", "server"}}, {{"INFO", "memory"}}, {{"INFO", "clients"}}, {{"DBSIZE"}}},
                 Op::kRead, "INFO");
  if (!r) return r.error();
  ServerInfo info;
  info.kind = "redis";
  // INFO is "field:value" lines (CRLF), with "# Section" headers.
  auto field = [](const redisReply* reply, std::string_view name) -> std::string_view {
    if (reply->type != REDIS_REPLY_STRING) return {};
    std::string_view text(reply->str, reply->len);
    while (!text.empty()) {
      const std::size_t end = text.find('\n');
      std::string_view line = text.substr(0, end);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() > name.size() && line.substr(0, name.size()) == name &&
          line[name.size()] == ':') {
        return line.substr(name.size() + 1);
      }
      if (end == std::string_view::npos) break;
      text.remove_prefix(end + 1);
    }
    return {};
  };
  auto number = [](std::string_view v) {
    std::uint64_t n = 0;
    std::from_chars(v.data(), v.data() + v.size(), n);
    return n;
  };
  info.version = std::string(field((*r)[0].get(), "redis_version"));
  info.uptime = std::chrono::seconds(number(field((*r)[0].get(), "uptime_in_seconds")));
  info.used_memory = number(field((*r)[1].get(), "used_memory"));
  info.connected_clients = number(field((*r)[2].get(), "connected_clients"));
  const redisReply* dbsize = (*r)[3].get();
  if (dbsize->type != REDIS_REPLY_INTEGER) {
    return Error{ErrorCode::kProtocol, "larder: redis: unexpected reply to DBSIZE"};
  }
  info.keys = static_cast<std::uint64_t>(dbsize->integer);
  return info;
}

Result<Duration> RedisBackend::ping() {
  // One attempt, past the breaker: a health check wants the server's state, not the breaker's.
  const auto t0 = Steady::now();
  Result<std::vector<Reply>> r = impl_->attempt_once({{{"PING"}}}, "PING", Duration{});
  const Duration took = Steady::now() - t0;
  impl_->counters.record(took, r ? nullptr : &r.error());
  if (!r) return r.error();
  return took;
}

BackendStats RedisBackend::stats() const {
  BackendStats s;
  impl_->counters.fill(s);
  impl_->breaker.fill(s);
  return s;
}

Result<void> RedisBackend::publish(std::string_view message) {
  Result<std::vector<Reply>> r =
      impl_->run({{{"PUBLISH", impl_->options.channel, message}}}, Op::kWrite, "PUBLISH");
  if (!r) return r.error();
  return {};
}

// ---- subscriber -------------------------------------------------------------------------------

class RedisBackend::Subscriber final : public Subscription {
 public:
  Subscriber(RedisBackend::Impl* backend, InvalidationHandler handler)
      : backend_(backend), handler_(std::move(handler)), wake_(eventfd(0, EFD_CLOEXEC)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Subscriber() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    const std::uint64_t one = 1;
    if (wake_ >= 0) (void)!write(wake_, &one, sizeof one);
    thread_.join();
    if (wake_ >= 0) close(wake_);
  }

 private:
  bool stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }
  void set_up(bool up) {
    if (up == up_) return;
    up_ = up;
    if (handler_.on_state) handler_.on_state(up);
  }

  void loop() {
    Duration backoff = std::chrono::milliseconds(20);
    while (!stopping()) {
      session();
      set_up(false);
      std::unique_lock<std::mutex> lock(mu_);
      // Reconnect backoff: wait for stop or the backoff, whichever first.
      cv_.wait_for(lock, backoff, [this] { return stop_; });
      backoff = std::min<Duration>(backoff * 2, std::chrono::milliseconds(500));
    }
  }

  /// One connection's life: subscribe, deliver, ping; returns when it breaks or on stop.
  void session() {
    Result<Context> c = backend_->connect(backend_->options.command_timeout);
    if (!c) return;
    redisContext* ctx = c->get();
    SigpipeGuard guard;
    const std::string& channel = backend_->options.channel;
    Result<Reply> sub = RedisBackend::Impl::command(ctx, {"SUBSCRIBE", channel}, "SUBSCRIBE");
    if (!sub) return;
    backend_->breaker.probe_now();  // the server answers: calls need not wait out open_for
    set_up(true);
    const auto hb = backend_->options.heartbeat;
    auto last_rx = Steady::now();
    bool ping_out = false;
    while (!stopping()) {
      pollfd fds[2] = {{ctx->fd, POLLIN, 0}, {wake_, POLLIN, 0}};
      const int wait_ms = static_cast<int>(std::max<std::int64_t>(
          1, std::chrono::duration_cast<std::chrono::milliseconds>(hb).count()));
      const int n = poll(fds, 2, wait_ms);
      if (n < 0 && errno != EINTR) return;
      if (fds[1].revents) return;  // stop
      if (n > 0 && fds[0].revents) {
        if (redisBufferRead(ctx) != REDIS_OK) return;
        void* raw = nullptr;
        for (;;) {
          if (redisGetReplyFromReader(ctx, &raw) != REDIS_OK) return;
          if (!raw) break;
          Reply r(static_cast<redisReply*>(raw));
          last_rx = Steady::now();
          ping_out = false;
          deliver(r.get());
        }
      }
      const auto now = Steady::now();
      if (ping_out && now - last_rx > 2 * hb) return;  // unanswered: the channel is down
      if (!ping_out && now - last_rx >= hb) {
        if (!append(ctx, {"PING"})) return;
        int done = 0;
        while (!done) {
          if (redisBufferWrite(ctx, &done) != REDIS_OK) return;
        }
        ping_out = true;
        last_rx = now;  // the deadline for the pong starts now
      }
    }
  }

  void deliver(const redisReply* r) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;  // pong, (un)subscribe notices
    const redisReply* kind = r->element[0];
    if (kind->type != REDIS_REPLY_STRING || std::string_view(kind->str, kind->len) != "message") {
      return;
    }
    const redisReply* msg = r->element[2];
    if (msg->type != REDIS_REPLY_STRING || !handler_.on_message) return;
    try {
      handler_.on_message(std::string_view(msg->str, msg->len));
    } catch (...) {
      // A throwing handler must not end the subscriber thread (std::terminate); the message is
      // dropped, as a lost message would be.
    }
  }

  RedisBackend::Impl* backend_;
  InvalidationHandler handler_;
  int wake_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  bool up_ = false;    // subscriber thread only
  std::thread thread_;
};

std::unique_ptr<Subscription> RedisBackend::subscribe(InvalidationHandler handler) {
  return std::make_unique<Subscriber>(impl_.get(), std::move(handler));
}

}  // namespace larder
