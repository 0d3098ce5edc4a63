// detail/entry_time.h on its own: deadlines that saturate instead of wrapping, `due` at the
// deadline itself, the TTL an entry was stored with, and a put's times from the cache's expiry
// settings. (LazyNow's clock reads: cache_test.cpp, "on the default clock a put's write time".)
#include "larder/detail/entry_time.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <limits>

using namespace std::chrono_literals;
using larder::detail::kNever;

TEST_CASE("entry time: deadlines saturate at kNever, and an entry is due at its deadline",
          "[entry_time]") {
  using larder::detail::saturating_add;
  CHECK(saturating_add(100, 50) == 150);
  CHECK(saturating_add(100, kNever - 100) == kNever);  // reaching it: never
  CHECK(saturating_add(100, kNever) == kNever);        // 100 years past: never, not the past
  CHECK(saturating_add(-5, kNever) == kNever - 5);     // a negative reading cannot overflow
  larder::ManualClock clock;
  larder::detail::LazyNow now(&clock);
  const std::int64_t t = now();
  CHECK_FALSE(larder::detail::due(kNever, now));
  CHECK_FALSE(larder::detail::due(t + 1, now));
  CHECK(larder::detail::due(t, now));  // at the deadline: expired
  CHECK(larder::detail::due(t - 1, now));
}

TEST_CASE("entry time: a put's times come from its TTL, the default TTL and access expiry",
          "[entry_time]") {
  larder::ManualClock clock;
  const std::int64_t t = clock.now().time_since_epoch().count();
  const auto ns = [](larder::Duration d) { return d.count(); };
  {
    const larder::detail::EntryTimes times{.default_ttl = 5min};
    larder::detail::LazyNow now(&clock);
    const auto m = times.meta(std::nullopt, 42, now);  // the default TTL
    CHECK(m.written == t);
    CHECK(m.write_deadline == t + ns(5min));
    CHECK(m.expires == m.write_deadline);
    CHECK(m.weight == 42);
    CHECK_FALSE(m.immortal);
    const auto own = times.meta(30s, 1, now);  // its own TTL wins
    CHECK(own.write_deadline == t + ns(30s));
    CHECK(larder::detail::stored_ttl(own) == 30s);
    const auto forever = times.meta(larder::kNoExpiry, 1, now);
    CHECK(forever.write_deadline == kNever);
    CHECK(forever.immortal);
    CHECK(larder::detail::stored_ttl(forever) == larder::kNoExpiry);
  }
  {
    const larder::detail::EntryTimes times{.access_ttl = ns(10s)};  // no default TTL
    larder::detail::LazyNow now(&clock);
    const auto m = times.meta(std::nullopt, 1, now);
    CHECK(m.write_deadline == kNever);
    CHECK(m.expires == t + ns(10s));  // the access deadline is the earlier one
    const auto short_ttl = times.meta(2s, 1, now);
    CHECK(short_ttl.expires == t + ns(2s));  // min(write deadline, access deadline)
    const auto forever = times.meta(larder::kNoExpiry, 1, now);
    CHECK(forever.expires == kNever);  // kNoExpiry is exempt from access expiry too
  }
  {  // An entry's age, read later on the same clock; never negative.
    const larder::detail::EntryTimes times{};
    larder::detail::LazyNow at_put(&clock);
    const auto m = times.meta(std::nullopt, 1, at_put);
    clock.advance(7s);
    larder::detail::LazyNow later(&clock);
    CHECK(larder::detail::age_of(m, later) == 7s);
    larder::detail::EntryMeta future = m;
    future.written += ns(1h);
    CHECK(larder::detail::age_of(future, later) == larder::Duration{0});
  }
}
