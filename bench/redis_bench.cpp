// RedisBackend beside redis-benchmark, in one run, against one redis-server started here on a free
// loopback port; plus a TieredCache L1 hit beside the L2 round trip it saves.
//
//   larder_redis_bench [--quick]
//
// Same clients (threads / connections) and pipeline depth on both sides:
//   * get:       RedisBackend::get (one round trip carrying GET + PTTL) vs redis-benchmark -t get
//   -P 1
//   * get_many:  RedisBackend::get_many of 16 keys (MGET + 16 PTTL, one round trip), keys/s, vs
//                redis-benchmark -t get -P 16 (16 GETs per round trip), requests/s
#include <larder/memory_backend.h>
#include <larder/redis_backend.h>
#include <larder/tiered.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../tests/redis_server.h"

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

namespace {

double redis_benchmark(int port, int clients, int pipeline, long n) {
  const std::string cmd = "redis-benchmark -h 127.0.0.1 -p " + std::to_string(port) + " -c " +
                          std::to_string(clients) + " -n " + std::to_string(n) + " -P " +
                          std::to_string(pipeline) + " -t get -r 1000 --csv 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0;
  char line[512];
  double rps = 0;
  while (fgets(line, sizeof line, p)) {
    // "GET","123456.79",...
    if (std::strncmp(line, "\"GET\"", 5) == 0) rps = std::atof(line + 7);
  }
  pclose(p);
  return rps;
}

/// Operations per second of `op` run by `threads` threads, `per_thread` times each.
template <class Op>
double throughput(int threads, long per_thread, Op op) {
  std::vector<std::thread> ts;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      ++ready;
      while (!go.load()) std::this_thread::yield();
      for (long i = 0; i < per_thread; ++i) op(t, i);
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto t0 = Steady::now();
  go = true;
  for (auto& th : ts) th.join();
  const double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  return static_cast<double>(threads * per_thread) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const long n = quick ? 2'000 : 200'000;
  larder_test::RedisServer server;
  const int port = server.port();
  const int clients = 2;

  // Timeouts well above any round trip: ctest runs this beside other builds on 2 cores, where
  // the 100 ms default command timeout can pass (a timeout is an error and fails the run).
  larder::RedisBackend redis({.port = port,
                              .key_prefix = "",
                              .connect_timeout = 2s,
                              .command_timeout = 2s,
                              .pool_size = 4});
  // redis-benchmark -r 1000 reads keys "key:000000000000" .. "key:000000000999"
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) {
    char k[32];
    std::snprintf(k, sizeof k, "key:%012d", i);
    keys.emplace_back(k);
    if (!redis.set(k, std::string(3, 'x'), larder::kNoExpiry)) return 1;
  }

  std::printf("== RedisBackend vs redis-benchmark (%d clients, 127.0.0.1, 3-byte values)\n",
              clients);
  std::printf("%-34s %14s %14s %8s\n", "case", "larder", "redis-bench", "ratio");
  const double ours_get = throughput(clients, n / clients, [&](int, long i) {
    (void)redis.get(keys[static_cast<std::size_t>(i) % keys.size()]);
  });
  const double theirs_get = redis_benchmark(port, clients, 1, n);
  std::printf("%-34s %14.0f %14.0f %7.2fx\n", "get, pipeline 1 (ops/s)", ours_get, theirs_get,
              ours_get / theirs_get);

  const double ours_many = 16 * throughput(clients, n / clients / 16, [&](int, long i) {
                             std::string_view batch[16];
                             for (int j = 0; j < 16; ++j) {
                               batch[j] = keys[static_cast<std::size_t>(i * 16 + j) % keys.size()];
                             }
                             (void)redis.get_many(batch);
                           });
  const double theirs_many = redis_benchmark(port, clients, 16, n);
  std::printf("%-34s %14.0f %14.0f %7.2fx\n", "get_many 16 / pipeline 16 (keys/s)", ours_many,
              theirs_many, ours_many / theirs_many);

  // Tiered: an L1 hit vs the L2 round trip it saves (one thread).
  auto l2 = std::make_shared<larder::RedisBackend>(
      larder::RedisOptions{.port = port, .connect_timeout = 2s, .command_timeout = 2s});
  larder::TieredCache<std::string, std::string> tiered({.max_entries = 10'000}, l2);
  for (const auto& k : keys) tiered.put(k, "xyz");
  const long m = quick ? 1'000 : 200'000;
  const double l1_ops = throughput(1, m * 10, [&](int, long i) {
    (void)tiered.get(keys[static_cast<std::size_t>(i) % keys.size()]);
  });
  const double l2_ops = throughput(1, m / 4, [&](int, long i) {
    (void)l2->get(keys[static_cast<std::size_t>(i) % keys.size()]);
  });
  std::printf("\n== TieredCache get: L1 hit vs L2 round trip (1 thread)\n");
  std::printf("%-34s %11.0f ns\n", "L1 hit", 1e9 / l1_ops);
  std::printf("%-34s %11.0f ns\n", "L2 round trip (RedisBackend::get)", 1e9 / l2_ops);
  std::printf("%-34s %11.0fx\n", "L1 hit speed-up", l1_ops / l2_ops);

  const larder::BackendStats s = redis.stats();
  std::printf("\nRedisBackend errors during the run: %llu\n",
              static_cast<unsigned long long>(s.errors));
  return s.errors == 0 ? 0 : 1;
}
