// detail/tag_index.h on its own: tag -> slots and slot -> tags stay each other's inverse.
#include "larder/detail/tag_index.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace {
std::vector<std::uint32_t> sorted(std::vector<std::uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_CASE("tag index: slots by tag, removal from every tag a slot carries", "[tag_index]") {
  larder::detail::TagIndex t;
  t.add(1, {"user:1", "team:a"});
  t.add(2, {"user:2", "team:a"});
  t.add(3, {"team:b"});
  CHECK(sorted(t.slots_with("team:a")) == std::vector<std::uint32_t>{1, 2});
  CHECK(t.slots_with("user:1") == std::vector<std::uint32_t>{1});
  CHECK(t.slots_with("nobody").empty());

  t.remove(1);
  CHECK(t.slots_with("team:a") == std::vector<std::uint32_t>{2});
  CHECK(t.slots_with("user:1").empty());  // its last slot gone: the tag is gone
  t.remove(1);                            // again: nothing to do
  t.remove(99);                           // never tagged
  CHECK(t.slots_with("team:b") == std::vector<std::uint32_t>{3});

  t.add(1, {"team:b"});  // a slot reused for another entry
  CHECK(sorted(t.slots_with("team:b")) == std::vector<std::uint32_t>{1, 3});
  t.reset();
  CHECK(t.slots_with("team:b").empty());
  CHECK(t.slots_with("user:2").empty());
}

TEST_CASE("tag index: a tag given twice to one slot is one membership", "[tag_index]") {
  larder::detail::TagIndex t;
  t.add(5, {"x", "x"});
  CHECK(t.slots_with("x") == std::vector<std::uint32_t>{5});
  t.remove(5);
  CHECK(t.slots_with("x").empty());
}
