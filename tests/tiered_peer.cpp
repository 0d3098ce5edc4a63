// A second process for the cross-process coherence test: a TieredCache on Redis, driven by lines
// on stdin, answering on stdout.
//   tiered_peer PORT PREFIX        prints "ready" once its invalidation channel is up, then:
//   get KEY     -> "value V" | "miss"         (L1, else Redis)
//   local KEY   -> "local V" | "local-miss"   (L1 only, no side effects)
//   await N     -> "ok" | "timeout"           (N invalidations from others applied, 10 s max)
#include <larder/redis_backend.h>
#include <larder/tiered.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  if (argc != 3) return 2;
  auto redis = std::make_shared<larder::RedisBackend>(larder::RedisOptions{
      .port = std::atoi(argv[1]), .key_prefix = argv[2], .command_timeout = 2s});
  larder::TieredCache<std::string, std::string> cache({.max_entries = 1000}, redis);
  if (!cache.wait_for_channel(true, 10s)) {
    std::cout << "no channel" << std::endl;
    return 1;
  }
  std::cout << "ready" << std::endl;
  std::string cmd, arg;
  while (std::cin >> cmd >> arg) {
    if (cmd == "get") {
      auto v = cache.get(arg);
      std::cout << (v ? "value " + *v : std::string("miss")) << std::endl;
    } else if (cmd == "local") {
      auto v = cache.l1().peek(arg);
      std::cout << (v ? "local " + *v : std::string("local-miss")) << std::endl;
    } else if (cmd == "await") {
      const bool ok = cache.wait_for_invalidations(std::stoull(arg), 10s);
      std::cout << (ok ? "ok" : "timeout") << std::endl;
    } else {
      std::cout << "unknown" << std::endl;
    }
  }
  return 0;
}
