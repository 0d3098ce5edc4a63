// RedisBackend and TieredCache against a real redis-server on 127.0.0.1: the Backend contract,
// options and URIs, AUTH with an ACL user, prefix isolation, faults (kill, SIGSTOP, CLIENT KILL,
// restart, a kill during a multi-MiB write), the circuit breaker, corrupted bytes, and coherence
// between two caches and between two processes.
#include <fcntl.h>
#include <larder/glob.h>
#include <larder/memoize.h>
#include <larder/redis_backend.h>
#include <larder/tiered.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "backend_contract.h"
#include "glob_cases.h"
#include "redis_server.h"

using namespace std::chrono_literals;
using larder::ErrorCode;
using larder::RedisBackend;
using larder::RedisOptions;
using larder::TieredCache;
using larder_test::RedisServer;

namespace {

/// A key prefix no other test run uses on the shared server.
std::string unique_prefix(const char* what) {
  static std::atomic<int> n{0};
  return std::string("t") + std::to_string(getpid()) + "-" + std::to_string(++n) + ":" + what + ":";
}

// Timeouts for tests that are not about timeouts: generous, because the sanitizer builds run
// this suite beside stress tests on 2 cores, where the 100 ms default command timeout can pass
// (that made "SELECT puts keys in the configured db" fail once in a local ctest -j2).
RedisOptions patient(RedisOptions o) {
  o.connect_timeout = 2s;
  o.command_timeout = 2s;
  return o;
}

RedisOptions on(int port, std::string prefix) {
  return patient({.port = port, .key_prefix = std::move(prefix)});
}

larder::Options<std::string, std::string> l1(std::shared_ptr<larder::Clock> clock = nullptr) {
  return {.max_entries = 10'000, .clock = std::move(clock), .background_cleanup = 0s};
}

struct Article {
  std::uint64_t id = 0;
  std::string title;
  std::vector<float> embedding;
  std::map<std::string, std::string> meta;
  bool operator==(const Article&) const = default;
};

}  // namespace

template <>
struct larder::Fields<Article>
    : larder::Members<&Article::id, &Article::title, &Article::embedding, &Article::meta> {};

TEST_CASE("RedisBackend passes the Backend contract", "[redis]") {
  RedisBackend b(on(larder_test::shared_redis_port(), unique_prefix("contract")));
  larder_test::backend_contract(b);
}

TEST_CASE("RedisOptions: URIs are parsed, bad fields are named, passwords never echoed",
          "[redis]") {
  RedisOptions o{.uri = "redis://app%40x:p%3Ass@10.1.2.3:6380/4"};
  o.resolve();
  CHECK(o.host == "10.1.2.3");
  CHECK(o.port == 6380);
  CHECK(o.user == "app@x");
  CHECK(o.password == "p:ss");
  CHECK(o.db == 4);
  CHECK(o.channel == "larder:invalidate:4");

  RedisOptions u{.uri = "unix://:pw@/run/redis.sock?db=2", .key_prefix = "svc:"};
  u.resolve();
  CHECK(u.unix_socket == "/run/redis.sock");
  CHECK(u.password == "pw");
  CHECK(u.db == 2);
  CHECK(u.channel == "svc:larder:invalidate:2");

  auto message = [](RedisOptions r) {
    try {
      r.resolve();
    } catch (const larder::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string bad_port = message({.uri = "redis://u:hunter2@host:99999"});
  CHECK_THAT(bad_port, Catch::Contains("RedisOptions.port") && Catch::Contains("99999"));
  CHECK_THAT(bad_port, !Catch::Contains("hunter2"));
  CHECK_THAT(message({.uri = "http://x"}), Catch::Contains("redis://"));
  CHECK_THAT(message({.port = 0}), Catch::Contains("RedisOptions.port"));
  CHECK_THAT(message({.command_timeout = 0s}), Catch::Contains("RedisOptions.command_timeout"));
  CHECK_THAT(message({.pool_size = 0}), Catch::Contains("RedisOptions.pool_size"));
  CHECK_THAT(message({.breaker = {.window = 0}}), Catch::Contains("BreakerOptions.window"));
  CHECK(larder::escape_glob("a*b?c[d]e\\f") == "a\\*b\\?c\\[d\\]e\\\\f");
}

TEST_CASE("RedisBackend: a server that is not there is an error value, not a throw", "[redis]") {
  const int port = larder_test::free_port();  // nothing listens here
  RedisBackend b({.port = port, .connect_timeout = 200ms});
  auto r = b.get("k");
  REQUIRE(!r.ok());
  CHECK(r.error().code == ErrorCode::kConnection);
  CHECK_THAT(r.error().message, Catch::Contains("127.0.0.1:" + std::to_string(port)));
  CHECK(b.stats().errors_of(ErrorCode::kConnection) == 1);
}

TEST_CASE("RedisBackend: AUTH with an ACL user, wrong password, NOPERM outside its keys",
          "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string user = "app" + std::to_string(getpid());
  const std::string pattern = user + ":*";
  redisContext* c = redisConnect("127.0.0.1", port);
  REQUIRE(c);
  REQUIRE(c->err == 0);
  auto* rep =
      static_cast<redisReply*>(redisCommand(c, "ACL SETUSER %s reset on >s3cret-pw ~%s &%s +@all",
                                            user.c_str(), pattern.c_str(), pattern.c_str()));
  REQUIRE(rep);
  CHECK(std::string(rep->str, rep->len) == "OK");
  freeReplyObject(rep);
  redisFree(c);

  SECTION("right password: works, within its key pattern") {
    RedisBackend b(
        patient({.port = port, .user = user, .password = "s3cret-pw", .key_prefix = user + ":"}));
    REQUIRE(b.set("k", "v", 10s).ok());
    auto r = b.get("k");
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK((*r)->value == "v");
  }
  SECTION("the same through a URI") {
    RedisBackend b(
        patient({.uri = "redis://" + user + ":s3cret-pw@127.0.0.1:" + std::to_string(port) + "/0",
                 .key_prefix = user + ":"}));
    CHECK(b.set("k", "v", 10s).ok());
  }
  SECTION("wrong password: kAuth, and the password is not in the message") {
    RedisBackend b(
        patient({.port = port, .user = user, .password = "not-the-pw", .key_prefix = user + ":"}));
    auto r = b.get("k");
    REQUIRE(!r.ok());
    CHECK(r.error().code == ErrorCode::kAuth);
    CHECK_THAT(r.error().message, !Catch::Contains("not-the-pw"));
    CHECK_THAT(r.error().message, Catch::Contains(user));
    CHECK(b.stats().breaker_state == larder::BreakerState::kClosed);  // not an I/O failure
  }
  SECTION("outside its key pattern: kAuth (NOPERM)") {
    RedisBackend b(
        patient({.port = port, .user = user, .password = "s3cret-pw", .key_prefix = "other:"}));
    auto r = b.set("k", "v", 10s);
    REQUIRE(!r.ok());
    CHECK(r.error().code == ErrorCode::kAuth);
    CHECK_THAT(r.error().message, Catch::Contains("NOPERM"));
  }
}

TEST_CASE("RedisBackend: prefixes isolate, a star in a prefix matches only itself", "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string base = unique_prefix("iso");
  RedisBackend star(on(port, base + "a*"));
  RedisBackend other(on(port, base + "ab"));
  REQUIRE(star.set("k", "1", 10s).ok());
  REQUIRE(other.set("k", "2", 10s).ok());
  auto n = star.erase_prefix("");
  REQUIRE(n.ok());
  CHECK(*n == 1);
  CHECK(!star.get("k")->has_value());
  auto r = other.get("k");
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK((*r)->value == "2");
}

TEST_CASE("RedisBackend: SELECT puts keys in the configured db", "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string p = unique_prefix("db");
  RedisBackend db3(patient({.port = port, .db = 3, .key_prefix = p}));
  RedisBackend db0(patient({.port = port, .key_prefix = p}));
  REQUIRE(db3.set("k", "v", 10s).ok());
  CHECK(db3.get("k")->has_value());
  CHECK(!db0.get("k")->has_value());
}

TEST_CASE("TieredCache on Redis: bytes corrupted by hand read as a miss plus a decode error",
          "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string p = unique_prefix("corrupt");
  auto redis = std::make_shared<RedisBackend>(on(port, p));
  TieredCache<std::string, std::string> t(l1(), redis);
  t.put("good", "fine");
  redisContext* c = redisConnect("127.0.0.1", port);
  REQUIRE((c && !c->err));
  const std::string key = p + "k";
  freeReplyObject(redisCommand(c, "SET %s %s", key.c_str(), "LRD\x01garbage"));
  redisFree(c);
  CHECK(!t.get("k"));
  const auto s = t.stats();
  CHECK(s.decode_errors == 1);
  CHECK(s.l2_misses == 1);
  TieredCache<std::string, std::string> other(l1(), redis);
  CHECK(other.get("good") == "fine");
}

TEST_CASE("Two TieredCaches on separate connections: a write in one drops the other's copy",
          "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string p = unique_prefix("coherent");
  auto ra = std::make_shared<RedisBackend>(on(port, p));
  auto rb = std::make_shared<RedisBackend>(on(port, p));
  TieredCache<std::string, std::string> a(l1(), ra), b(l1(), rb);
  REQUIRE(a.wait_for_channel(true, 10s));
  REQUIRE(b.wait_for_channel(true, 10s));
  a.put("k", "v1");
  // The put's own message reaches b too; a copy b read before it arrived would be dropped by it
  // (correctly: b cannot tell which write a message is about). Let it land first.
  REQUIRE(b.wait_for_invalidations(1, 10s));
  CHECK(b.get("k") == "v1");
  REQUIRE(b.l1().contains("k"));
  std::uint64_t seen = b.stats().invalidations_received;

  const auto t0 = std::chrono::steady_clock::now();
  a.put("k", "v2");
  REQUIRE(b.wait_for_invalidations(seen + 1, 10s));
  const auto took = std::chrono::steady_clock::now() - t0;
  std::printf("cross-connection invalidation: %.3f ms\n",
              std::chrono::duration<double, std::milli>(took).count());
  CHECK(!b.l1().contains("k"));
  CHECK(b.get("k") == "v2");

  seen = b.stats().invalidations_received;
  a.put("user:1:x", "1");
  REQUIRE(b.wait_for_invalidations(seen + 1, 10s));
  CHECK(b.get("user:1:x") == "1");
  a.erase_prefix("user:1:");
  REQUIRE(b.wait_for_invalidations(seen + 2, 10s));
  CHECK(!b.l1().contains("user:1:x"));
  CHECK(!b.get("user:1:x"));
}

TEST_CASE("TieredCache on Redis: rebuild() replaces both tiers, never a miss meanwhile",
          "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string p = unique_prefix("rebuild");
  auto ra = std::make_shared<RedisBackend>(on(port, p));
  auto rb = std::make_shared<RedisBackend>(on(port, p));
  TieredCache<std::string, std::string> a(l1(), ra), b(l1(), rb);
  REQUIRE(a.wait_for_channel(true, 10s));
  REQUIRE(b.wait_for_channel(true, 10s));
  a.put_many(std::vector<std::pair<std::string, std::string>>{
      {"t:1", "old"}, {"t:2", "old"}, {"t:stale", "old"}});
  REQUIRE(b.wait_for_invalidations(1, 10s));
  CHECK(b.get("t:stale") == "old");
  std::vector<std::optional<std::string>> seen;
  const std::uint64_t before = b.stats().invalidations_received;
  a.rebuild([&] {
    seen = {b.get("t:1"), b.get("t:stale")};
    a.put_many(std::vector<std::pair<std::string, std::string>>{{"t:1", "new"}, {"t:2", "new"}});
  });
  CHECK(seen == std::vector<std::optional<std::string>>{"old", "old"});
  CHECK(ra->get("t:stale").value() == std::nullopt);   // gone from Redis
  REQUIRE(b.wait_for_invalidations(before + 2, 10s));  // the put_many's, and the removal's
  CHECK_FALSE(b.get("t:stale"));
  CHECK(b.get("t:1") == "new");
  CHECK(b.get("t:2") == "new");
}

namespace {
/// The tiered_peer program with pipes to its stdin and from its stdout.
class Peer {
 public:
  Peer(int port, const std::string& prefix) {
    int in[2], out[2];
    REQUIRE(pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::string port_s = std::to_string(port), prefix_s = prefix, exe = LARDER_TIERED_PEER;
    char* argv[] = {exe.data(), port_s.data(), prefix_s.data(), nullptr};
    REQUIRE(posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
  }
  ~Peer() {
    fclose(to_);  // EOF ends the peer
    fclose(from_);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
  std::string line() {
    char buf[4096];
    if (!fgets(buf, sizeof buf, from_)) return "(eof)";
    std::string s(buf);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  std::string ask(const std::string& cmd) {
    std::fputs((cmd + "\n").c_str(), to_);
    std::fflush(to_);
    return line();
  }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};
}  // namespace

TEST_CASE("Two processes: a write in this one drops the other process's L1 copy", "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string p = unique_prefix("procs");
  auto redis = std::make_shared<RedisBackend>(on(port, p));
  TieredCache<std::string, std::string> here(l1(), redis);
  REQUIRE(here.wait_for_channel(true, 10s));
  Peer peer(port, p);
  REQUIRE(peer.line() == "ready");
  here.put("k", "v1");
  CHECK(peer.ask("await 1") == "ok");  // the put's own message has landed
  CHECK(peer.ask("get k") == "value v1");
  CHECK(peer.ask("local k") == "local v1");
  here.put("k", "v2");
  CHECK(peer.ask("await 2") == "ok");  // v1's put and v2's
  CHECK(peer.ask("local k") == "local-miss");
  CHECK(peer.ask("get k") == "value v2");
  here.erase("k");
  CHECK(peer.ask("await 3") == "ok");
  CHECK(peer.ask("get k") == "miss");
}

// ---- faults: each test owns its server -------------------------------------------------------

TEST_CASE("Fault: redis-server killed mid-run, then restarted on the same port", "[redis]") {
  RedisServer server;
  auto clock = std::make_shared<larder::ManualClock>();
  auto redis = std::make_shared<RedisBackend>(
      RedisOptions{.port = server.port(),
                   .command_timeout = 500ms,
                   .breaker = {.consecutive_failures = 3, .open_for = 1s, .clock = clock}});
  TieredCache<std::string, std::string> t(l1(), redis, {.invalidation = false});
  t.put("warm", "w");
  CHECK(t.get("warm") == "w");

  server.kill_now();
  CHECK(t.get("warm") == "w");                              // L1 serves
  CHECK(!t.get("cold"));                                    // L2 unreachable: a miss, no throw
  const larder::WriteResult during = t.put("during", "d");  // lands in L1, and says so
  CHECK(during.l1);
  CHECK_FALSE(during.l2);
  REQUIRE(during.l2_error);
  CHECK(during.l2_error->code == ErrorCode::kConnection);
  CHECK(t.get("during") == "d");
  const larder::EraseResult gone = t.erase("warm");
  CHECK(gone.l1);
  CHECK_FALSE(gone.l2);
  CHECK(gone.l2_error.has_value());
  CHECK(gone);  // (as a bool: either tier held it)
  t.put("warm", "w");
  for (int i = 0; i < 3; ++i) CHECK(!t.get("cold" + std::to_string(i)));
  auto s = t.stats();
  CHECK(s.l2_errors >= 4);
  CHECK(s.l2.errors_of(ErrorCode::kConnection) >= 2);  // then the breaker refuses the rest
  CHECK(s.l2.breaker_state == larder::BreakerState::kOpen);
  CHECK(!t.get("cold"));
  CHECK(t.stats().l2.errors_of(ErrorCode::kBreakerOpen) >= 1);  // refused fast

  server.restart();
  clock->advance(1s);  // the breaker may probe now
  const larder::WriteResult after = t.put("after", "a");
  CHECK(after.l1);
  CHECK(after.l2);
  CHECK_FALSE(after.l2_error);
  CHECK(t.stats().l2.breaker_state == larder::BreakerState::kClosed);
  auto r = redis->get("after");
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK(larder::looks_like_frame((*r)->value));
}

TEST_CASE("Fault: killed during a multi-MiB write: an error value, no SIGPIPE death", "[redis]") {
  RedisServer server;
  RedisBackend redis({.port = server.port(), .command_timeout = 5s});
  const std::string big(32 << 20, 'x');
  std::atomic<int> done{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::condition_variable cv;
  std::thread writer([&] {
    for (int i = 0; i < 1000 && !failed; ++i) {
      larder::Result<void> r = redis.set("big", big, 60s);
      if (!r) {
        failed = true;
        break;
      }
      {
        std::lock_guard<std::mutex> l(mu);
        ++done;
      }
      cv.notify_all();
    }
  });
  {
    std::unique_lock<std::mutex> l(mu);
    REQUIRE(cv.wait_for(l, 60s, [&] { return done >= 1; }));  // writes are flowing
  }
  server.kill_now();
  writer.join();
  CHECK(failed);  // a write after (or during) the kill returned an error
  const auto e = redis.stats();
  CHECK(e.errors_of(ErrorCode::kConnection) + e.errors_of(ErrorCode::kTimeout) >= 1);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  CHECK(sigismember(&pending, SIGPIPE) == 0);  // consumed, not left for later
  struct sigaction sa {};
  sigaction(SIGPIPE, nullptr, &sa);
  CHECK(sa.sa_handler == SIG_DFL);  // process-wide handling untouched
}

TEST_CASE("Fault: SIGSTOP beyond the command timeout, the breaker opens then closes", "[redis]") {
  RedisServer server;
  auto clock = std::make_shared<larder::ManualClock>();
  auto redis = std::make_shared<RedisBackend>(RedisOptions{
      .port = server.port(),
      .command_timeout = 50ms,
      .breaker = {
          .consecutive_failures = 2, .open_for = 5s, .probe_timeout = 200ms, .clock = clock}});
  TieredCache<std::string, std::string> t(l1(), redis, {.invalidation = false});
  t.put("k", "v");
  server.pause();
  CHECK(t.get("k") == "v");  // L1
  CHECK(!t.get("x1"));
  CHECK(!t.get("x2"));
  auto s = redis->stats();
  CHECK(s.timeouts() >= 2);
  CHECK(s.breaker_state == larder::BreakerState::kOpen);
  CHECK(s.breaker_opened == 1);
  const std::uint64_t attempted = redis->stats().latency_count;
  CHECK(!t.get("x3"));
  s = redis->stats();
  CHECK(s.errors_of(ErrorCode::kBreakerOpen) == 1);  // refused...
  CHECK(s.latency_count == attempted);               // ...without an attempt on the server
  clock->advance(5s);
  CHECK(!t.get("x4"));  // the half-open probe times out: open again
  CHECK(redis->stats().breaker_half_open == 1);
  CHECK(redis->stats().breaker_state == larder::BreakerState::kOpen);

  server.resume();
  clock->advance(5s);
  t.put("k2", "v2");  // probe succeeds, breaker closes, the write lands
  s = redis->stats();
  CHECK(s.breaker_state == larder::BreakerState::kClosed);
  CHECK(s.breaker_closed == 1);
  auto r = redis->get("k2");
  REQUIRE(r.ok());
  CHECK(r->has_value());
}

TEST_CASE("Fault: CLIENT KILL of our connections, a read retries on a new connection", "[redis]") {
  RedisServer server;
  RedisBackend redis({.port = server.port(), .command_timeout = 1s});
  REQUIRE(redis.set("k", "v", 60s).ok());
  REQUIRE(redis.get("k").ok());
  CHECK(redis.open_connections() == 1);
  CHECK(server.cmd({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}) == "1");
  auto r = redis.get("k");
  REQUIRE(r.ok());  // the dead pooled connection failed; the retry reconnected
  REQUIRE(r->has_value());
  CHECK((*r)->value == "v");
  const auto s = redis.stats();
  CHECK(s.retries == 1);
  CHECK(s.connections_broken == 1);
  CHECK(s.connections_opened == 2);
  // Writes are not retried: after another kill the first write fails, the next one works.
  CHECK(server.cmd({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}) == "1");
  auto w = redis.set("k", "v2", 60s);
  CHECK(!w.ok());
  CHECK(redis.set("k", "v2", 60s).ok());
}

TEST_CASE("Retry policy: idempotent writes may retry, attempts bound every call", "[redis]") {
  RedisServer server;
  SECTION("SET and UNLINK retry on a new connection when asked to") {
    RedisBackend redis(
        {.port = server.port(), .command_timeout = 1s, .retry = {.idempotent_writes = true}});
    REQUIRE(redis.set("k", "v", 60s).ok());
    CHECK(server.cmd({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}) == "1");
    CHECK(redis.set("k", "v2", 60s).ok());  // the retry reconnected
    CHECK(server.cmd({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}) == "1");
    auto erased = redis.erase("k");
    REQUIRE(erased.ok());
    CHECK(*erased);
    CHECK(redis.stats().retries == 2);
    // SET NX is never retried: a lost reply would turn "stored" into "was there".
    CHECK(server.cmd({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}) == "1");
    CHECK(!redis.set_if_absent("n", "1", 60s).ok());
    CHECK(redis.stats().retries == 2);
  }
  SECTION("attempts = 1: nothing is retried") {
    RedisBackend redis({.port = server.port(), .command_timeout = 1s, .retry = {.attempts = 1}});
    REQUIRE(redis.set("k", "v", 60s).ok());
    CHECK(server.cmd({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}) == "1");
    CHECK(!redis.get("k").ok());
    CHECK(redis.stats().retries == 0);
  }
  SECTION("a server that is gone: every attempt, with backoff, inside the deadline") {
    RedisBackend redis({.port = server.port(),
                        .command_timeout = 2s,
                        .breaker = {.consecutive_failures = 1000, .failure_rate = 0},
                        .retry = {.attempts = 4, .backoff = 1ms, .max_backoff = 4ms}});
    server.kill_now();
    auto r = redis.get("k");
    REQUIRE(!r.ok());
    CHECK(r.error().code == ErrorCode::kConnection);
    const auto st = redis.stats();
    CHECK(st.retries == 3);
    CHECK(st.errors == 1);  // one call, one error
  }
}

TEST_CASE("Circuit breaker counts calls, not attempts", "[redis]") {
  RedisServer server;
  // Reads retry once by default: on the old count, the 3rd failed call (6 attempts) opened it.
  RedisBackend redis(
      {.port = server.port(), .command_timeout = 1s, .breaker = {.consecutive_failures = 5}});
  REQUIRE(redis.set("k", "v", 60s).ok());
  server.kill_now();
  for (int call = 1; call <= 4; ++call) {
    CHECK(redis.get("k").error().code == ErrorCode::kConnection);
    CHECK(redis.stats().breaker_state == larder::BreakerState::kClosed);
  }
  CHECK(redis.get("k").error().code == ErrorCode::kConnection);  // the 5th failed call
  CHECK(redis.stats().breaker_state == larder::BreakerState::kOpen);
  CHECK(redis.get("k").error().code == ErrorCode::kBreakerOpen);
}

TEST_CASE("Retry policy: bad settings are refused, naming the field", "[redis]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(RedisBackend({.retry = {.attempts = 0}}),
                    Contains("RedisOptions.retry.attempts must be in [1, 10] (got 0)"));
  CHECK_THROWS_WITH(RedisBackend({.retry = {.multiplier = 0.5}}),
                    Contains("RedisOptions.retry.multiplier must be in [1, 1000]"));
  CHECK_THROWS_WITH(
      RedisBackend({.retry = {.backoff = 10ms, .max_backoff = 5ms}}),
      Contains("RedisOptions.retry.max_backoff must not be below backoff (5ms < 10ms)"));
  CHECK_THROWS_WITH(RedisBackend({.retry = {.backoff = -1ms}}),
                    Contains("RedisOptions.retry.backoff must not be negative"));
  // The older spellings still work, and win when set.
  RedisBackend old_style({.retry_reads = false, .retry_backoff = 7ms});
  CHECK_FALSE(old_style.options().retry.reads);
  CHECK(old_style.options().retry.backoff == 7ms);
  // An older spelling above the new max_backoff's default raises it: still accepted, as before.
  RedisBackend long_wait({.retry_backoff = 100ms});
  CHECK(long_wait.options().retry.backoff == 100ms);
  CHECK(long_wait.options().retry.max_backoff == 100ms);
}

TEST_CASE("Channel down: L1 entries live at most unsubscribed_ttl, L1 resyncs when it is back",
          "[redis]") {
  RedisServer server;
  auto clock = std::make_shared<larder::ManualClock>();
  auto redis = std::make_shared<RedisBackend>(
      RedisOptions{.port = server.port(),
                   .command_timeout = 100ms,
                   .breaker = {.consecutive_failures = 1000, .failure_rate = 0},
                   .heartbeat = 50ms});
  TieredCache<std::string, std::string> t(l1(clock), redis, {.unsubscribed_ttl = 2s});
  REQUIRE(t.wait_for_channel(true, 10s));
  t.put("k", "v", {.ttl = 1h});
  clock->advance(10s);
  CHECK(t.get_local("k") == "v");

  server.pause();
  REQUIRE(t.wait_for_channel(false, 10s));  // two unanswered pings
  CHECK(t.get("k") == "v");                 // within unsubscribed_ttl of the channel going down
  t.put("fresh", "f", {.ttl = 1h});         // stored in L1 with at most 2s
  CHECK(t.l1().lookup("fresh").ttl == 2s);
  clock->advance(2s);
  CHECK(!t.get_local("k"));  // could be stale now: not served
  CHECK(!t.get_local("fresh"));
  // Nor to a load: L2 cannot answer, so the loader does (not L1's old copy).
  CHECK(t.get_or_load("k", [] { return std::string("from the database"); }) == "from the database");
  CHECK(t.l1().lookup("k").ttl == 2s);

  server.resume();
  REQUIRE(t.wait_for_channel(true, 10s));
  const auto s = t.stats();
  CHECK(s.resyncs == 1);
  CHECK(s.resync_clears == 0);
  // L1 now holds what L2 holds for "k", read in the resync's one round trip (no clear, no read
  // per key afterwards): "v", or the loader's value if its timed-out SET, still in the stopped
  // server's socket, ran when the server resumed.
  CHECK(s.resync_kept == 1);
  CHECK(s.resync_dropped == 0);
  TieredCache<std::string, std::string> reader(l1(), redis, {.invalidation = false});
  const std::optional<std::string> in_l2 = reader.get("k");
  REQUIRE(in_l2);
  CHECK(t.get_local("k") == in_l2);
}

TEST_CASE("Resync: L1 keeps what L2 still holds, drops what L2 lost while the channel was down",
          "[redis]") {
  RedisServer server;
  const std::string p = unique_prefix("resync");
  auto redis = std::make_shared<RedisBackend>(RedisOptions{
      .port = server.port(), .key_prefix = p, .command_timeout = 1s, .heartbeat = 50ms});
  TieredCache<std::string, std::string> t(l1(), redis);
  REQUIRE(t.wait_for_channel(true, 10s));
  for (const char* k : {"same", "same2", "updated", "changed", "gone"}) t.put(k, "v", {.ttl = 1h});
  // Writes whose messages this cache never sees (as if sent while its channel was down): another
  // cache's put, announced on another channel, and two by hand.
  auto elsewhere = std::make_shared<RedisBackend>(
      RedisOptions{.port = server.port(), .key_prefix = p, .channel = p + "elsewhere"});
  TieredCache<std::string, std::string> writer(l1(), elsewhere, {.invalidation = false});
  CHECK(writer.put("updated", "v2", {.ttl = 1h}).l2);
  CHECK(t.get_local("updated") == "v");  // not told
  CHECK(server.cmd({"SET", p + "changed", "other bytes"}) == "OK");
  CHECK(server.cmd({"DEL", p + "gone"}) == "1");
  CHECK(server.cmd({"CLIENT", "KILL", "TYPE", "pubsub"}) == "1");  // the channel drops...
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (t.stats().resyncs == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);  // ...and comes back: polling its resync, with a deadline
  }
  const auto s = t.stats();
  REQUIRE(s.resyncs == 1);
  CHECK(s.resync_kept == 3);
  CHECK(s.resync_dropped == 2);
  CHECK(t.get_local("updated") == "v2");  // L2's current value, read in the resync
  CHECK(t.l1().contains("same"));  // still valid: not cleared, no round trip to read it again
  CHECK(t.l1().contains("same2"));
  CHECK(!t.l1().contains("changed"));  // L2 holds bytes that do not decode now
  CHECK(!t.l1().contains("gone"));
  CHECK(!t.get("gone"));
}

TEST_CASE("Channel back: an open breaker probes at once instead of waiting out open_for",
          "[redis]") {
  RedisServer server;
  auto clock = std::make_shared<larder::ManualClock>();  // never moved: open_for never passes
  auto redis = std::make_shared<RedisBackend>(
      RedisOptions{.port = server.port(),
                   .command_timeout = 50ms,
                   .breaker = {.consecutive_failures = 2, .open_for = 1h, .clock = clock},
                   .heartbeat = 50ms});
  TieredCache<std::string, std::string> t(l1(), redis);
  REQUIRE(t.wait_for_channel(true, 10s));
  t.put("k", "v");
  server.pause();
  REQUIRE(t.wait_for_channel(false, 10s));
  CHECK(!t.get("x1"));
  CHECK(!t.get("x2"));
  REQUIRE(redis->stats().breaker_state == larder::BreakerState::kOpen);
  server.resume();
  REQUIRE(t.wait_for_channel(true, 10s));  // the resync's read was the probe
  CHECK(redis->stats().breaker_state == larder::BreakerState::kClosed);
  CHECK(t.stats().resync_clears == 0);
  CHECK(t.stats().resync_kept == 1);
  CHECK(t.get("k") == "v");
}

TEST_CASE("Strict mode: L2 failures throw RemoteError (after L1 was written)", "[redis]") {
  RedisServer server;
  auto redis =
      std::make_shared<RedisBackend>(RedisOptions{.port = server.port(), .command_timeout = 200ms});
  TieredCache<std::string, std::string> t(l1(), redis, {.strict = true, .invalidation = false});
  t.put("k", "v");
  server.kill_now();
  try {
    (void)t.get("other");
    FAIL("no exception");
  } catch (const larder::RemoteError& e) {
    CHECK(e.code() == ErrorCode::kConnection);
  }
  CHECK_THROWS_AS(t.put("k2", "v2"), larder::RemoteError);
  CHECK(t.l1().contains("k2"));
}

TEST_CASE("cached() over Redis: the loader runs when L2 is down, one load per key", "[redis]") {
  RedisServer server;
  auto redis =
      std::make_shared<RedisBackend>(RedisOptions{.port = server.port(), .command_timeout = 200ms});
  TieredCache<std::string, std::string> t(l1(), redis, {.invalidation = false});
  std::atomic<int> calls{0};
  auto f = larder::cached(
      t,
      [&](int id) {
        ++calls;
        std::string v = "v";  // (not "v" + to_string: a GCC 12 -Wrestrict false positive)
        return v += std::to_string(id);
      },
      [](int id) { return std::to_string(id); }, {.ttl = 1min});
  CHECK(f(1) == "v1");
  CHECK(calls == 1);
  t.l1().clear();
  CHECK(f(1) == "v1");  // from L2
  CHECK(calls == 1);
  server.kill_now();
  t.l1().clear();
  CHECK(f(1) == "v1");  // L2 down: the loader
  CHECK(calls == 2);
  CHECK(f(1) == "v1");  // and L1 keeps it
  CHECK(calls == 2);
  CHECK(t.stats().l2_errors >= 2);
}

TEST_CASE("Fault: every pooled connection busy: kPoolTimeout after pool_wait_timeout", "[redis]") {
  RedisServer server;
  RedisBackend redis(
      {.port = server.port(), .command_timeout = 10s, .pool_size = 1, .pool_wait_timeout = 20ms});
  server.pause();
  larder::Result<std::optional<larder::BackendEntry>> held = larder::Error{ErrorCode::kServer, ""};
  std::thread holder([&] { held = redis.get("k"); });  // takes the only connection, waits
  while (redis.open_connections() == 0) std::this_thread::yield();  // the holder has it
  const auto t0 = std::chrono::steady_clock::now();
  auto r = redis.get("other");
  const auto waited = std::chrono::steady_clock::now() - t0;
  REQUIRE(!r.ok());
  CHECK(r.error().code == ErrorCode::kPoolTimeout);
  CHECK_THAT(r.error().message, Catch::Contains("pool_wait_timeout"));
  CHECK(waited >= 20ms);
  CHECK(waited < 5s);  // not the command timeout: it never got a connection
  server.resume();
  holder.join();
  CHECK(held.ok());  // the holder's command completed once the server ran again
  CHECK(redis.stats().errors_of(ErrorCode::kPoolTimeout) == 1);
}

TEST_CASE("TieredCache bulk calls on Redis: one round trip for each tier's share", "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string p = unique_prefix("bulk");
  auto ra = std::make_shared<RedisBackend>(on(port, p));
  auto rb = std::make_shared<RedisBackend>(on(port, p));
  TieredCache<std::string, std::string> a(l1(), ra), b(l1(), rb);
  REQUIRE(a.wait_for_channel(true, 10s));
  REQUIRE(b.wait_for_channel(true, 10s));
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  using Keys = std::vector<std::string>;

  std::uint64_t ops = ra->stats().ops;
  a.put_many(Pairs{{"x", "1"}, {"y", "2"}, {"z", "3"}}, {.ttl = 1min});
  CHECK(ra->stats().ops == ops + 2);  // one pipeline of SETs, one PUBLISH
  REQUIRE(b.wait_for_invalidations(1, 10s));

  ops = rb->stats().ops;
  const auto got = b.get_many(Keys{"x", "y", "z", "absent"});
  CHECK(rb->stats().ops == ops + 1);  // one MGET (+ PTTLs) for all four misses
  CHECK(got == std::vector<std::optional<std::string>>{"1", "2", "3", std::nullopt});
  CHECK(b.l1().contains("y"));

  int queries = 0;
  ops = rb->stats().ops;
  const auto all = b.get_all(Keys{"x", "new1", "new2"}, [&](const Keys& missing) {
    ++queries;
    Pairs out;
    for (const auto& k : missing) out.emplace_back(k, "db " + k);
    return out;
  });
  CHECK(all == std::vector<std::optional<std::string>>{"1", "db new1", "db new2"});
  CHECK(queries == 1);
  // One MGET for the two misses, one pipeline of SET NX for the loaded values, one PUBLISH.
  CHECK(rb->stats().ops == ops + 3);
  CHECK(a.get("new2") == "db new2");  // written through: the other cache reads it from Redis

  CHECK(a.put_if_absent("nx", "a's"));
  CHECK_FALSE(b.put_if_absent("nx", "b's"));
  CHECK(b.get("nx") == "a's");
  CHECK(b.contains("z"));
  CHECK(b.peek("new1") == "db new1");
  CHECK_FALSE(b.contains("nowhere"));
}

TEST_CASE("Tags on Redis: invalidate_tag in one cache empties every cache's copies", "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string p = unique_prefix("tags");
  auto ra = std::make_shared<RedisBackend>(on(port, p));
  auto rb = std::make_shared<RedisBackend>(on(port, p));
  TieredCache<std::string, std::string> a(l1(), ra), b(l1(), rb);
  REQUIRE(a.wait_for_channel(true, 10s));
  REQUIRE(b.wait_for_channel(true, 10s));
  a.put("profile:42", "p", {.ttl = 1min, .tags = {"user:42"}});
  a.put("42:settings", "s", {.tags = {"user:42"}});  // no TTL: the tag's set persists
  a.put("profile:43", "q", {.ttl = 1min, .tags = {"user:43"}});
  REQUIRE(b.wait_for_invalidations(3, 10s));
  REQUIRE(b.get("profile:42") == "p");  // b's copies, read from Redis
  REQUIRE(b.get("42:settings") == "s");
  const std::uint64_t seen = a.stats().invalidations_received;
  CHECK(b.invalidate_tag("user:42") == 2);
  CHECK_FALSE(b.l1().contains("profile:42"));
  REQUIRE(a.wait_for_invalidations(seen + 2, 10s));  // the tag, then its keys
  CHECK_FALSE(a.l1().contains("profile:42"));
  CHECK_FALSE(a.l1().contains("42:settings"));
  CHECK_FALSE(ra->get("profile:42")->has_value());
  CHECK(a.get("profile:43") == "q");
  CHECK(b.invalidate_tag("user:42") == 0);

  // A tagged write that expired no longer names its key: a later untagged write survives.
  a.put("short", "tagged", {.ttl = 50ms, .tags = {"brief"}});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ra->get("short")->has_value() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  REQUIRE_FALSE(ra->get("short")->has_value());
  a.put("short", "untagged");
  CHECK(a.invalidate_tag("brief") == 0);
  CHECK(ra->get("short")->has_value());

  // The tag's set: a sorted set beside the keys, gone once its members are.
  RedisBackend raw(on(port, ""));
  a.put("t1", "v", {.ttl = 1min, .tags = {"set"}});
  auto card = raw.get(p + std::string("\0tag:set", 8));  // a GET of a zset is a WRONGTYPE error
  CHECK_FALSE(card.ok());
  CHECK(a.invalidate_tag("set") == 1);
  auto after = raw.get(p + std::string("\0tag:set", 8));
  REQUIRE(after.ok());  // no key of any type: the set went with its last member
  CHECK_FALSE(after->has_value());
}

TEST_CASE("RedisBackend server_info: INFO fields and DBSIZE, typed", "[redis]") {
  RedisServer server;
  RedisBackend redis(patient({.port = server.port()}));
  REQUIRE(redis.set("a", "1", 1min).ok());
  REQUIRE(redis.set("b", "2", 1min).ok());
  auto info = redis.server_info();
  REQUIRE(info.ok());
  CHECK(info->kind == "redis");
  CHECK(info->version.find('.') != std::string::npos);  // e.g. "7.0.15"
  CHECK(info->keys == 2);                               // a server of this test's own
  CHECK(info->used_memory > 100'000);                   // a running redis-server uses ~1 MB
  CHECK(info->connected_clients >= 1);                  // this backend's connection
  CHECK(info->uptime >= std::chrono::seconds(0));
  CHECK(info->uptime < std::chrono::hours(1));  // this test's own server: just started
  server.kill_now();
  CHECK_FALSE(redis.server_info().ok());  // an error value, not a throw
}

TEST_CASE("glob patterns match here what they match in Redis", "[redis]") {
  RedisServer server;
  RedisBackend redis(patient({.port = server.port()}));
  for (const larder_test::GlobCase& c : larder_test::kGlobCases) {
    INFO("pattern " << c.pattern << " text " << c.text);
    REQUIRE(redis.erase_prefix("").ok());
    REQUIRE(redis.set(c.text, "v", 1min).ok());
    auto found = redis.keys(c.pattern);
    REQUIRE(found.ok());
    CHECK(!found->empty() == c.match);                        // what Redis says
    CHECK(larder::glob_match(c.pattern, c.text) == c.match);  // and larder
  }
}

TEST_CASE("Namespaces on Redis: two caches on one backend, a clear() of one spares the other",
          "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string p = unique_prefix("ns");
  auto shared = std::make_shared<RedisBackend>(on(port, p));
  auto other_process = std::make_shared<RedisBackend>(on(port, p));
  TieredCache<std::string, std::string> users(l1(), shared, {.key_namespace = "users"});
  TieredCache<std::string, std::string> orders(l1(), shared, {.key_namespace = "orders"});
  TieredCache<std::string, std::string> users_there(l1(), other_process,
                                                    {.key_namespace = "users"});
  REQUIRE(users.wait_for_channel(true, 10s));
  REQUIRE(orders.wait_for_channel(true, 10s));
  REQUIRE(users_there.wait_for_channel(true, 10s));
  users.put("1", "ada");
  orders.put("1", "order");
  REQUIRE(users_there.wait_for_invalidations(1, 10s));  // only the users write reaches it
  REQUIRE(users_there.get("1") == "ada");
  REQUIRE(orders.get("1") == "order");
  CHECK((*shared->get("users:1"))->value.size() > 0);
  const std::uint64_t seen = users_there.stats().invalidations_received;
  orders.clear();
  users.put("2", "grace");  // a later message: once it arrives, the clear's would have too
  REQUIRE(users_there.wait_for_invalidations(seen + 1, 10s));
  CHECK(users_there.l1().contains("1"));  // orders' clear did not touch the users namespace
  CHECK(users.get("1") == "ada");
  CHECK_FALSE(shared->get("orders:1")->has_value());
  CHECK(users_there.stats().invalidations_received == seen + 1);
}

TEST_CASE("Codecs on Redis: structs and containers, typed frames, lookup age, erase_if",
          "[redis]") {
  const int port = larder_test::shared_redis_port();
  const std::string p = unique_prefix("codec");
  auto ra = std::make_shared<RedisBackend>(on(port, p));
  auto rb = std::make_shared<RedisBackend>(on(port, p));
  larder::Options<std::string, Article> o{.max_entries = 100, .background_cleanup = 0s};
  TieredCache<std::string, Article> a(o, ra), b(o, rb);
  REQUIRE(a.wait_for_channel(true, 10s));
  REQUIRE(b.wait_for_channel(true, 10s));

  const Article art{1, "Engines", std::vector<float>(256, 0.5F), {{"lang", "en"}}};
  REQUIRE(a.put("a:1", art, {.ttl = 1h}).l2);
  REQUIRE(a.put("a:2", Article{2, "Looms", {}, {}}, {.ttl = 1h}).l2);
  const auto r = b.lookup("a:1");  // from Redis: its age from the frame's TTL and PTTL
  REQUIRE(r.tier == larder::Tier::kL2);
  CHECK(*r.value == art);
  CHECK(r.ttl == 1h);
  CHECK(r.age >= 0s);
  CHECK(r.age < 1min);

  // The same key read as another type: a miss and a decode error, never a garbage value.
  larder::Options<std::string, std::string> so{.max_entries = 100, .background_cleanup = 0s};
  TieredCache<std::string, std::string> as_text(so, std::make_shared<RedisBackend>(on(port, p)));
  CHECK(as_text.get("a:1") == std::nullopt);
  CHECK(as_text.stats().decode_errors == 1);

  // erase_if tests the decoded values in Redis and reaches the other cache's L1.
  REQUIRE(b.get("a:2").has_value());
  const std::uint64_t before = b.stats().invalidations_received;
  CHECK(a.erase_if([](const std::string&, const Article& v) { return v.title == "Looms"; }) == 1);
  REQUIRE(b.wait_for_invalidations(before + 1, 10s));
  CHECK_FALSE(b.l1().contains("a:2"));
  CHECK_FALSE(ra->get("a:2")->has_value());
  CHECK(b.get("a:1") == art);
}
