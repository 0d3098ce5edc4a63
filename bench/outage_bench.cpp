// Database queries around a Redis outage: a TieredCache in front of a "database" (a counter),
// read at a steady rate by two threads, while its redis-server (started here on a free loopback
// port) is stopped for 3 s (SIGSTOP: a stall, data kept) or killed and restarted 3 s later (data
// lost). Prints the queries per half second and the totals before, during and after.
//
//   larder_outage_bench [--kill] [--quick]
#include <larder/redis_backend.h>
#include <larder/tiered.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../tests/redis_server.h"

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

int main(int argc, char** argv) {
  bool kill = false, quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--kill") == 0) kill = true;
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
  }
  constexpr int kKeys = 2000;
  const auto before = quick ? 1s : 2s, outage = 3s, after = quick ? 3s : 5s;
  larder_test::RedisServer server;
  auto redis = std::make_shared<larder::RedisBackend>(larder::RedisOptions{.port = server.port()});
  larder::TieredCache<std::string, std::string> cache(
      {.max_entries = 100'000, .default_ttl = 10min}, redis);
  if (!cache.wait_for_channel(true, 10s)) {
    std::fprintf(stderr, "the invalidation channel never came up\n");
    return 1;
  }
  std::atomic<long> db{0}, reads{0};
  auto read = [&](int k) {
    const std::string key = "user:" + std::to_string(k);
    cache.get_or_load(key, [&] {
      db.fetch_add(1, std::memory_order_relaxed);
      return "row of " + key;
    });
    reads.fetch_add(1, std::memory_order_relaxed);
  };
  for (int k = 0; k < kKeys; ++k) read(k);  // warm: every key in L1 and L2
  db = 0;
  reads = 0;

  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t) {
    load.emplace_back([&, t] {
      unsigned k = static_cast<unsigned>(t) * 7919u;
      while (!stop.load()) {
        for (int i = 0; i < 50; ++i) read(static_cast<int>((k = k * 1103515245u + 12345u) % kKeys));
        std::this_thread::sleep_for(10ms);  // ~5,000 reads/s per thread: a paced load
      }
    });
  }
  const auto t0 = Steady::now();
  const auto outage_at = t0 + before, back_at = outage_at + outage, end = back_at + after;
  long at_outage = -1, at_back = -1;
  std::uint64_t l2_ops_at_back = 0;
  double channel_back_after = -1;  // seconds from the server's return to the channel's
  bool down = false, restarted = false;
  std::printf("%-8s %8s %8s  %s\n", "t (s)", "reads", "db", "redis");
  long last_db = 0, last_reads = 0;
  for (auto tick = t0 + 500ms; tick <= end; tick += 500ms) {
    while (Steady::now() < tick) {
      if (!down && Steady::now() >= outage_at) {
        at_outage = db.load();
        kill ? server.kill_now() : server.pause();
        down = true;
      }
      if (down && !restarted && Steady::now() >= back_at) {
        at_back = db.load();
        l2_ops_at_back = redis->stats().ops;
        kill ? server.restart() : server.resume();
        restarted = true;
      }
      if (restarted && channel_back_after < 0 && cache.channel_up()) {
        channel_back_after = std::chrono::duration<double>(Steady::now() - back_at).count();
      }
      std::this_thread::sleep_for(1ms);
    }
    const long d = db.load(), r = reads.load();
    const double s = std::chrono::duration<double>(tick - t0).count();
    std::printf("%-8.1f %8ld %8ld  %s\n", s, r - last_reads, d - last_db,
                down && !restarted ? (kill ? "killed" : "stopped") : "up");
    last_db = d;
    last_reads = r;
  }
  stop = true;
  for (auto& t : load) t.join();
  const auto st = cache.stats();
  std::printf("outage: %s for %.0f s, %d keys, %ld reads\n",
              kill ? "killed + restarted" : "SIGSTOP",
              std::chrono::duration<double>(outage).count(), kKeys, reads.load());
  std::printf("db queries: before %ld, during %ld, after %ld; L2 operations after: %llu\n",
              at_outage, at_back - at_outage, db.load() - at_back,
              static_cast<unsigned long long>(redis->stats().ops - l2_ops_at_back));
  std::printf("channel up again %.0f ms after the server; breaker %s\n", channel_back_after * 1e3,
              redis->stats().breaker_opened ? "opened during the outage" : "never opened");
  std::printf("resyncs %llu (L1 entries kept %llu, dropped %llu, clears %llu), L1 size %zu\n",
              static_cast<unsigned long long>(st.resyncs),
              static_cast<unsigned long long>(st.resync_kept),
              static_cast<unsigned long long>(st.resync_dropped),
              static_cast<unsigned long long>(st.resync_clears), st.l1.size);
  return 0;
}
