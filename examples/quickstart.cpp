// The README's first snippet, runnable: a named cache with a default TTL, per-put TTL and tags,
// get/peek/lookup, invalidation, the stats, and a cache on the cheaper CoarseClock.
#include <larder/cache.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

using namespace std::chrono_literals;

struct User {
  std::string name;
  int age = 0;
};

int main() {
  larder::Cache<std::string, User> users(
      {.name = "users", .max_entries = 100'000, .default_ttl = 5min});

  User u{"Ada", 36};
  users.put("u:1", u);                                    // default TTL (5 min)
  users.put("u:1", u, {.ttl = 30s, .tags = {"user:1"}});  // per-entry TTL, tagged
  users.put("u:2", {"Grace", 45}, {.tags = {"user:2"}});

  std::optional<User> a = users.get("u:1");   // counts a hit, refreshes recency
  std::optional<User> b = users.peek("u:1");  // no stats, no recency change
  auto r = users.lookup("u:2");               // value + hit flag + age (X-Cache, X-Cache-Age)
  std::cout << "get u:1   -> " << (a ? a->name : "(miss)") << "\n"
            << "peek u:1  -> " << (b ? b->name : "(miss)") << "\n"
            << "lookup u:2 -> X-Cache: " << (r.hit ? "HIT" : "MISS")
            << ", X-Cache-Age: " << std::chrono::duration_cast<std::chrono::seconds>(r.age).count()
            << "\n";

  users.invalidate_tag("user:1");  // everything cached for user 1
  std::cout << "after invalidate_tag(user:1): get u:1 -> " << (users.get("u:1") ? "hit" : "miss")
            << "\n";
  std::cout << "keys(\"u:*\") -> " << users.keys("u:*").size() << " key(s)\n";  // Redis globs
  users.erase_matching("u:[0-9]*");  // or erase_prefix("u:"): same keys here
  users.erase_prefix("u:");
  users.cleanup();  // run expiry now (also runs every 1 s)

  // The shape that must compile as is.
  larder::Cache<std::uint64_t, std::uint64_t> c({.max_entries = 32768});
  c.put(1, 2);
  std::cout << "c.get(1) -> " << c.get(1).value_or(0) << "\n";

  // TTLs of minutes do not need nanosecond clocks: CoarseClock reads the kernel's last tick
  // (1-4 ms resolution), which makes a get of a TTL entry and every put cheaper (clock.h).
  larder::Cache<std::uint64_t, std::uint64_t> sessions(
      {.max_entries = 32768,
       .default_ttl = 10min,
       .clock = std::make_shared<larder::CoarseClock>()});
  sessions.put(7, 70);
  std::cout << "sessions.get(7) on a CoarseClock -> " << sessions.get(7).value_or(0) << "\n";

  larder::Stats s = users.stats();
  std::cout << "users stats: hits=" << s.hits << " misses=" << s.misses
            << " hit_rate=" << s.hit_rate() << " puts=" << s.puts << " updates=" << s.updates
            << " explicit_removals=" << s.explicit_removals << " size=" << s.size << "\n";
  return 0;
}
