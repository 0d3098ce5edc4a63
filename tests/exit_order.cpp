// Exit order: a memoized function with refresh-ahead on a ThreadPool of its own is destroyed just
// before main returns, with refreshes still queued. Nothing of it may run afterwards: no call of
// fn (whose captures are main's locals), no destruction of its cache during static destruction
// (the cache's destructor talks to the background sweeper). Built and run as a test of its own
// (unit:exit-order); the sanitizer builds run it instrumented. Exits non-zero, or aborts, on
// failure; prints "exit-order: ok" at the end of main.
#include <larder/memoize.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

using namespace std::chrono_literals;

namespace {
std::atomic<bool> g_gone{false};  // the memoizer's last copy is gone
std::atomic<int> g_calls_after{0};
}  // namespace

int main() {
  auto clock = std::make_shared<larder::ManualClock>();
  std::atomic<bool> refreshing{false};
  {
    auto f = larder::cached(
        [&](int x) {
          if (g_gone.load()) {
            g_calls_after.fetch_add(1);
            std::fputs("exit-order: fn ran after its memoizer was destroyed\n", stderr);
            std::abort();
          }
          if (refreshing.load()) {
            // Work (not synchronization): keeps the pool's queue long while the last copy goes.
            const auto until = std::chrono::steady_clock::now() + 200us;
            while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
          }
          return x;
        },
        {.ttl = 1h,
         .refresh_after = 1min,
         .executor = std::make_shared<larder::ThreadPool>(1),
         .clock = clock,
         .background_cleanup = 1s});
    for (int i = 0; i < 64; ++i) (void)f(i);
    clock->advance(2min);
    refreshing = true;
    for (int i = 0; i < 64; ++i) (void)f(i);  // 64 refreshes queue on the pool's one thread
    if (f.stats().refreshes != 64) return 3;
  }  // the last copy goes: queued refreshes cancelled, a running one waited for
  g_gone = true;
  if (g_calls_after.load() != 0) return 4;
  std::puts("exit-order: ok");
  return 0;
}
