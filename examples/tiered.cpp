// L1 (in process) + L2 (Redis, shared by every process of the service), with a memoized loader.
//
//   ./tiered                           # no Redis URL: L2 is an in-process MemoryBackend
//   ./tiered redis://127.0.0.1:6379/0  # L2 is Redis; run two of them to see the sharing
//
// Then: one slow "database" load per key, later reads from L1, a write that goes through to both
// tiers (and tells other processes to drop their copy), and the counters of both tiers.
#include <larder/memoize.h>
#include <larder/memory_backend.h>
#include <larder/redis_backend.h>
#include <larder/tiered.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  std::shared_ptr<larder::Backend> l2;
  if (argc > 1) {
    // An L2 call slower than command_timeout counts as an error and the read falls back to the
    // loader; 1 s leaves room for a loaded host (the default is 100 ms).
    l2 = std::make_shared<larder::RedisBackend>(larder::RedisOptions{
        .uri = argv[1], .key_prefix = "larder-example:", .command_timeout = 1s});
  } else {
    l2 = std::make_shared<larder::MemoryBackend>();
  }
  std::printf("L2 backend: %s\n", std::string(l2->kind()).c_str());
  if (auto ping = l2->ping(); !ping) {
    // Not fatal: the tiered cache degrades to L1 + loader, and counts the errors.
    std::printf("L2 not reachable (%s); running on L1 alone\n", ping.error().message.c_str());
  }

  larder::TieredCache<std::string, std::string> profiles(
      {.name = "profiles", .max_entries = 10'000, .default_ttl = 5min}, l2);

  int db_queries = 0;
  auto load_profile = larder::cached(
      profiles,
      [&](const std::string& id) {
        ++db_queries;
        std::this_thread::sleep_for(20ms);  // the slow query this cache saves
        return "{\"id\":\"" + id + "\",\"name\":\"User " + id + "\"}";
      },
      [](const std::string& id) { return "profile:" + id; }, {.ttl = 1min});

  for (int round = 0; round < 3; ++round) {
    for (const char* id : {"1", "2", "3"}) (void)load_profile(id);
  }
  std::printf("9 reads of 3 profiles -> %d database queries\n", db_queries);

  profiles.put("profile:1", "{\"id\":\"1\",\"name\":\"Renamed\"}");  // write-through + invalidate
  std::printf("after the write: %s\n", load_profile("1").c_str());

  const larder::TieredStats s = profiles.stats();
  std::printf(
      "L1: hits=%llu misses=%llu; L2: hits=%llu misses=%llu errors=%llu breaker=%s\n",
      static_cast<unsigned long long>(s.l1.hits), static_cast<unsigned long long>(s.l1.misses),
      static_cast<unsigned long long>(s.l2_hits), static_cast<unsigned long long>(s.l2_misses),
      static_cast<unsigned long long>(s.l2_errors),
      std::string(larder::to_string(s.l2.breaker_state)).c_str());
  return 0;
}
