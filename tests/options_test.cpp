// Validation of larder/options.h: each bad field is refused with a message naming it.
#include "larder/options.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "larder/cache.h"
#include "larder/memoize.h"
#include "test_util.h"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using IntCache = larder::Cache<std::uint64_t, std::uint64_t>;

TEST_CASE("defaults are valid and documented values", "[options]") {
  const IntCache::Options o;
  CHECK_NOTHROW(o.validate());
  CHECK(o.max_entries == 0);
  CHECK(o.max_bytes == 0);
  CHECK(o.default_ttl == 0s);
  CHECK(o.expire_after_access == 0s);
  CHECK(o.shards == 0);
  CHECK(o.clock == nullptr);
  CHECK(o.background_cleanup == 1s);
}

TEST_CASE("bad options are refused with the field and value in the message", "[options]") {
  CHECK_THROWS_TYPE_WITH(IntCache({.default_ttl = -5s}), larder::InvalidArgument,
                         Contains("Options.default_ttl") && Contains("-5s"));
  CHECK_THROWS_TYPE_WITH(IntCache({.expire_after_access = -1ms}), larder::InvalidArgument,
                         Contains("Options.expire_after_access") && Contains("-1ms"));
  CHECK_THROWS_TYPE_WITH(IntCache({.shards = 100'000}), larder::InvalidArgument,
                         Contains("Options.shards") && Contains("100000") && Contains("65536"));
  CHECK_THROWS_TYPE_WITH(IntCache({.background_cleanup = -1s}), larder::InvalidArgument,
                         Contains("Options.background_cleanup"));
  CHECK_THROWS_TYPE_WITH(IntCache({.max_entries = std::size_t{1} << 41}), larder::InvalidArgument,
                         Contains("Options.max_entries"));
  CHECK_THROWS_TYPE_WITH(IntCache({.name = "sessions", .default_ttl = -1s}),
                         larder::InvalidArgument, Contains("cache \"sessions\""));
}

TEST_CASE("kNoExpiry is accepted as a default TTL and per put", "[options]") {
  IntCache c({.default_ttl = larder::kNoExpiry, .background_cleanup = 0s});
  CHECK_NOTHROW(c.put(1, 1, {.ttl = larder::kNoExpiry}));
  CHECK(c.get(1) == 1);
}

TEST_CASE("PutOptions validation names the field", "[options]") {
  larder::PutOptions p{.ttl = -2h};
  CHECK_THROWS_TYPE_WITH(p.validate(), larder::InvalidArgument,
                         Contains("PutOptions.ttl") && Contains("-2h"));
  CHECK_NOTHROW(larder::PutOptions{}.validate());
  CHECK_NOTHROW(larder::PutOptions{.ttl = 1ns}.validate());
}

TEST_CASE("removal causes have names", "[options]") {
  CHECK(larder::to_string(larder::RemovalCause::kExplicit) == "explicit");
  CHECK(larder::to_string(larder::RemovalCause::kReplaced) == "replaced");
  CHECK(larder::to_string(larder::RemovalCause::kExpired) == "expired");
  CHECK(larder::to_string(larder::RemovalCause::kEvicted) == "evicted");
}

TEST_CASE("larder::Ttl is a Duration in every way a caller uses one", "[options]") {
  larder::Options<int, int> o{.default_ttl = 5min};
  CHECK(o.default_ttl == 5min);
  CHECK(o.default_ttl > 1s);
  CHECK(o.default_ttl.count() == std::chrono::nanoseconds(5min).count());
  const larder::Duration d = o.default_ttl;  // converts to its base
  CHECK(d == 300s);
  CHECK(o.default_ttl + 1s == 301s);
  CHECK(std::min<larder::Duration>(o.default_ttl, 1s) == 1s);
  o.default_ttl = larder::kNoExpiry;
  CHECK(o.default_ttl == larder::kNoExpiry);
  larder::MemoizeOptions<int> m{.ttl = std::chrono::milliseconds(1500)};
  CHECK(m.ttl == 1500ms);
}
