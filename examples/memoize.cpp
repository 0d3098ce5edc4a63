// larder::cached(fn): memoize an expensive function. Shows single-flight under concurrent
// misses, TTL + refresh-ahead, negative caching of "not found", stale-if-error when the backend
// fails, a function sharing an existing cache, and the stats.
#include <larder/memoize.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

// Stands in for a database: counts how often it is really called, and can be made to fail.
struct FakeDb {
  std::atomic<int> queries{0};
  std::atomic<bool> down{false};
  std::optional<std::string> load_user(const std::string& id) {
    ++queries;
    if (down) throw std::runtime_error("db down");
    if (id == "missing") return std::nullopt;
    return "User(" + id + ")";
  }
};

int main() {
  FakeDb db;
  auto clock = std::make_shared<larder::ManualClock>();  // so the example is deterministic

  auto load_user = larder::cached(
      [&](const std::string& id) { return db.load_user(id); },
      {.max_entries = 10'000,
       .ttl = 1min,
       .negative_ttl = 10s,                                     // remember "not found" briefly
       .refresh_after = 45s,                                    // reload hot entries early
       .stale_if_error = 5min,                                  // ride out backend outages
       .executor = std::make_shared<larder::InlineExecutor>(),  // refresh inline (demo)
       .clock = clock});

  // 64 threads miss the same cold key at once: one database query.
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i) threads.emplace_back([&] { (void)load_user("u:1"); });
  for (auto& t : threads) t.join();
  std::cout << "64 concurrent calls for u:1 -> " << db.queries << " query\n";

  (void)load_user("missing");
  (void)load_user("missing");
  std::cout << "2 calls for a missing user -> " << db.queries - 1 << " query (cached absence)\n";

  clock->advance(50s);  // past refresh_after: served at once, reloaded behind the scenes
  std::cout << "after 50s: " << *load_user("u:1") << ", queries " << db.queries << "\n";

  db.down = true;
  clock->advance(2min);  // expired; the reload fails; the stale value is served
  std::cout << "db down, entry expired: " << *load_user("u:1") << " (stale)\n";
  db.down = false;

  std::cout << "bypass (use_cache=false): " << *load_user.fresh("u:1") << "\n";
  load_user.invalidate("u:1");
  std::cout << "after invalidate, peek: " << (load_user.peek("u:1") ? "cached" : "empty") << "\n";

  // Several functions can share one bounded cache, each with its own key scheme.
  larder::Cache<std::string, std::string> shared({.max_entries = 1000});
  auto title = larder::cached(
      shared, [](int id) { return "Title #" + std::to_string(id); },
      [](int id) { return "title:" + std::to_string(id); }, {.ttl = 5min});
  std::cout << title(7) << " (shared cache now holds " << shared.size() << " entry)\n";

  const larder::MemoizeStats s = load_user.stats();
  std::cout << "load_user stats: hits=" << s.hits << " misses=" << s.misses << " loads=" << s.loads
            << " load_failures=" << s.load_failures << " refreshes=" << s.refreshes
            << " stale_served=" << s.stale_served << "\n";
  return 0;
}
