// TieredCache's bulk calls and the rest of Cache's surface over MemoryBackend (in process):
// get_many (one L1 pass, one L2 read), put_many (one L2 pipeline, one message), get_all
// (single-flight across both tiers, one bulk load), put_if_absent decided in L2, contains and
// peek without side effects. (Against a real redis-server: redis_test.cpp.)
#include <larder/memory_backend.h>
#include <larder/tiered.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

using namespace std::chrono_literals;
using larder::MemoryBackend;
using Tiered = larder::TieredCache<std::string, std::string>;
using Keys = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;
using Values = std::vector<std::optional<std::string>>;

namespace {
struct World {
  std::shared_ptr<larder::ManualClock> clock = std::make_shared<larder::ManualClock>();
  std::shared_ptr<MemoryBackend> l2 = std::make_shared<MemoryBackend>(
      larder::Options<std::string, std::string>{.clock = clock, .background_cleanup = 0s});
  larder::Options<std::string, std::string> l1() {
    return {.max_entries = 1000, .clock = clock, .background_cleanup = 0s};
  }
  std::uint64_t l2_ops() const { return l2->stats().ops; }
};
}  // namespace

TEST_CASE("TieredCache get_many: one L1 pass, then one L2 read for what L1 lacks",
          "[tiered][bulk]") {
  World w;
  Tiered a(w.l1(), w.l2), b(w.l1(), w.l2);
  a.put("x", "1");
  a.put("y", "2");
  b.put("local", "0");
  const std::uint64_t ops = w.l2_ops();
  CHECK(b.get_many(Keys{"local", "x", "nope", "y"}) == Values{"0", "1", std::nullopt, "2"});
  CHECK(w.l2_ops() == ops + 1);  // one get_many for the three L1 misses
  CHECK(b.stats().l2_hits == 2);
  CHECK(b.stats().l2_misses == 1);
  CHECK(b.l1().contains("x"));  // kept in L1, as get() keeps it
  CHECK(b.get_many({"x", "y"}) == Values{"1", "2"});
  CHECK(w.l2_ops() == ops + 1);  // all from L1 now
}

TEST_CASE("TieredCache put_many: one L2 pipeline, one message, all or nothing on refusal",
          "[tiered][bulk]") {
  World w;
  Tiered a(w.l1(), w.l2), b(w.l1(), w.l2);
  b.put("x", "old");
  REQUIRE(b.get("y") == std::nullopt);
  b.put("y", "old");
  const std::uint64_t ops = w.l2_ops();
  const std::uint64_t received = b.stats().invalidations_received;
  a.put_many(Pairs{{"x", "1"}, {"y", "2"}, {"z:3", "3"}}, {.ttl = 30s});
  CHECK(w.l2_ops() == ops + 2);  // set_many and one publish
  CHECK(b.stats().invalidations_received == received + 1);
  CHECK_FALSE(b.l1().contains("x"));  // the one message dropped both old copies
  CHECK_FALSE(b.l1().contains("y"));
  CHECK(b.get("z:3") == "3");
  CHECK((*w.l2->get("x"))->ttl == 30s);
  CHECK(a.l1().get("y") == "2");
  // A value L1 refuses (over its max_bytes) stops the whole batch before anything is written.
  larder::Options<std::string, std::string> small = w.l1();
  small.max_entries = 0;
  small.max_bytes = 1024;
  Tiered c(small, w.l2);
  CHECK_THROWS_AS(c.put_many(Pairs{{"p", "1"}, {"q", larder_test::random_bytes(4096)}}),
                  larder::ValueTooLarge);
  CHECK_FALSE(w.l2->get("p")->has_value());
}

TEST_CASE("TieredCache put_if_absent is decided in L2, across caches", "[tiered][bulk]") {
  World w;
  Tiered a(w.l1(), w.l2), b(w.l1(), w.l2);
  CHECK(a.put_if_absent("k", "first"));
  CHECK_FALSE(b.put_if_absent("k", "second"));  // b's L1 never had it: L2 said no
  CHECK_FALSE(b.l1().contains("k"));
  CHECK(b.get("k") == "first");
  CHECK_FALSE(a.put_if_absent("k", "third"));
  CHECK(a.get("k") == "first");
}

TEST_CASE("TieredCache contains and peek look in both tiers and change nothing", "[tiered][bulk]") {
  World w;
  Tiered a(w.l1(), w.l2), b(w.l1(), w.l2);
  a.put("k", "v");
  CHECK(b.contains("k"));
  CHECK(b.peek("k") == "v");
  CHECK_FALSE(b.contains("other"));
  CHECK_FALSE(b.peek("other"));
  CHECK_FALSE(b.l1().contains("k"));  // nothing kept in L1
  const larder::TieredStats s = b.stats();
  CHECK(s.l1.hits + s.l1.misses == 0);
  CHECK(s.l2_hits + s.l2_misses == 0);
  CHECK(a.contains("k"));  // from L1
}

TEST_CASE("TieredCache get_all: L1, then L2, then one bulk load written through to L2",
          "[tiered][bulk]") {
  World w;
  Tiered a(w.l1(), w.l2), other(w.l1(), w.l2);
  a.put("in-l1", "1");
  other.put("in-l2", "2");
  std::vector<Keys> calls;
  auto loader = [&](const Keys& missing) {
    calls.push_back(missing);
    Pairs out;
    for (const auto& k : missing) {
      if (k != "nowhere") out.emplace_back(k, "loaded " + k);
    }
    return out;
  };
  const auto r = a.get_all(Keys{"in-l1", "in-l2", "new", "nowhere", "new"}, loader, {.ttl = 1min});
  CHECK(r == Values{"1", "2", "loaded new", std::nullopt, "loaded new"});
  REQUIRE(calls.size() == 1);
  CHECK(calls[0] == Keys{"new", "nowhere"});  // not what L2 had
  CHECK(a.l1().peek("in-l2") == "2");         // the L2 read kept in L1
  CHECK(a.l1().peek("new") == "loaded new");
  CHECK((*w.l2->get("new"))->value.size() > 0);  // written through
  CHECK(other.get("new") == "loaded new");       // so the other cache reads it from L2
  CHECK_FALSE(w.l2->get("nowhere")->has_value());
  CHECK(a.get_all(Keys{"new", "in-l2"}, loader) == Values{"loaded new", "2"});
  CHECK(calls.size() == 1);
}

TEST_CASE("TieredCache get_all never overwrites a write that reached L2 while it loaded",
          "[tiered][bulk]") {
  World w;
  Tiered a(w.l1(), w.l2), other(w.l1(), w.l2);
  const auto r = a.get_all(Keys{"k"}, [&](const Keys&) {
    other.put("k", "theirs");  // lands in L2 after a's L2 read found nothing
    return Pairs{{"k", "ours"}};
  });
  CHECK(r[0] == "ours");  // the caller still gets its load
  CHECK(other.get("k") == "theirs");
  CHECK(a.get("k") == "theirs");  // a kept nothing of its own
  CHECK(a.backend().get("k")->has_value());
}

TEST_CASE("TieredCache get_all: the loader's exception reaches the caller, nothing stored",
          "[tiered][bulk]") {
  World w;
  Tiered a(w.l1(), w.l2);
  CHECK_THROWS_WITH(
      a.get_all(Keys{"k"}, [](const Keys&) -> Pairs { throw std::runtime_error("db down"); }),
      "db down");
  CHECK_FALSE(a.contains("k"));
  // The flight is gone: the next call loads again.
  CHECK(a.get_all(Keys{"k"}, [](const Keys&) { return Pairs{{"k", "v"}}; })[0] == "v");
}

TEST_CASE("TieredCache invalidate_tag reaches L2 and every cache on the backend, whatever the keys",
          "[tiered][tags]") {
  World w;
  Tiered a(w.l1(), w.l2), b(w.l1(), w.l2);
  a.put("profile:42", "p", {.tags = {"user:42"}});
  a.put("42:settings", "s", {.tags = {"user:42", "team:7"}});
  b.put("feed:x:42", "f", {.ttl = 1min, .tags = {"user:42"}});
  a.put("profile:43", "other user", {.tags = {"user:43"}});
  a.put("plain", "untagged");
  REQUIRE(b.get("profile:42") == "p");  // b's copy came from L2: untagged in b's L1
  REQUIRE(a.get("feed:x:42") == "f");
  CHECK(b.invalidate_tag("user:42") == 3);
  for (Tiered* t : {&a, &b}) {
    CHECK_FALSE(t->l1().contains("profile:42"));
    CHECK_FALSE(t->l1().contains("42:settings"));
    CHECK_FALSE(t->l1().contains("feed:x:42"));
    CHECK_FALSE(t->get("profile:42"));  // gone from L2 too
  }
  CHECK(a.get("profile:43") == "other user");
  CHECK(b.get("plain") == "untagged");
  CHECK(a.invalidate_tag("user:42") == 0);
}

TEST_CASE("TieredCache tags: a member whose tagged write expired no longer names its key",
          "[tiered][tags]") {
  World w;
  Tiered a(w.l1(), w.l2);
  a.put("k", "tagged", {.ttl = 5s, .tags = {"t"}});
  w.clock->advance(6s);
  a.put("k", "later, untagged");
  CHECK(a.invalidate_tag("t") == 0);
  CHECK(a.get("k") == "later, untagged");
  // Loads and bulk writes carry their tags to L2 too.
  a.get_or_load("loaded", [] { return std::string("v"); }, {.tags = {"t"}});
  a.put_many(Pairs{{"m1", "1"}, {"m2", "2"}}, {.tags = {"t"}});
  a.get_all(Keys{"bulk"}, [](const Keys&) { return Pairs{{"bulk", "b"}}; }, {.tags = {"t"}});
  CHECK(a.put_if_absent("nx", "n", {.tags = {"t"}}));
  CHECK(a.invalidate_tag("t") == 5);
  CHECK_FALSE(w.l2->get("m2")->has_value());
}

TEST_CASE("TieredCache writes say what each tier did", "[tiered][bulk]") {
  World w;
  Tiered a(w.l1(), w.l2), b(w.l1(), w.l2);
  const larder::WriteResult put = a.put("k", "v");
  CHECK(put.l1);
  CHECK(put.l2);
  CHECK_FALSE(put.l2_error);
  const larder::WriteResult many = a.put_many(Pairs{{"x", "1"}, {"y", "2"}});
  CHECK(many.l1);
  CHECK(many.l2);
  REQUIRE(b.get("k") == "v");
  a.l1().erase("k");  // only L2 holds it now, from a's side
  const larder::EraseResult e = a.erase("k");
  CHECK_FALSE(e.l1);
  CHECK(e.l2);
  CHECK(e.removed());
  CHECK_FALSE(b.l1().contains("k"));  // b's copy dropped by the message all the same
  const larder::EraseResult none = a.erase("k");
  CHECK_FALSE(none);
  CHECK_FALSE(none.l2_error);
}

TEST_CASE("TieredCache keys and erase_matching cover both tiers and every cache",
          "[tiered][glob]") {
  World w;
  Tiered a(w.l1(), w.l2), b(w.l1(), w.l2);
  a.put("user:1:profile", "p1");
  a.put("user:2:profile", "p2");
  a.put("user:1:feed", "f1");
  b.l1().put("user:3:profile", "only in b's L1");  // (as after a failed L2 write)
  REQUIRE(b.get("user:1:profile") == "p1");
  auto k = b.keys("user:*:profile");
  std::sort(k.begin(), k.end());
  CHECK(k == Keys{"user:1:profile", "user:2:profile", "user:3:profile"});
  CHECK(a.erase_matching("user:1:*") == 2);
  CHECK_FALSE(b.l1().contains("user:1:profile"));  // by message
  CHECK_FALSE(a.get("user:1:feed"));
  CHECK(b.get("user:2:profile") == "p2");
}

TEST_CASE("TieredCache erase_if tests values in both tiers and reaches every cache",
          "[tiered][bulk]") {
  World w;
  Tiered a(w.l1(), w.l2), b(w.l1(), w.l2), c(w.l1(), w.l2);
  a.put("u:1", "10");
  a.put("u:2", "40");
  a.put("u:3", "50");
  a.l1().put("u:4", "70");  // only in a's L1 (as after a failed L2 write)
  REQUIRE(b.get("u:2") == "40");
  auto over_30 = [](const std::string&, const std::string& v) { return std::stoi(v) > 30; };
  CHECK(a.erase_if(over_30) == 2);  // u:2, u:3 from L2 (u:4 was L1's alone)
  CHECK_FALSE(w.l2->get("u:2")->has_value());
  CHECK_FALSE(w.l2->get("u:3")->has_value());
  CHECK_FALSE(a.l1().contains("u:4"));
  CHECK_FALSE(b.l1().contains("u:2"));  // by message
  CHECK(a.get("u:1") == "10");
  CHECK(b.get("u:1") == "10");

  SECTION("a value rewritten after it was tested is not removed") {
    a.put("u:5", "90");
    bool rewritten = false;
    auto rewrite_then_match = [&](const std::string& k, const std::string& v) {
      if (k == "u:5" && !rewritten) {
        rewritten = true;
        c.put("u:5", "91");  // another process's write lands between the test and the erase
      }
      return std::stoi(v) > 30;
    };
    CHECK(a.erase_if(rewrite_then_match) == 0);
    CHECK(rewritten);
    CHECK(b.get("u:5") == "91");  // the later write stays in L2
  }
  SECTION("values that do not decode are left alone and counted") {
    REQUIRE(w.l2->set("junk", "not a frame", 10s).ok());
    CHECK(a.erase_if([](const std::string&, const std::string&) { return true; }) == 1);
    CHECK(a.stats().decode_errors == 1);
    CHECK(w.l2->get("junk")->has_value());
  }
}

TEST_CASE("TieredCache namespaces: caches share a backend without sharing keys or clears",
          "[tiered][namespace]") {
  World w;
  Tiered users(w.l1(), w.l2, {.key_namespace = "users"});
  Tiered users2(w.l1(), w.l2, {.key_namespace = "users"});
  Tiered orders(w.l1(), w.l2, {.key_namespace = "orders"});
  Tiered plain(w.l1(), w.l2);
  users.put("42", "ada", {.tags = {"t"}});
  orders.put("42", "order 42", {.tags = {"t"}});
  CHECK(w.l2->get("users:42")->has_value());  // L2 keys carry the namespace
  CHECK(w.l2->get("orders:42")->has_value());
  CHECK(users2.get("42") == "ada");  // same namespace: same keys
  CHECK(orders.get("42") == "order 42");
  CHECK_FALSE(plain.get("42"));  // no namespace: "42" is another key
  CHECK(orders.keys() == Keys{"42"});
  REQUIRE(users2.l1().contains("42"));
  users.clear();  // only the users namespace, in L2 and in its caches' L1s
  CHECK_FALSE(users2.l1().contains("42"));
  CHECK(orders.l1().contains("42"));
  CHECK(orders.get("42") == "order 42");
  CHECK_FALSE(w.l2->get("users:42")->has_value());
  users.put("7", "grace");
  REQUIRE(users2.get("7") == "grace");
  orders.put("7", "order 7");  // a write in another namespace drops nothing here
  CHECK(users2.l1().contains("7"));
  CHECK(orders.invalidate_tag("t") == 1);  // tags are per namespace too
  CHECK(users.erase_prefix("") == 1);
  CHECK(orders.get("7") == "order 7");
}
