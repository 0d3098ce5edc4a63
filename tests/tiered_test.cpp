// TieredCache over MemoryBackend (in process), the Backend contract for MemoryBackend, and the
// circuit breaker on a ManualClock. Redis-backed tests are in redis_test.cpp.
#include <larder/circuit_breaker.h>
#include <larder/export.h>
#include <larder/memoize.h>
#include <larder/memory_backend.h>
#include <larder/tiered.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "backend_contract.h"

using namespace std::chrono_literals;
using larder::MemoryBackend;
using larder::TieredCache;

TEST_CASE("MemoryBackend passes the Backend contract", "[backend]") {
  MemoryBackend b;
  larder_test::backend_contract(b);
}

namespace {
struct World {
  std::shared_ptr<larder::ManualClock> clock = std::make_shared<larder::ManualClock>();
  std::shared_ptr<MemoryBackend> l2 = std::make_shared<MemoryBackend>(
      larder::Options<std::string, std::string>{.clock = clock, .background_cleanup = 0s});
  larder::Options<std::string, std::string> l1(std::string name = "",
                                               larder::Duration ttl = larder::kNoExpiry) {
    return {.name = std::move(name),
            .max_entries = 1000,
            .default_ttl = ttl,
            .clock = clock,
            .background_cleanup = 0s};
  }
};
}  // namespace

TEST_CASE("TieredCache: an L1 miss reads L2 and keeps it with the remaining TTL", "[tiered]") {
  World w;
  TieredCache<std::string, std::string> a(w.l1(), w.l2);
  a.put("k", "v", {.ttl = 10s});
  w.clock->advance(4s);

  TieredCache<std::string, std::string> b(w.l1(), w.l2);
  CHECK(!b.l1().contains("k"));
  CHECK(b.get("k") == "v");
  CHECK(b.stats().l2_hits == 1);
  const auto r = b.l1().lookup("k");
  REQUIRE(r.hit);
  CHECK(r.ttl == 6s);  // what L2 had left

  SECTION("capped by L1's own default_ttl") {
    TieredCache<std::string, std::string> c(w.l1("", 2s), w.l2);
    CHECK(c.get("k") == "v");
    CHECK(c.l1().lookup("k").ttl == 2s);
  }
  SECTION("an L1 hit does not touch L2") {
    const auto ops = w.l2->stats().ops;
    CHECK(b.get("k") == "v");
    CHECK(w.l2->stats().ops == ops);
  }
  SECTION("absent from both tiers is a miss") {
    CHECK(!b.get("nope"));
    CHECK(b.stats().l2_misses == 1);
  }
}

TEST_CASE("TieredCache: writes go through, and other caches drop their copy", "[tiered]") {
  World w;
  TieredCache<std::string, std::string> a(w.l1(), w.l2), b(w.l1(), w.l2);
  a.put("k", "v1");
  CHECK(b.get("k") == "v1");
  REQUIRE(b.l1().contains("k"));

  SECTION("put") {
    const auto before = b.stats().invalidations_received;
    a.put("k", "v2");
    CHECK(!b.l1().contains("k"));
    CHECK(b.stats().invalidations_received == before + 1);
    CHECK(a.stats().invalidations_received == 0);  // its own messages are ignored
    CHECK(a.l1().contains("k"));
    CHECK(b.get("k") == "v2");
  }
  SECTION("erase") {
    CHECK(a.erase("k"));
    CHECK(!b.l1().contains("k"));
    CHECK(!w.l2->get("k")->has_value());
    CHECK(!b.get("k"));
    CHECK(!a.erase("k"));
  }
  SECTION("erase_prefix") {
    a.put("user:1:a", "x");
    a.put("user:2:a", "y");
    CHECK(b.get("user:1:a") == "x");
    CHECK(a.erase_prefix("user:1:") == 2);  // one in L1, one in L2
    CHECK(!b.l1().contains("user:1:a"));
    CHECK(!b.get("user:1:a"));
    CHECK(b.get("user:2:a") == "y");
  }
  SECTION("clear") {
    a.clear();
    CHECK(b.l1().size() == 0);
    CHECK(!w.l2->get("k")->has_value());
  }
}

namespace {
/// A MemoryBackend seen through a hook that runs once, right after the next get() has read its
/// value: to put an invalidation between an L2 read and the L1 fill it leads to.
class ReadHook final : public larder::Backend {
 public:
  explicit ReadHook(std::shared_ptr<MemoryBackend> in) : in_(std::move(in)) {}
  std::function<void()> after_get;

  larder::Result<std::optional<larder::BackendEntry>> get(std::string_view k) override {
    auto r = in_->get(k);
    if (auto f = std::exchange(after_get, nullptr)) f();
    return r;
  }
  larder::Result<std::vector<std::optional<larder::BackendEntry>>> get_many(
      std::span<const std::string_view> k) override {
    return in_->get_many(k);
  }
  larder::Result<void> set(std::string_view k, std::string_view v, larder::Duration t) override {
    return in_->set(k, v, t);
  }
  larder::Result<void> set_many(std::span<const larder::BackendItem> i,
                                larder::Duration t) override {
    return in_->set_many(i, t);
  }
  larder::Result<bool> erase(std::string_view k) override { return in_->erase(k); }
  larder::Result<std::size_t> erase_prefix(std::string_view p) override {
    return in_->erase_prefix(p);
  }
  larder::Result<larder::Duration> ping() override { return in_->ping(); }
  larder::BackendStats stats() const override { return in_->stats(); }
  std::string_view kind() const noexcept override { return "hooked"; }
  larder::Result<void> publish(std::string_view m) override { return in_->publish(m); }
  std::unique_ptr<larder::Subscription> subscribe(larder::InvalidationHandler h) override {
    return in_->subscribe(std::move(h));
  }

 private:
  std::shared_ptr<MemoryBackend> in_;
};
}  // namespace

TEST_CASE("TieredCache: an L2 read overtaken by an invalidation is not kept in L1", "[tiered]") {
  World w;
  auto hooked = std::make_shared<ReadHook>(w.l2);
  TieredCache<std::string, std::string> writer(w.l1(), w.l2), reader(w.l1(), hooked);
  writer.put("k", "v1");
  hooked->after_get = [&] { writer.put("k", "v2"); };  // lands between read and fill

  SECTION("get") {
    CHECK(reader.get("k") == "v1");  // what L2 held when read
  }
  SECTION("get_or_load") {
    CHECK(reader.get_or_load("k", [] { return std::string("loaded"); }) == "v1");
  }
  CHECK(reader.stats().fills_dropped == 1);
  CHECK(!reader.l1().contains("k"));  // the stale v1 did not outlive the invalidation
  CHECK(reader.get("k") == "v2");
  CHECK(reader.l1().contains("k"));
  CHECK(reader.stats().fills_dropped == 1);
}

TEST_CASE("TieredCache: undecodable L2 bytes read as a miss plus a decode error", "[tiered]") {
  World w;
  TieredCache<std::string, std::string> t(w.l1(), w.l2);
  REQUIRE(w.l2->set("bad", "not a frame", 10s).ok());
  std::string frame = larder::frame_raw("hello");
  frame.back() ^= 1;  // CRC mismatch
  REQUIRE(w.l2->set("flipped", frame, 10s).ok());
  CHECK(!t.get("bad"));
  CHECK(!t.get("flipped"));
  const auto s = t.stats();
  CHECK(s.decode_errors == 2);
  CHECK(s.l2_misses == 2);
  CHECK(s.l2_hits == 0);
  CHECK(!t.l1().contains("bad"));
}

TEST_CASE("TieredCache: L2 holds frames, compressed above the threshold", "[tiered]") {
  World w;
  auto o = w.l1();
  o.compression.min_size = 64;
  TieredCache<std::string, std::string> t(o, w.l2);
  const std::string big(4096, 'x');
  t.put("big", big);
  t.put("small", "s");
  const auto b = w.l2->get("big");
  const auto s = w.l2->get("small");
  REQUIRE(b->has_value());
  REQUIRE(s->has_value());
  CHECK(larder::looks_like_frame((*b)->value));
  CHECK((*b)->value.size() < 200);
  CHECK((*b)->value[4] == 1);  // zlib
  CHECK((*s)->value[4] == 0);  // raw
  TieredCache<std::string, std::string> other(w.l1(), w.l2);
  CHECK(other.get("big") == big);
}

TEST_CASE("TieredCache: integer keys and codec values, other key types need conversions",
          "[tiered]") {
  World w;
  larder::Options<std::uint64_t, double> o{.clock = w.clock, .background_cleanup = 0s};
  TieredCache<std::uint64_t, double> a(o, w.l2), b(o, w.l2);
  a.put(42, 2.5);
  CHECK(b.get(42) == 2.5);
  CHECK(w.l2->get("42")->has_value());
  a.put(42, 3.5);
  CHECK(!b.l1().contains(42));
  CHECK(b.get(42) == 3.5);

  struct P {
    int x;
  };
  struct PHash {
    std::size_t operator()(const P& p) const { return std::hash<int>()(p.x); }
  };
  struct PEq {
    bool operator()(const P& l, const P& r) const { return l.x == r.x; }
  };
  using T = TieredCache<P, int, PHash, PEq>;
  CHECK_THROWS_WITH((T({}, w.l2)), Catch::Contains("TieredOptions.key_to_string"));
  CHECK_THROWS_WITH((TieredCache<std::string, std::string>(w.l1(), nullptr)),
                    Catch::Contains("backend"));
  CHECK_THROWS_WITH((TieredCache<std::string, std::string>(w.l1(), w.l2, {.unsubscribed_ttl = 0s})),
                    Catch::Contains("unsubscribed_ttl"));
}

TEST_CASE("TieredCache: put refuses bad input before touching either tier", "[tiered]") {
  World w;
  auto o = w.l1();
  o.compression.max_value_size = 16;
  TieredCache<std::string, std::string> t(o, w.l2);
  CHECK_THROWS_AS(t.put("k", std::string(17, 'x')), larder::ValueTooLarge);
  CHECK_THROWS_AS(t.put("k", "v", {.ttl = -1s}), larder::InvalidArgument);
  CHECK(!t.l1().contains("k"));
  CHECK(!w.l2->get("k")->has_value());
}

TEST_CASE("cached() over a TieredCache: one load per key per process, L2 shared", "[tiered]") {
  World w;
  TieredCache<std::string, std::string> a(w.l1(), w.l2), b(w.l1(), w.l2);
  std::atomic<int> calls{0};
  auto fn = [&](const std::string& id) {
    ++calls;
    return "user " + id;
  };
  auto key = [](const std::string& id) { return "u:" + id; };
  auto ma = larder::cached(a, fn, key, {.ttl = 1min});
  auto mb = larder::cached(b, fn, key, {.ttl = 1min});

  std::vector<std::string> results(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) threads.emplace_back([&, i] { results[i] = ma("7"); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) CHECK(r == "user 7");
  CHECK(calls == 1);
  CHECK(w.l2->get("u:7")->has_value());  // written through

  CHECK(mb("7") == "user 7");  // the other process-alike finds it in L2
  CHECK(calls == 1);
  CHECK(b.stats().l2_hits == 1);
  CHECK(b.l1().lookup("u:7").ttl <= 1min);

  SECTION("fresh() writes through and invalidates the other L1") {
    CHECK(ma.fresh("7") == "user 7");
    CHECK(calls == 2);
    CHECK(!b.l1().contains("u:7"));
  }
  SECTION("invalidate() removes from both tiers") {
    CHECK(ma.invalidate("7"));
    CHECK(!w.l2->get("u:7")->has_value());
    CHECK(mb("7") == "user 7");  // b's L1 was dropped by the message: loads again
    CHECK(calls == 2);
  }
}

TEST_CASE("TieredCache registers with remote info, the exporter shows it", "[tiered]") {
  World w;
  larder::Registry reg;
  TieredCache<std::string, std::string> t(w.l1("sessions"), w.l2, {.registry = &reg});
  t.put("a", "1");
  CHECK(!t.get("zz"));
  auto info = reg.find("sessions");
  REQUIRE(info);
  CHECK(info->kind == "tiered");
  REQUIRE(info->remote);
  CHECK(info->remote->backend == "memory");
  CHECK(info->remote->l2_misses == 1);
  CHECK(info->remote->channel_up);
  const std::string prom = larder::to_prometheus(reg);
  CHECK_THAT(prom, Catch::Contains("larder_remote_breaker_state{cache=\"sessions\"} 0"));
  CHECK_THAT(prom,
             Catch::Contains("larder_remote_gets_total{cache=\"sessions\",result=\"miss\"} 1"));
  CHECK_THAT(prom,
             Catch::Contains("larder_remote_errors_total{cache=\"sessions\",kind=\"timeout\"} 0"));
  CHECK_THAT(larder::to_json(reg), Catch::Contains("\"remote\":{\"backend\":\"memory\""));
  CHECK(reg.invalidate("sessions"));
  CHECK(!w.l2->get("a")->has_value());
}

TEST_CASE("CircuitBreaker: opens, refuses, probes, closes", "[breaker]") {
  auto clock = std::make_shared<larder::ManualClock>();
  larder::CircuitBreaker b(
      {.consecutive_failures = 3, .failure_rate = 0, .open_for = 2s, .clock = clock});
  using CB = larder::CircuitBreaker;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(b.admit() == CB::kGo);
    b.record(true);
  }
  b.record(false);  // a success resets the run
  for (int i = 0; i < 2; ++i) b.record(true);
  CHECK(b.state() == larder::BreakerState::kClosed);
  b.record(true);
  CHECK(b.state() == larder::BreakerState::kOpen);
  CHECK(b.admit() == CB::kRefuse);
  clock->advance(1999ms);
  CHECK(b.admit() == CB::kRefuse);
  clock->advance(1ms);
  CHECK(b.admit() == CB::kProbe);
  CHECK(b.state() == larder::BreakerState::kHalfOpen);
  CHECK(b.admit() == CB::kRefuse);  // one probe at a time
  b.probe_done(false);
  CHECK(b.state() == larder::BreakerState::kOpen);
  clock->advance(2s);
  CHECK(b.admit() == CB::kProbe);
  b.probe_done(true);
  CHECK(b.state() == larder::BreakerState::kClosed);
  larder::BackendStats s;
  b.fill(s);
  CHECK(s.breaker_opened == 2);
  CHECK(s.breaker_half_open == 2);
  CHECK(s.breaker_closed == 1);
}

TEST_CASE("CircuitBreaker: opens on the failure rate over its window", "[breaker]") {
  auto clock = std::make_shared<larder::ManualClock>();
  larder::CircuitBreaker b({.consecutive_failures = 0,
                            .failure_rate = 0.5,
                            .window = 10,
                            .min_calls = 10,
                            .clock = clock});
  for (int i = 0; i < 9; ++i) b.record(i % 2 == 0);  // 5 of 9 failed: below min_calls
  CHECK(b.state() == larder::BreakerState::kClosed);
  b.record(false);  // 5 of 10
  CHECK(b.state() == larder::BreakerState::kOpen);
}

TEST_CASE("BreakerOptions: invalid values are named", "[breaker]") {
  CHECK_THROWS_WITH(larder::CircuitBreaker({.window = 0}),
                    Catch::Contains("BreakerOptions.window"));
  CHECK_THROWS_WITH(larder::CircuitBreaker({.failure_rate = 1.5}),
                    Catch::Contains("BreakerOptions.failure_rate"));
  CHECK_THROWS_WITH(larder::CircuitBreaker({.window = 5, .min_calls = 6}),
                    Catch::Contains("BreakerOptions.min_calls"));
  CHECK_THROWS_WITH(larder::CircuitBreaker({.open_for = 0s}),
                    Catch::Contains("BreakerOptions.open_for"));
}
