// TieredCache over MemoryBackend (in process). Redis-backed tests are in redis_test.cpp; the
// Backend contract for MemoryBackend in memory_backend_test.cpp.
#include <larder/export.h>
#include <larder/memoize.h>
#include <larder/memory_backend.h>
#include <larder/tiered.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using larder::MemoryBackend;
using larder::TieredCache;

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

TEST_CASE("TieredCache: backend() is the L2 it was given", "[tiered]") {
  World w;
  TieredCache<std::string, std::string> t(w.l1(), w.l2);
  CHECK(&t.backend() == w.l2.get());
  CHECK(t.backend().kind() == "memory");
  t.put("k", "v");
  CHECK(t.backend().get("k")->has_value());  // the same store the cache writes through to
}

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
  CHECK(r.ttl - r.age == 6s);  // what L2 had left
  CHECK(r.age == 4s);          // counted from a's write, not from the fill
  CHECK(r.ttl == 10s);

  SECTION("capped by L1's own default_ttl") {
    TieredCache<std::string, std::string> c(w.l1("", 2s), w.l2);
    CHECK(c.get("k") == "v");
    const auto cr = c.l1().lookup("k");
    CHECK(cr.ttl - cr.age == 2s);
    w.clock->advance(2s);
    CHECK_FALSE(c.l1().contains("k"));
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
    CHECK(a.erase_prefix("user:1:") == 1);  // the keys L2 removed (L1's copies go too)
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
/// A MemoryBackend seen through hooks that run once: after_get right after the next get() has
/// read its value (to put an invalidation between an L2 read and the L1 fill it leads to);
/// before_set / after_set around the next set(), set_if_absent() or set_many_tagged() (to put a
/// write between a load's L2 write and the checks around it). With `pause` set, every get() also
/// yields the thread a varying number of times after its read, which widens the window between an
/// L2 read and its fill for the threads racing it (then the hooks must stay empty: they are for one
/// thread).
class ReadHook final : public larder::Backend {
 public:
  explicit ReadHook(std::shared_ptr<MemoryBackend> in) : in_(std::move(in)) {}
  std::function<void()> after_get, before_set, after_set;
  std::atomic<bool> pause{false};

  larder::Result<std::optional<larder::BackendEntry>> get(std::string_view k) override {
    auto r = in_->get(k);
    if (pause.load(std::memory_order_relaxed)) {
      for (unsigned n = reads_.fetch_add(1, std::memory_order_relaxed) % 64; n > 0; --n) {
        std::this_thread::yield();
      }
    } else if (auto f = std::exchange(after_get, nullptr)) {
      f();
    }
    return r;
  }
  larder::Result<std::vector<std::optional<larder::BackendEntry>>> get_many(
      std::span<const std::string_view> k) override {
    return in_->get_many(k);
  }
  larder::Result<void> set(std::string_view k, std::string_view v, larder::Duration t) override {
    return around_set([&] { return in_->set(k, v, t); });
  }
  larder::Result<bool> set_if_absent(std::string_view k, std::string_view v,
                                     larder::Duration t) override {
    return around_set([&] { return in_->set_if_absent(k, v, t); });
  }
  larder::Result<bool> erase_if_equal(std::string_view k, std::string_view v) override {
    return in_->erase_if_equal(k, v);
  }
  larder::Result<void> set_many(std::span<const larder::BackendItem> i,
                                larder::Duration t) override {
    return in_->set_many(i, t);
  }
  larder::Result<std::vector<bool>> set_many_tagged(std::span<const larder::BackendItem> i,
                                                    larder::Duration t,
                                                    std::span<const std::string> tags,
                                                    bool only_if_absent) override {
    return around_set([&] { return in_->set_many_tagged(i, t, tags, only_if_absent); });
  }
  larder::Result<std::vector<std::string>> erase_tagged(std::string_view tag) override {
    return in_->erase_tagged(tag);
  }
  larder::Result<bool> erase(std::string_view k) override { return in_->erase(k); }
  larder::Result<std::vector<std::string>> keys(std::string_view g) override {
    return in_->keys(g);
  }
  larder::Result<std::size_t> erase_matching(std::string_view g) override {
    return in_->erase_matching(g);
  }
  larder::Result<std::size_t> erase_prefix(std::string_view p) override {
    return in_->erase_prefix(p);
  }
  larder::Result<larder::Duration> ping() override { return in_->ping(); }
  larder::Result<larder::ServerInfo> server_info() override { return in_->server_info(); }
  larder::BackendStats stats() const override { return in_->stats(); }
  std::string_view kind() const noexcept override { return "hooked"; }
  larder::Result<void> publish(std::string_view m) override { return in_->publish(m); }
  std::unique_ptr<larder::Subscription> subscribe(larder::InvalidationHandler h) override {
    return in_->subscribe(std::move(h));
  }

 private:
  template <class F>
  std::invoke_result_t<F> around_set(F f) {
    if (auto h = std::exchange(before_set, nullptr)) h();
    auto r = f();
    if (auto h = std::exchange(after_set, nullptr)) h();
    return r;
  }
  std::shared_ptr<MemoryBackend> in_;
  std::atomic<unsigned> reads_{0};
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

TEST_CASE("TieredCache: a fill that raced this cache's own write does not outlive it", "[tiered]") {
  // The read of L2 happens before the write (the hook runs the write between the L2 read and the
  // L1 fill, on the reading thread); once the write has returned, no read may see the older v1.
  World w;
  auto hooked = std::make_shared<ReadHook>(w.l2);
  TieredCache<std::string, std::string> t(w.l1(), hooked);
  t.put("k", "v1");
  t.l1().clear();  // L1 empty, L2 holds v1

  const auto [write, expected] =
      GENERATE(table<std::string, std::optional<std::string>>({{"put", "v2"},
                                                               {"erase", std::nullopt},
                                                               {"erase_prefix", std::nullopt},
                                                               {"clear", std::nullopt}}));
  const std::string read = GENERATE(as<std::string>{}, "get", "get_or_load", "cached");
  INFO(read << " racing " << write);
  hooked->after_get = [&, write = write] {
    if (write == "put") t.put("k", "v2");
    if (write == "erase") t.erase("k");
    if (write == "erase_prefix") t.erase_prefix("k");
    if (write == "clear") t.clear();
  };
  int loads = 0;
  auto memo = larder::cached(
      t, [&](const std::string&) { return ++loads, std::string("loaded"); },
      [](const std::string& id) { return id; });
  std::optional<std::string> got;
  if (read == "get") got = t.get("k");
  if (read == "get_or_load") got = t.get_or_load("k", [] { return std::string("loaded"); });
  if (read == "cached") got = memo("k");
  CHECK(got == "v1");  // what L2 held when read: the read and the write overlapped
  CHECK(t.l1().peek("k") != "v1");
  CHECK(t.get("k") == expected);
  CHECK(t.l1().peek("k") == expected);
  CHECK(loads == 0);
}

TEST_CASE("TieredCache: a load's L2 write never undoes a write that overtook it", "[tiered]") {
  // A get_or_load misses both tiers and loads; a write of the key lands just before the load's
  // L2 write, or just after it (before the load sees it was overtaken). Once that write has
  // returned, L2 must hold it (or a later one): the load neither overwrites it nor takes it back.
  World w;
  auto hooked = std::make_shared<ReadHook>(w.l2);
  TieredCache<std::string, std::string> t(w.l1(), hooked), other(w.l1(), w.l2);
  const std::string when = GENERATE(as<std::string>{}, "before", "after");
  const std::string who = GENERATE(as<std::string>{}, "this cache", "another cache");
  const std::string read = GENERATE(as<std::string>{}, "get_or_load", "cached");
  INFO(read << ": a put by " << who << " lands " << when << " the load's L2 write");
  auto put = [&] { (who == "this cache" ? t : other).put("k", "v2"); };
  (when == "before" ? hooked->before_set : hooked->after_set) = put;
  auto memo = larder::cached(
      t, [](const std::string&) { return std::string("loaded"); },
      [](const std::string& id) { return id; });
  const std::string got =
      read == "cached" ? memo("k") : t.get_or_load("k", [] { return std::string("loaded"); });
  CHECK(got == "loaded");  // the load's callers get its result
  REQUIRE(!hooked->before_set);
  REQUIRE(!hooked->after_set);
  const auto in_l2 = w.l2->get("k");
  REQUIRE(in_l2->has_value());
  CHECK(larder::decode_framed<std::string>((*in_l2)->value, 1 << 20).value() == "v2");
  CHECK(t.get("k") == "v2");
  CHECK(other.get("k") == "v2");
  t.l1().clear();
  CHECK(t.get("k") == "v2");
}

TEST_CASE("TieredCache: a refresh-ahead reload overtaken during its L2 write keeps the write",
          "[tiered]") {
  // A reload overwrites L2 on purpose (no set_if_absent); a put landing during that L2 write
  // must still be what L2 holds after the reload has taken its own result back.
  World w;
  auto hooked = std::make_shared<ReadHook>(w.l2);
  TieredCache<std::string, std::string> t(w.l1(), hooked);
  int calls = 0;
  auto memo = larder::cached(
      t, [&](const std::string&) { return "loaded" + std::to_string(++calls); },
      [](const std::string& id) { return id; },
      {.ttl = 10s, .refresh_after = 5s, .executor = std::make_shared<larder::InlineExecutor>()});
  CHECK(memo("k") == "loaded1");
  w.clock->advance(6s);
  hooked->after_set = [&] { t.put("k", "v2"); };
  CHECK(memo("k") == "loaded1");  // the current value; the reload ran inline
  CHECK(calls == 2);
  REQUIRE(!hooked->after_set);
  const auto in_l2 = w.l2->get("k");
  REQUIRE(in_l2->has_value());
  CHECK(larder::decode_framed<std::string>((*in_l2)->value, 1 << 20).value() == "v2");
  CHECK(memo("k") == "v2");
  t.l1().clear();
  CHECK(memo("k") == "v2");
  CHECK(calls == 2);
}

TEST_CASE("TieredCache: a load overtaken by an erase during its L2 write takes it back",
          "[tiered]") {
  World w;
  auto hooked = std::make_shared<ReadHook>(w.l2);
  TieredCache<std::string, std::string> t(w.l1(), hooked), other(w.l1(), w.l2);
  const std::string who = GENERATE(as<std::string>{}, "this cache", "another cache");
  INFO("an erase by " << who);
  hooked->after_set = [&] { (who == "this cache" ? t : other).erase("k"); };
  CHECK(t.get_or_load("k", [] { return std::string("loaded"); }) == "loaded");
  REQUIRE(!hooked->after_set);
  CHECK(!w.l2->get("k")->has_value());
  CHECK(!t.l1().contains("k"));
  CHECK(!t.get("k"));
  CHECK(!other.get("k"));
}

TEST_CASE("TieredCache: reads return values L1 cannot hold, uncached, and do not throw",
          "[tiered]") {
  World w;
  TieredCache<std::string, std::string> writer(w.l1(), w.l2);
  auto small = w.l1();
  small.max_bytes = 64;  // the reader's L1 holds nothing heavier than 64 bytes
  TieredCache<std::string, std::string> reader(small, w.l2);
  const std::string big(200, 'x');
  writer.put("big", big);

  CHECK(reader.get("big") == big);
  CHECK(!reader.l1().contains("big"));
  CHECK(reader.get_or_load("big", [] { return std::string("loaded"); }) == big);
  int loads = 0;
  auto memo = larder::cached(
      reader, [&](const std::string&) { return ++loads, big; },
      [](const std::string& id) { return "m:" + id; });
  CHECK(memo("1") == big);  // loaded, written to L2, too heavy for L1
  CHECK(loads == 1);
  CHECK(!reader.l1().contains("m:1"));
  CHECK(w.l2->get("m:1")->has_value());
  CHECK(reader.stats().l1.uncacheable == 3);

  SECTION("a plain Cache's get_or_load returns such a value too") {
    larder::Cache<std::string, std::string> c({.max_bytes = 64, .background_cleanup = 0s});
    CHECK(c.get_or_load("k", [&] { return big; }) == big);
    CHECK(!c.contains("k"));
    CHECK(c.stats().uncacheable == 1);
    CHECK_THROWS_AS(c.put("k", big), larder::ValueTooLarge);  // a write still refuses it
  }
}

TEST_CASE("TieredCache: an L1 listener may write through its own cache on an invalidation",
          "[tiered][cycle]") {
  // Re-warming a key when another cache invalidates it: the listener runs inside the delivery
  // of the other cache's message and publishes one of its own. (It deadlocked on MemoryBackend,
  // which delivered under its subscriber lock.)
  World w;
  TieredCache<std::string, std::string>* self = nullptr;
  int rewarmed = 0;
  auto o = w.l1();
  o.on_removal = [&](const std::string& k, const std::string&, larder::RemovalCause c) {
    if (c == larder::RemovalCause::kExplicit && k == "warm" && rewarmed++ == 0) {
      self->put("warm", "rewarmed");
    }
  };
  TieredCache<std::string, std::string> a(o, w.l2), b(w.l1(), w.l2);
  self = &a;
  a.put("warm", "v1");
  b.put("warm", "v2");  // a's L1 drops v1; its listener writes "rewarmed" through both tiers
  CHECK(rewarmed == 1);
  CHECK(a.l1().peek("warm") == "rewarmed");
  CHECK(b.get("warm") == "rewarmed");  // b's copy was invalidated by a's re-warming write
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

TEST_CASE("TieredCache: an L2 frame L1 would keep compressed is kept as it is", "[tiered]") {
  // L2 holds a level-9 frame; this L1 compresses at level 1. A fill adopts the L2 frame (no
  // inflate-then-deflate), so L1 holds exactly those bytes: its weight says which frame it keeps.
  World w;
  auto o = w.l1();
  o.compression.min_size = 64;
  TieredCache<std::string, std::string> t(o, w.l2);
  std::string doc;
  for (int i = 0; doc.size() < 4096; ++i) doc += "{\"id\":" + std::to_string(i) + ",\"on\":true},";
  const std::string level9 = larder::frame_zlib(doc, 9);
  const std::string level1 = larder::frame_zlib(doc, 1);
  REQUIRE(level9.size() != level1.size());
  const std::string read = GENERATE(as<std::string>{}, "get", "get_or_load");
  INFO(read);
  REQUIRE(w.l2->set("doc", level9, 10s).ok());
  const std::optional<std::string> got =
      read == "get" ? t.get("doc") : t.get_or_load("doc", [] { return std::string("loaded"); });
  CHECK(got == doc);
  REQUIRE(t.l1().contains("doc"));
  const std::size_t overhead = sizeof(std::string) + 3 + sizeof(std::string);  // key, V
  CHECK(t.l1().bytes() == overhead + level9.size());
  CHECK(t.l1().get("doc") == doc);
  CHECK(t.l1().stats().compressed == 1);

  SECTION("a raw L2 frame is compressed by L1's own settings") {
    REQUIRE(w.l2->set("raw", larder::frame_raw(doc), 10s).ok());
    CHECK(t.get("raw") == doc);
    CHECK(t.l1().bytes() == 2 * overhead + level9.size() + level1.size());
  }
  SECTION("an L1 that keeps values raw decodes the frame") {
    auto plain = w.l1();
    plain.compression.min_size = 0;
    TieredCache<std::string, std::string> p(plain, w.l2);
    CHECK(p.get("doc") == doc);
    CHECK(p.l1().bytes() == overhead + doc.size());
    CHECK(p.l1().stats().compressed == 0);
  }
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
  CHECK(info->remote->backend_label == w.l2->label());
  const std::string prom = larder::to_prometheus(reg);
  const std::string backend = "backend=\"" + w.l2->label() + "\"";
  CHECK_THAT(prom, Catch::Contains("larder_remote_breaker_state{" + backend + "} 0"));
  CHECK_THAT(prom,
             Catch::Contains("larder_remote_gets_total{cache=\"sessions\",result=\"miss\"} 1"));
  CHECK_THAT(prom,
             Catch::Contains("larder_remote_errors_total{" + backend + ",kind=\"timeout\"} 0"));
  CHECK_THAT(larder::to_json(reg), Catch::Contains("\"remote\":{\"backend\":\"memory\""));
  CHECK(reg.invalidate("sessions"));
  CHECK(!w.l2->get("a")->has_value());
}

TEST_CASE("Caches sharing a backend export its counters once, under a backend label", "[tiered]") {
  World w;
  larder::Registry reg;
  TieredCache<std::string, std::string> a(w.l1("a"), w.l2, {.registry = &reg});
  TieredCache<std::string, std::string> b(w.l1("b"), w.l2, {.registry = &reg});
  auto other = std::make_shared<MemoryBackend>();
  TieredCache<std::string, std::string> c(w.l1("c"), other, {.registry = &reg});
  a.put("k", "v");
  const std::string prom = larder::to_prometheus(reg);
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = prom.find(what); at != std::string::npos; at = prom.find(what, at + 1)) {
      ++n;
    }
    return n;
  };
  CHECK(w.l2->label() != other->label());
  CHECK(count("larder_remote_breaker_state{") == 2);  // two backends, three caches
  CHECK(count("larder_remote_latency_seconds_count{backend=\"" + w.l2->label() + "\"}") == 1);
  CHECK(count("larder_remote_gets_total{cache=") == 6);  // per cache: hit and miss each
  CHECK(count("# TYPE larder_remote_errors_total counter") == 1);
}

TEST_CASE("TieredCache: its own writes against its own fills, on several threads",
          "[tiered][stress]") {
  // One writer puts 1, 2, 3, ... (then erases); readers fill L1 from L2 through a backend that
  // pauses after each read. A read that starts after put(n) returned must see n or later, and
  // once the writer is done (its erase returned), the key is gone from both tiers.
  World w;
  auto slow = std::make_shared<ReadHook>(w.l2);
  slow->pause = true;
  TieredCache<std::string, std::string> t(w.l1(), slow);
  // L2 holds the key from the start, so the readers' loader never runs: this is about fills.
  // (Loads against writes are the deterministic tests above, one interleaving each.)
  t.put("k", "0");
  constexpr int kWrites = 3000;
  std::atomic<int> done{0};  // the last put that returned
  std::atomic<bool> stop{false};
  std::atomic<int> older{0}, reads{0};
  auto reader = [&](int kind) {
    while (!stop.load()) {
      const int floor = done.load();
      std::optional<std::string> v;
      if (kind == 0) v = t.get("k");
      if (kind == 1) v = t.get_or_load("k", [&] { return std::to_string(done.load()); });
      reads.fetch_add(1);
      if (floor > 0 && (!v || std::stoi(*v) < floor)) older.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back(reader, i % 2);
  // The writes race the readers only once they read: wait for that (polling, with a deadline).
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (reads.load() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  REQUIRE(reads.load() >= 3);
  for (int n = 1; n <= kWrites; ++n) {
    t.put("k", std::to_string(n));
    done.store(n);
    if (n % 3 == 0) t.l1().erase("k");  // make the readers fill again
  }
  stop = true;
  for (auto& th : threads) th.join();
  CHECK(older.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(t.get("k") == std::to_string(kWrites));
  t.erase("k");
  CHECK(!t.get("k"));
  CHECK(!t.l1().contains("k"));
  INFO("fills dropped: " << t.stats().fills_dropped);
  CHECK(t.stats().l2_errors == 0);
}

TEST_CASE("TieredCache: rebuild() replaces both tiers without a window of misses", "[tiered]") {
  World w;
  TieredCache<std::string, std::string> a(w.l1(), w.l2);
  TieredCache<std::string, std::string> b(w.l1(), w.l2);  // another process's cache
  a.put("top", "old");
  a.put("stale", "old");
  CHECK(b.get("stale") == "old");  // b holds a copy in its L1
  std::vector<std::optional<std::string>> seen;
  a.rebuild([&] {
    seen = {b.get("top"), b.get("stale"), a.get("stale")};  // old contents, in both processes
    a.put("top", "new");
    a.put("fresh", "new");
  });
  CHECK(seen == std::vector<std::optional<std::string>>{"old", "old", "old"});
  CHECK(a.get("top") == "new");
  CHECK(a.get("fresh") == "new");
  CHECK_FALSE(a.get("stale"));  // neither tier
  CHECK_FALSE(w.l2->get("stale")->has_value());
  CHECK_FALSE(b.l1().contains("stale"));  // b was told
  CHECK_FALSE(b.get("stale"));
  CHECK(b.get("top") == "new");
}
