// TieredCache with the built-in codecs: structs, containers, typed frames (a read as the wrong
// type is a miss, never garbage) and lookup()'s tier and age across caches. Over MemoryBackend;
// redis_test.cpp runs the same values through a real redis-server.
#include <larder/codec.h>
#include <larder/memory_backend.h>
#include <larder/tiered.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using larder::MemoryBackend;
using larder::TieredCache;

namespace {

struct Profile {
  std::uint64_t id = 0;
  std::string name;
  std::vector<float> embedding;
  std::map<std::string, std::string> settings;
  std::optional<std::string> email;
  bool operator==(const Profile&) const = default;
};

// Two versions of one struct, both named "User" (Fields' type_name).
struct UserV1 {
  std::uint64_t id = 0;
  std::string name;
  bool operator==(const UserV1&) const = default;
};
struct UserV2 {
  std::uint64_t id = 0;
  std::string name;
  std::uint32_t age = 0;  // added in version 2
  bool operator==(const UserV2&) const = default;
};

struct World {
  std::shared_ptr<larder::ManualClock> clock = std::make_shared<larder::ManualClock>();
  std::shared_ptr<MemoryBackend> l2 = std::make_shared<MemoryBackend>(
      larder::Options<std::string, std::string>{.clock = clock, .background_cleanup = 0s});
  template <class V>
  larder::Options<std::string, V> l1() {
    return {.max_entries = 1000, .clock = clock, .background_cleanup = 0s};
  }
};

}  // namespace

template <>
struct larder::Fields<Profile> : larder::Members<&Profile::id, &Profile::name, &Profile::embedding,
                                                 &Profile::settings, &Profile::email> {};

template <>
struct larder::Fields<UserV1> : larder::Members<&UserV1::id, &UserV1::name> {
  static constexpr std::string_view type_name = "User";
};
template <>
struct larder::Fields<UserV2> : larder::Members<&UserV2::id, &UserV2::name, &UserV2::age> {
  static constexpr std::string_view type_name = "User";
};

TEST_CASE("TieredCache: a Fields struct and containers travel through L2 to another cache",
          "[tiered][codec]") {
  World w;
  TieredCache<std::string, Profile> a(w.l1<Profile>(), w.l2), b(w.l1<Profile>(), w.l2);
  const Profile p{7, "Ada", {0.5F, -1.25F}, {{"theme", "dark"}}, "ada@example.com"};
  REQUIRE(a.put("u:7", p).l2);
  CHECK(b.get("u:7") == p);
  CHECK(b.stats().l2_hits == 1);

  TieredCache<std::string, std::vector<float>> va(w.l1<std::vector<float>>(), w.l2),
      vb(w.l1<std::vector<float>>(), w.l2);
  va.put("emb:1", std::vector<float>(512, 0.25F));
  CHECK(vb.get("emb:1") == std::vector<float>(512, 0.25F));
}

TEST_CASE("TieredCache: bytes written for another type read as a miss and a decode error",
          "[tiered][codec][decode]") {
  // Two programs on one backend disagree about a key's type. Four bytes written as a byte
  // vector used to decode as a garbage std::uint32_t; the frame's type tag now refuses them.
  World w;
  TieredCache<std::string, std::vector<std::uint8_t>> writer(w.l1<std::vector<std::uint8_t>>(),
                                                             w.l2);
  TieredCache<std::string, std::uint32_t> reader(w.l1<std::uint32_t>(), w.l2);
  writer.put("k", std::vector<std::uint8_t>{'a', 'b', 'c', 'd'});
  CHECK(reader.get("k") == std::nullopt);
  CHECK(reader.stats().decode_errors == 1);
  CHECK(reader.stats().l2_misses == 1);
  CHECK(!reader.l1().contains("k"));

  // A struct read as a string is refused the same way.
  TieredCache<std::string, Profile> profiles(w.l1<Profile>(), w.l2);
  profiles.put("u:1", Profile{1, "Ada", {}, {}, std::nullopt});
  TieredCache<std::string, std::string> as_string(w.l1<std::string>(), w.l2);
  CHECK(as_string.get("u:1") == std::nullopt);
  CHECK(as_string.stats().decode_errors == 1);

  // An older build's shape of a struct (a member added since) is another type too: a rolling
  // deploy reads the other version's entries as misses and reloads them.
  TieredCache<std::string, UserV1> old_build(w.l1<UserV1>(), w.l2);
  TieredCache<std::string, UserV2> new_build(w.l1<UserV2>(), w.l2);
  new_build.put("user:1", UserV2{1, "Ada", 36});
  CHECK(old_build.get("user:1") == std::nullopt);
  CHECK(old_build.stats().decode_errors == 1);
  TieredCache<std::string, UserV2> same_build(w.l1<UserV2>(), w.l2);
  CHECK(same_build.get("user:1") == UserV2{1, "Ada", 36});
}

TEST_CASE("TieredCache lookup: the tier and the age since the write, across caches",
          "[tiered][lookup]") {
  World w;
  TieredCache<std::string, std::string> a(w.l1<std::string>(), w.l2), b(w.l1<std::string>(), w.l2);
  CHECK(b.lookup("k").tier == larder::Tier::kNone);
  CHECK(!b.lookup("k"));

  a.put("k", "v", {.ttl = 10s});
  w.clock->advance(3s);
  auto local = a.lookup("k");
  CHECK(local.tier == larder::Tier::kL1);
  CHECK(local.age == 3s);
  CHECK(local.ttl == 10s);

  w.clock->advance(1s);
  auto remote = b.lookup("k");  // L2: 10 s written, 6 s left
  REQUIRE(remote.hit());
  CHECK(*remote.value == "v");
  CHECK(remote.tier == larder::Tier::kL2);
  CHECK(remote.age == 4s);
  CHECK(remote.ttl == 10s);
  CHECK(larder::to_string(remote.tier) == "l2");

  // The L1 copy b filled keeps the write's time: its age goes on from 4 s, not from 0.
  w.clock->advance(2s);
  auto filled = b.lookup("k");
  CHECK(filled.tier == larder::Tier::kL1);
  CHECK(filled.age == 6s);
  CHECK(filled.ttl == 10s);
  CHECK(b.l1().lookup("k").age == 6s);
  w.clock->advance(4s);  // 10 s after the write: gone from both
  CHECK(!b.lookup("k"));

  SECTION("get_or_load and get_all fill with the write's time too") {
    a.put("x", "1", {.ttl = 20s});
    a.put("y", "2", {.ttl = 20s});
    w.clock->advance(5s);
    CHECK(b.get_or_load("x", [] { return std::string("loaded"); }) == "1");
    CHECK(b.l1().lookup("x").age == 5s);
    auto none = [](const std::vector<std::string>&) {
      return std::vector<std::pair<std::string, std::string>>{};
    };
    CHECK(b.get_all(std::vector<std::string>{"y"}, none)[0] == "2");
    CHECK(b.l1().lookup("y").age == 5s);
  }
  SECTION("an L2 entry without a TTL has no age to tell") {
    a.put("forever", "v", {.ttl = larder::kNoExpiry});
    w.clock->advance(5s);
    auto r = b.lookup("forever");
    CHECK(r.tier == larder::Tier::kL2);
    CHECK(r.age == 0s);
    CHECK(r.ttl == larder::kNoExpiry);
  }
}
