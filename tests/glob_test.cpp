// larder/glob.h: Redis glob patterns. (That Redis reads each the same way: redis_test.cpp,
// "glob patterns match here what they match in Redis".)
#include <larder/glob.h>

#include <catch2/catch.hpp>
#include <string>

#include "glob_cases.h"

TEST_CASE("glob: the Redis syntax, byte by byte", "[glob]") {
  for (const larder_test::GlobCase& c : larder_test::kGlobCases) {
    INFO("pattern " << c.pattern << " text " << c.text);
    CHECK(larder::glob_match(c.pattern, c.text) == c.match);
  }
}

TEST_CASE("glob: a literal pattern has no syntax in it", "[glob]") {
  CHECK(larder::glob_is_literal("user:42"));
  CHECK_FALSE(larder::glob_is_literal("user:*"));
  CHECK_FALSE(larder::glob_is_literal("a\\*"));
  CHECK_FALSE(larder::glob_is_literal("[ab]"));
  // Many stars and a long text stay linear in practice: one backtrack point.
  const std::string text(10'000, 'a');
  CHECK_FALSE(larder::glob_match("*a*a*a*a*a*a*a*a*b", text));
  CHECK(larder::glob_match("*a*a*a*a*a*a*a*a*", text));
}
