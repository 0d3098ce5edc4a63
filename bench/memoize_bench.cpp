// larder::cached(fn) beside a direct Cache::get and a hand-written memoizer, in one run.
//
//   hit       every call hits: scrambled Zipf(0.99) over 10,922 keys, prefilled. The cost of the
//             memoizer layer (key tuple, freshness check, stats) over Cache::get.
//   stampede  every iteration all threads ask for the same new key (a cold miss) whose fn spins
//             ~20 us. larder runs fn once per key (single-flight); the hand-written memoizer
//             (std::mutex + std::unordered_map, compute outside the lock, the usual shape) runs it
//             once per thread that missed. Reports fn calls per key and keys per second.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "harness.h"
#include "larder/memoize.h"
#include "zipf.h"

namespace larder_bench {
namespace {

constexpr std::size_t kItems = 10'922;
constexpr std::size_t kStream = 32'768;

const std::vector<std::uint64_t>& hot_keys() {
  static const auto keys = scrambled_zipf(kItems, kStream);
  return keys;
}

std::uint64_t work(std::uint64_t k) { return k * 2654435761u; }

/// The hand-written memoizer services write: check under a mutex, compute outside it, insert.
class MutexMemo {
 public:
  template <class F>
  std::uint64_t call(std::uint64_t k, F&& fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(k);
      if (it != map_.end()) return it->second;
    }
    const std::uint64_t v = fn(k);
    std::lock_guard<std::mutex> lock(mu_);
    map_.emplace(k, v);
    return v;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::uint64_t> map_;
};

// ---- hit path ----

auto& memo_hit() {
  static auto* f = [] {
    auto* m =
        new auto(larder::cached([](std::uint64_t k) { return work(k); }, {.max_entries = 32'768}));
    for (std::uint64_t k : hot_keys()) (void)(*m)(k);
    return m;
  }();
  return *f;
}
auto& direct_cache() {
  static auto* c = [] {
    auto* cache = new larder::Cache<std::uint64_t, std::uint64_t>({.max_entries = 32'768});
    for (std::uint64_t k : hot_keys()) cache->put(k, work(k));
    return cache;
  }();
  return *c;
}
MutexMemo& mutex_memo_hit() {
  static auto* m = [] {
    auto* mm = new MutexMemo;
    for (std::uint64_t k : hot_keys()) (void)mm->call(k, work);
    return mm;
  }();
  return *m;
}

template <int kImpl>
void BM_Hit(benchmark::State& state) {
  const std::uint64_t* keys = hot_keys().data();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 8191;
  if constexpr (kImpl == 0) (void)memo_hit();
  if constexpr (kImpl == 1) (void)direct_cache();
  if constexpr (kImpl == 2) (void)mutex_memo_hit();
  for (auto _ : state) {
    const std::uint64_t k = keys[i++ & (kStream - 1)];
    if constexpr (kImpl == 0) {
      benchmark::DoNotOptimize(memo_hit()(k));
    } else if constexpr (kImpl == 1) {
      benchmark::DoNotOptimize(direct_cache().get(k));
    } else {
      benchmark::DoNotOptimize(mutex_memo_hit().call(k, work));
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- stampede ----

std::atomic<std::uint64_t> g_fn_calls{0};
std::atomic<std::uint64_t> g_next_base{1};

std::uint64_t expensive(std::uint64_t k) {
  g_fn_calls.fetch_add(1, std::memory_order_relaxed);
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
  while (std::chrono::steady_clock::now() < until) {
  }
  return work(k);
}

template <bool kLarder>
void BM_Stampede(benchmark::State& state) {
  // Fresh memoizers per run; thread 0 sets up before the (barriered) timing loop.
  static larder::Memoized<larder::Cache<std::tuple<std::uint64_t>, std::uint64_t>, std::uint64_t>*
      memo = nullptr;
  static MutexMemo* mm = nullptr;
  static std::uint64_t base = 0;
  if (state.thread_index() == 0) {
    delete memo;
    delete mm;
    memo = new auto(larder::cached([](std::uint64_t k) { return expensive(k); },
                                   {.background_cleanup = std::chrono::seconds(0)}));
    mm = new MutexMemo;
    base = g_next_base.fetch_add(std::uint64_t{1} << 32);
    g_fn_calls = 0;
  }
  std::uint64_t k = 0;
  for (auto _ : state) {
    // All threads walk the same key sequence: each key is asked for by every thread.
    const std::uint64_t key = base + k++;
    if constexpr (kLarder) {
      benchmark::DoNotOptimize((*memo)(key));
    } else {
      benchmark::DoNotOptimize(mm->call(key, expensive));
    }
  }
  if (state.thread_index() == 0) {
    state.counters["fn_calls_per_key"] =
        static_cast<double>(g_fn_calls.load()) / static_cast<double>(std::max<std::uint64_t>(1, k));
    state.counters["keys_per_s"] =
        benchmark::Counter(static_cast<double>(k), benchmark::Counter::kIsRate);
  }
}

// ---- summary ----

void print_summary(const Results& results) {
  auto get = [&](const std::string& run, const std::string& c) { return results.get(run, c); };
  std::printf("\n== Hit path, Mops/s (total across threads)\n");
  std::printf("%-8s %14s %14s %14s   %s\n", "threads", "cached(fn)", "Cache::get", "mutex-memo",
              "cached/get");
  for (int t : {1, 2}) {
    const std::string s = "@" + std::to_string(t);
    const double memo = get("hit/cached" + s, "items_per_second") / 1e6;
    const double direct = get("hit/cache_get" + s, "items_per_second") / 1e6;
    const double mutex = get("hit/mutex_memo" + s, "items_per_second") / 1e6;
    std::printf("%-8d %14.1f %14.1f %14.1f   %9.2f\n", t, memo, direct, mutex, memo / direct);
  }
  std::printf("\n== Stampede: every thread asks for each new key (fn spins ~20 us)\n");
  std::printf("%-8s %26s %26s\n", "threads", "larder: keys/s [fn/key]",
              "mutex-memo: keys/s [fn/key]");
  for (int t : {4, 16}) {
    const std::string s = "@" + std::to_string(t);
    std::printf("%-8d %16.0f [%6.2f] %16.0f [%6.2f]\n", t, get("stampede/larder" + s, "keys_per_s"),
                get("stampede/larder" + s, "fn_calls_per_key"),
                get("stampede/mutex_memo" + s, "keys_per_s"),
                get("stampede/mutex_memo" + s, "fn_calls_per_key"));
  }
}

}  // namespace
}  // namespace larder_bench

int main(int argc, char** argv) {
  using namespace larder_bench;
  for (auto [name, fn] :
       {std::pair{"hit/cached", &BM_Hit<0>}, std::pair{"hit/cache_get", &BM_Hit<1>},
        std::pair{"hit/mutex_memo", &BM_Hit<2>}}) {
    benchmark::RegisterBenchmark(name, fn)->Threads(1)->Threads(2)->UseRealTime();
  }
  benchmark::RegisterBenchmark("stampede/larder", &BM_Stampede<true>)
      ->Threads(4)
      ->Threads(16)
      ->UseRealTime();
  benchmark::RegisterBenchmark("stampede/mutex_memo", &BM_Stampede<false>)
      ->Threads(4)
      ->Threads(16)
      ->UseRealTime();
  return run_benchmarks(argc, argv, print_summary);
}
