// larder/weigh.h: what the default weigher counts (strings, containers and their elements, Fields
// structs, Weigh specializations), codec_weigher, and a cache's bytes() with each.
#include "larder/weigh.h"

#include <larder/cache.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

struct User {  // owns heap memory through its members
  std::uint64_t id = 0;
  std::string name;
  std::vector<std::string> roles;
};
struct Opaque {  // owns heap memory, and says nothing about it
  std::string text;
};
struct Buffer {  // says what it owns through a Weigh specialization
  std::vector<char> bytes;
};

}  // namespace

template <>
struct larder::Fields<User> : larder::Members<&User::id, &User::name, &User::roles> {};
template <>
struct larder::Weigh<Buffer> {
  static std::size_t heap(const Buffer& b) noexcept { return b.bytes.capacity(); }
};

TEST_CASE("heap_size: strings, containers and what their elements own", "[weigh]") {
  CHECK(larder::heap_size(std::string(100, 'x')) == 100);
  CHECK(larder::heap_size(std::vector<std::uint32_t>(10)) == 40);
  const std::vector<std::string> names{std::string(50, 'a'), std::string(30, 'b')};
  CHECK(larder::heap_size(names) == 2 * sizeof(std::string) + 80);
  CHECK(larder::heap_size(std::optional<std::string>(std::string(7, 'c'))) == 7);
  CHECK(larder::heap_size(std::optional<std::string>()) == 0);
  CHECK(larder::heap_size(std::pair<int, std::string>{1, std::string(9, 'd')}) == 9);
  const std::map<std::string, std::string> m{{std::string(20, 'k'), std::string(40, 'v')}};
  CHECK(larder::heap_size(m) == sizeof(std::pair<const std::string, std::string>) + 32 + 60);
  CHECK(larder::heap_size(std::unordered_set<int>{1, 2}) == 2 * (sizeof(int) + 16));
  CHECK(larder::heap_size(42) == 0);
}

TEST_CASE("the default weigher counts a Fields struct member by member", "[weigh]") {
  // The case that undercounted: a User with a 5,000-character name weighed 73 bytes.
  const User u{1, std::string(5000, 'n'), {"admin"}};
  const std::size_t w = larder::default_weight(std::string("u:1"), u);
  CHECK(w == sizeof(std::string) + 3 + sizeof(User) + 5000 + sizeof(std::string) + 5);
  CHECK(larder::default_weight(1, Buffer{std::vector<char>(4096)}) >= sizeof(int) + 4096);
  // Without Fields or Weigh, a struct weighs its sizeof: say so with one of them.
  CHECK(larder::default_weight(1, Opaque{std::string(5000, 'o')}) == sizeof(int) + sizeof(Opaque));
}

TEST_CASE("codec_weigher weighs a value by its encoding", "[weigh]") {
  const auto weigh = larder::codec_weigher<std::string, User>();
  const User u{1, std::string(5000, 'n'), {"admin"}};
  CHECK(weigh("u:1", u) == sizeof(std::string) + 3 + sizeof(User) + larder::encode(u).size());
}

TEST_CASE("max_bytes and bytes() see what a struct owns", "[weigh][cache]") {
  larder::Cache<std::string, User> users({.max_bytes = 20'000});
  for (int i = 0; i < 10; ++i) {
    users.put("u:" + std::to_string(i), User{1, std::string(5000, 'n'), {}});
  }
  CHECK(users.bytes() <= 20'000);
  CHECK(users.size() == 3);  // ~5,100 bytes each: three fit, not all ten
  CHECK(users.stats().evictions == 7);
}

TEST_CASE("max_bytes sees the strings inside a vector value", "[weigh][cache]") {
  // Regression: a std::vector<std::string> weighed sizeof(std::string) per element, whatever the
  // strings held, so ten 5,000-character values all fit in 20,000 bytes.
  larder::Cache<std::string, std::vector<std::string>> c({.max_bytes = 20'000});
  for (int i = 0; i < 10; ++i) c.put("k" + std::to_string(i), {std::string(5000, 'x')});
  CHECK(c.size() == 3);
  CHECK(c.bytes() <= 20'000);
}
