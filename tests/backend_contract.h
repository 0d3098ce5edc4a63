// The Backend contract: what every implementation (MemoryBackend, RedisBackend) must do.
// Call from a TEST_CASE with a fresh backend per run (each SECTION re-runs the test case).
#pragma once

#include <larder/backend.h>
#include <larder/options.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace larder_test {

using namespace std::chrono_literals;

inline void backend_contract(larder::Backend& b) {
  SECTION("a missing key reads as absent") {
    auto r = b.get("missing");
    REQUIRE(r.ok());
    CHECK(!r->has_value());
  }
  SECTION("set then get returns the bytes and the remaining ttl") {
    REQUIRE(b.set("k", "v1", 10s).ok());
    auto r = b.get("k");
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK((*r)->value == "v1");
    CHECK((*r)->ttl > 9s);
    CHECK((*r)->ttl <= 10s);
  }
  SECTION("kNoExpiry stores without expiry") {
    REQUIRE(b.set("forever", "x", larder::kNoExpiry).ok());
    auto r = b.get("forever");
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK((*r)->ttl == larder::kNoExpiry);
  }
  SECTION("values are binary-safe; empty values are values") {
    const std::string bin("a\0b\r\n%s\xff", 8);
    REQUIRE(b.set("bin", bin, 10s).ok());
    REQUIRE(b.set("empty", "", 10s).ok());
    auto r1 = b.get("bin");
    auto r2 = b.get("empty");
    REQUIRE(r1.ok());
    REQUIRE(r2.ok());
    REQUIRE(r1->has_value());
    REQUIRE(r2->has_value());
    CHECK((*r1)->value == bin);
    CHECK((*r2)->value.empty());
  }
  SECTION("set replaces the value and the ttl") {
    REQUIRE(b.set("k", "old", 100s).ok());
    REQUIRE(b.set("k", "new", 5s).ok());
    auto r = b.get("k");
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK((*r)->value == "new");
    CHECK((*r)->ttl <= 5s);
  }
  SECTION("get_many and set_many keep order, absent keys included") {
    const larder::BackendItem items[] = {{"m1", "one"}, {"m2", "two"}, {"m3", "three"}};
    REQUIRE(b.set_many(items, 10s).ok());
    const std::string_view keys[] = {"m1", "nope", "m3", "m2"};
    auto r = b.get_many(keys);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 4);
    REQUIRE((*r)[0].has_value());
    CHECK((*r)[0]->value == "one");
    CHECK(!(*r)[1].has_value());
    REQUIRE((*r)[2].has_value());
    CHECK((*r)[2]->value == "three");
    REQUIRE((*r)[3].has_value());
    CHECK((*r)[3]->value == "two");
    auto none = b.get_many({});
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
  SECTION("erase says whether the key existed") {
    REQUIRE(b.set("e", "v", 10s).ok());
    auto first = b.erase("e");
    auto second = b.erase("e");
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK(*first);
    CHECK(!*second);
    CHECK(!b.get("e")->has_value());
  }
  SECTION("set_if_absent stores only where nothing is") {
    auto first = b.set_if_absent("nx", "one", 10s);
    auto second = b.set_if_absent("nx", "two", 100s);
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK(*first);
    CHECK(!*second);
    auto r = b.get("nx");
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK((*r)->value == "one");
    CHECK((*r)->ttl <= 10s);  // the existing entry's ttl is kept too
    auto forever = b.set_if_absent("nx-forever", "x", larder::kNoExpiry);
    REQUIRE(forever.ok());
    CHECK(*forever);
    CHECK((*b.get("nx-forever"))->ttl == larder::kNoExpiry);
    CHECK(!b.set_if_absent("nx-zero", "v", 0s).ok());
    CHECK(!b.get("nx-zero")->has_value());
  }
  SECTION("set_many_if_absent stores each item only where nothing is") {
    REQUIRE(b.set("nx-many-b", "there", 10s).ok());
    const std::vector<larder::BackendItem> items{
        {"nx-many-a", "1"}, {"nx-many-b", "2"}, {"nx-many-c", "3"}};
    auto r = b.set_many_if_absent(items, 10s);
    REQUIRE(r.ok());
    CHECK(*r == std::vector<bool>{true, false, true});
    CHECK((*b.get("nx-many-a"))->value == "1");
    CHECK((*b.get("nx-many-b"))->value == "there");
    CHECK((*b.get("nx-many-c"))->ttl <= 10s);
    auto none = b.set_many_if_absent({}, 10s);
    REQUIRE(none.ok());
    CHECK(none->empty());
    CHECK(!b.set_many_if_absent(items, 0s).ok());
  }
  SECTION("tags: erase_tagged removes every member, whatever its key, and only those") {
    const std::vector<std::string> user42{"user:42"}, both{"user:42", "team:7"};
    const std::vector<larder::BackendItem> a{{"profile:42", "p"}, {"feed:x:42", "f"}};
    auto r = b.set_many_tagged(a, 10s, user42, /*only_if_absent=*/false);
    REQUIRE(r.ok());
    CHECK(*r == std::vector<bool>{true, true});
    const std::vector<larder::BackendItem> c{{"42:settings", "s"}};
    REQUIRE(b.set_many_tagged(c, larder::kNoExpiry, both, false).ok());
    REQUIRE(b.set("untagged:42", "u", 10s).ok());
    // only_if_absent: an existing key is neither written nor tagged.
    const std::vector<larder::BackendItem> again{{"untagged:42", "other"}};
    auto nx = b.set_many_tagged(again, 10s, user42, /*only_if_absent=*/true);
    REQUIRE(nx.ok());
    CHECK(*nx == std::vector<bool>{false});
    auto gone = b.erase_tagged("user:42");
    REQUIRE(gone.ok());
    std::vector<std::string> keys = *gone;
    std::sort(keys.begin(), keys.end());
    CHECK(keys == std::vector<std::string>{"42:settings", "feed:x:42", "profile:42"});
    CHECK(!b.get("profile:42")->has_value());
    CHECK(!b.get("42:settings")->has_value());
    CHECK((*b.get("untagged:42"))->value == "u");
    auto twice = b.erase_tagged("user:42");  // forgotten: nothing left to remove
    REQUIRE(twice.ok());
    CHECK(twice->empty());
    auto team = b.erase_tagged("team:7");  // its only member is gone already
    REQUIRE(team.ok());
    CHECK(team->empty());
    CHECK(!b.set_many_tagged(a, 0s, user42, false).ok());
  }
  SECTION("server_info describes the server") {
    REQUIRE(b.set("info-a", "1", 10s).ok());
    REQUIRE(b.set("info-b", "2", 10s).ok());
    auto info = b.server_info();
    REQUIRE(info.ok());
    CHECK(info->kind == b.kind());
    CHECK(info->keys >= 2);
    CHECK(info->used_memory > 0);
  }
  SECTION("keys and erase_matching take Redis globs, and tags' sets are not keys") {
    REQUIRE(b.set("g:user:1:profile", "a", 10s).ok());
    REQUIRE(b.set("g:user:2:profile", "b", 10s).ok());
    REQUIRE(b.set("g:user:1:feed", "c", 10s).ok());
    REQUIRE(b.set("g:other", "d", 10s).ok());
    const std::vector<std::string> tag{"g-tag"};
    const std::vector<larder::BackendItem> tagged{{"g:tagged", "t"}};
    REQUIRE(b.set_many_tagged(tagged, 10s, tag, false).ok());
    auto profiles = b.keys("g:user:*:profile");
    REQUIRE(profiles.ok());
    std::sort(profiles->begin(), profiles->end());
    CHECK(*profiles == std::vector<std::string>{"g:user:1:profile", "g:user:2:profile"});
    auto all = b.keys("*");
    REQUIRE(all.ok());
    for (const std::string& k : *all) CHECK(k.find("g-tag") == std::string::npos);
    auto n = b.erase_matching("g:user:1:*");
    REQUIRE(n.ok());
    CHECK(*n == 2);
    CHECK(!b.get("g:user:1:feed")->has_value());
    CHECK(b.get("g:user:2:profile")->has_value());
    auto none = b.keys("g:nothing:*");
    REQUIRE(none.ok());
    CHECK(none->empty());
    auto star = b.erase_matching("g:*");  // the tag's set stays (it is not a key)
    REQUIRE(star.ok());
    CHECK(*star == 3);
    auto still = b.erase_tagged("g-tag");
    REQUIRE(still.ok());
    CHECK(still->empty());  // its member was erased by the pattern
  }
  SECTION("erase_if_equal removes only the value it names") {
    const std::string bin("a\0b", 3);
    REQUIRE(b.set("ce", bin, 10s).ok());
    auto other = b.erase_if_equal("ce", std::string("a\0c", 3));
    REQUIRE(other.ok());
    CHECK(!*other);
    CHECK(b.get("ce")->has_value());
    auto prefix_only = b.erase_if_equal("ce", "a");
    REQUIRE(prefix_only.ok());
    CHECK(!*prefix_only);
    auto same = b.erase_if_equal("ce", bin);
    REQUIRE(same.ok());
    CHECK(*same);
    CHECK(!b.get("ce")->has_value());
    auto missing = b.erase_if_equal("ce", bin);
    REQUIRE(missing.ok());
    CHECK(!*missing);
  }
  SECTION("erase_prefix removes exactly the keys with that literal prefix") {
    for (const char* k : {"a:1", "a:2", "b:1", "a*1", "ab"}) REQUIRE(b.set(k, "v", 10s).ok());
    auto n = b.erase_prefix("a:");
    REQUIRE(n.ok());
    CHECK(*n == 2);
    CHECK(!b.get("a:1")->has_value());
    CHECK(b.get("b:1")->has_value());
    CHECK(b.get("a*1")->has_value());
    auto star = b.erase_prefix("a*");  // '*' is literal: "ab" must survive
    REQUIRE(star.ok());
    CHECK(*star == 1);
    CHECK(b.get("ab")->has_value());
  }
  SECTION("a zero ttl is refused as an error value, nothing stored") {
    auto r = b.set("z", "v", 0s);
    CHECK(!r.ok());
    CHECK(!b.get("z")->has_value());
  }
  SECTION("ping answers") {
    auto r = b.ping();
    REQUIRE(r.ok());
    CHECK(r->count() >= 0);
  }
  SECTION("stats count operations") {
    const larder::BackendStats before = b.stats();
    (void)b.get("x");
    (void)b.set("x", "y", 1s);
    const larder::BackendStats after = b.stats();
    CHECK(after.ops == before.ops + 2);
    CHECK(after.latency_count == before.latency_count + 2);
    CHECK(after.errors == before.errors);
    CHECK(after.breaker_state == larder::BreakerState::kClosed);
  }
  SECTION("published messages reach subscribers") {
    std::mutex mu;
    std::condition_variable cv;
    bool up = false;
    std::vector<std::string> got;
    auto sub = b.subscribe({.on_message =
                                [&](std::string_view m) {
                                  std::lock_guard<std::mutex> l(mu);
                                  got.emplace_back(m);
                                  cv.notify_all();
                                },
                            .on_state =
                                [&](bool u) {
                                  std::lock_guard<std::mutex> l(mu);
                                  up = u;
                                  cv.notify_all();
                                }});
    {
      std::unique_lock<std::mutex> l(mu);
      REQUIRE(cv.wait_for(l, 10s, [&] { return up; }));
    }
    REQUIRE(b.publish("hello").ok());
    std::unique_lock<std::mutex> l(mu);
    REQUIRE(cv.wait_for(l, 10s, [&] { return !got.empty(); }));
    CHECK(got.front() == "hello");
  }
}

}  // namespace larder_test
