// What larder costs as it grows, and how its get latency is distributed.
//
//   larder_cost_bench [--quick]
//
// * Memory: Cache<uint64_t, uint64_t> with a TTL on every entry, 1M entries: allocator bytes in
//   use (mallinfo2) and RSS before and after, per entry, minus the 16 bytes of key and value.
//   Then the same allocator measure at 27 sizes from 50K to 1.9M entries (each 15% above the
//   last): the index and the expiry heap grow by doubling, so bytes per entry depend on where a
//   size falls between two doublings; the sweep prints the least, mean and most.
// * Cost curve (one thread): get-hit and put-with-eviction throughput at 1K, 64K, 1M and 16M
//   entries. Keys are uniform over the cache's contents, so the bigger sizes pay cache misses.
// * TTL and the clock: get-hit and update (a put over a live key) at 1K entries, one thread,
//   without a TTL, with one on the default clock (steady_clock, read by every put and by every get
//   of an entry with a deadline), and with one on larder::CoarseClock.
// * Latency: p50 / p99 / p99.9 of get under the GetPut read75 mix on 2 threads (each get timed
//   between two steady_clock reads; about one read's cost is included, ~30 ns on this VM).
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "larder/cache.h"
#include "zipf.h"

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using U64Cache = larder::Cache<std::uint64_t, std::uint64_t>;

namespace {

volatile std::uint64_t sink;  // keeps the gets' results alive

std::size_t heap_in_use() { return mallinfo2().uordblks + mallinfo2().hblkhd; }
std::size_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::unique_ptr<U64Cache> make(std::size_t entries) {
  return std::make_unique<U64Cache>(
      U64Cache::Options{.max_entries = entries, .default_ttl = 1h, .background_cleanup = 0s});
}

/// Allocator bytes in use and RSS per entry of a cache filled to `n` entries (its max_entries).
struct PerEntry {
  double heap, rss;
  std::size_t shards;
};
PerEntry fill_and_measure(std::size_t n) {
  malloc_trim(0);
  const std::size_t heap0 = heap_in_use(), rss0 = rss_bytes();
  auto c = make(n);
  for (std::uint64_t k = 0; k < n; ++k) c->put(k, k);
  const auto per = [n](std::size_t after, std::size_t before) {
    return static_cast<double>(after - before) / static_cast<double>(n);
  };
  return {per(heap_in_use(), heap0), per(rss_bytes(), rss0), c->shard_count()};
}

void memory(std::size_t n) {
  const PerEntry m = fill_and_measure(n);
  std::printf("== Memory: Cache<uint64_t, uint64_t>, TTL on, %zu entries (%zu shards)\n", n,
              m.shards);
  std::printf(
      "allocator bytes in use: %.1f B/entry -> overhead %.1f B beyond key+value (goal "
      "<= 32: %s)\n",
      m.heap, m.heap - 16, m.heap - 16 <= 32 ? "PASS" : "FALL SHORT");
  std::printf("RSS:                    %.1f B/entry -> overhead %.1f B\n", m.rss, m.rss - 16);
}

void memory_sweep() {
  double least = 1e9, most = 0, sum = 0;
  int sizes = 0;
  for (std::size_t n = 50'000; n <= 2'000'000; n = n * 23 / 20, ++sizes) {
    const double b = fill_and_measure(n).heap;
    least = std::min(least, b);
    most = std::max(most, b);
    sum += b;
  }
  std::printf(
      "allocator bytes per entry over %d sizes, 50K to 1.9M entries: least %.1f, mean %.1f, "
      "most %.1f\n",
      sizes, least, sum / sizes, most);
}

/// Mops/s of `ops` calls of op(i).
template <class Op>
double rate(std::size_t ops, Op op) {
  const auto t0 = Steady::now();
  for (std::size_t i = 0; i < ops; ++i) op(i);
  return static_cast<double>(ops) / std::chrono::duration<double>(Steady::now() - t0).count() / 1e6;
}

void clock_cost(std::size_t ops) {
  constexpr std::uint64_t kEntries = 1'000;
  struct Config {
    const char* name;
    larder::Duration ttl;
    std::shared_ptr<larder::Clock> clock;
  };
  const Config configs[] = {{"no TTL", 0s, nullptr},
                            {"TTL 1h, steady_clock (default)", 1h, nullptr},
                            {"TTL 1h, CoarseClock", 1h, std::make_shared<larder::CoarseClock>()}};
  std::printf(
      "== TTL and the clock, 1K entries, one thread (Mops/s; CoarseClock resolution %lld ns)\n",
      static_cast<long long>(larder::CoarseClock::resolution().count()));
  std::printf("%-32s %10s %10s\n", "", "get-hit", "update");
  for (const Config& cfg : configs) {
    U64Cache c({.max_entries = kEntries,
                .default_ttl = cfg.ttl,
                .clock = cfg.clock,
                .background_cleanup = 0s});
    for (std::uint64_t k = 0; k < kEntries; ++k) c.put(k, k);
    std::uint64_t sum = 0;
    const double get = rate(ops, [&](std::size_t i) { sum += *c.get(i * 7919 % kEntries); });
    sink = sum;
    const double update = rate(ops, [&](std::size_t i) { c.put(i * 7919 % kEntries, i); });
    std::printf("%-32s %10.2f %10.2f\n", cfg.name, get, update);
  }
  std::printf("\n");
}

void cost_curve(const std::vector<std::size_t>& sizes, std::size_t ops) {
  std::printf("== Cost curve, one thread (Mops/s)\n");
  std::printf("%-10s %14s %24s\n", "entries", "get-hit", "put-with-eviction");
  for (std::size_t n : sizes) {
    auto c = make(n);
    for (std::uint64_t k = 0; k < n; ++k) c->put(k, k);
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> keys(1 << 20);
    for (auto& k : keys) k = rng() % n;
    std::uint64_t sum = 0;
    const double get =
        rate(ops, [&](std::size_t i) { sum += *c->get(keys[i & (keys.size() - 1)]); });
    sink = sum;
    std::uint64_t next = n;
    const double put = rate(ops, [&](std::size_t) {
      c->put(next, next);
      ++next;
    });
    std::printf("%-10zu %14.2f %24.2f\n", n, get, put);
  }
  std::printf("\n");
}

void latency(std::size_t ops_per_thread) {
  constexpr std::size_t kSize = 2 << 14, kMask = kSize - 1;
  const auto keys = larder_bench::scrambled_zipf(kSize / 3, kSize);
  U64Cache c({.max_entries = kSize, .background_cleanup = 0s});
  for (std::uint64_t k : keys) c.put(k, k);
  std::vector<std::vector<std::uint32_t>> samples(2);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < 2; ++t) {
    ts.emplace_back([&, t] {
      auto& out = samples[static_cast<std::size_t>(t)];
      out.reserve(ops_per_thread);
      std::size_t i = static_cast<std::size_t>(t) * (kSize / 4) + 17;
      ++ready;
      while (!go.load()) std::this_thread::yield();
      for (std::size_t n = 0; n < ops_per_thread; ++n, ++i) {
        const std::uint64_t k = keys[i & kMask];
        if ((n & 3) == 3) {  // read75: one put in four
          c.put(k, k);
          continue;
        }
        const auto t0 = Steady::now();
        auto v = c.get(k);
        const auto ns = (Steady::now() - t0).count();
        out.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(ns, UINT32_MAX)));
        if (v && *v != k) std::abort();
      }
    });
  }
  while (ready.load() < 2) std::this_thread::yield();
  go = true;
  for (auto& t : ts) t.join();
  std::vector<std::uint32_t> all = samples[0];
  all.insert(all.end(), samples[1].begin(), samples[1].end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all[static_cast<std::size_t>(p * static_cast<double>(all.size() - 1))];
  };
  std::printf("== Latency of get, GetPut read75, 2 threads (%zu gets timed)\n", all.size());
  std::printf("p50 %u ns   p99 %u ns   p99.9 %u ns   max %u ns\n", pct(0.50), pct(0.99), pct(0.999),
              all.back());
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  memory(quick ? 100'000 : 1'000'000);
  if (!quick) memory_sweep();
  std::printf("\n");
  cost_curve(quick ? std::vector<std::size_t>{1'000, 65'536}
                   : std::vector<std::size_t>{1'000, 65'536, 1'000'000, 16'000'000},
             quick ? 100'000 : 5'000'000);
  clock_cost(quick ? 100'000 : 5'000'000);
  latency(quick ? 100'000 : 4'000'000);
  return 0;
}
