// Compression on vs off for 4 KiB JSON-like values (larder::Cache<uint64_t, std::string>):
// memory per entry (what bytes() counts), and get / put throughput on one thread.
// Configurations: off (min_size = 0), zlib level 1 (the default), zlib level 6.
// Then the same values through a TieredCache over MemoryBackend (zlib level 1): a put (L2 and
// L1 both hold the value compressed), and an L2-hit fill (an L1 miss read from L2, decoded for
// the caller and kept in L1).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "harness.h"
#include "larder/cache.h"
#include "larder/memory_backend.h"
#include "larder/tiered.h"

namespace {

constexpr std::size_t kEntries = 4096;
constexpr std::size_t kValueSize = 4096;

// Distinct JSON-like documents: the shape services cache (API responses, user records).
const std::vector<std::string>& values() {
  static const auto v = [] {
    std::vector<std::string> out;
    out.reserve(kEntries);
    for (std::size_t k = 0; k < kEntries; ++k) {
      std::string s = "[";
      for (std::size_t i = 0; s.size() < kValueSize; ++i) {
        const std::size_t id = k * 1000 + i;
        s += R"({"id":)" + std::to_string(id) + R"(,"name":"user)" + std::to_string(id % 997) +
             R"(","email":"user)" + std::to_string(id % 997) + R"(@example.com","score":)" +
             std::to_string((id * 7919) % 10007) + R"(,"active":)" + (id % 3 ? "true" : "false") +
             R"(,"roles":["reader","writer"]},)";
      }
      s.resize(kValueSize - 1);
      s += "]";
      out.push_back(std::move(s));
    }
    return out;
  }();
  return v;
}

using C = larder::Cache<std::uint64_t, std::string>;

larder::CompressionOptions config(int which) {
  if (which == 0) return {.min_size = 0};
  return {.level = which};
}
const char* name(int which) { return which == 0 ? "off" : which == 1 ? "zlib-1" : "zlib-6"; }

C& filled(int which) {
  static std::map<int, C*> caches;
  C*& c = caches[which];
  if (!c) {
    c = new C({.compression = config(which)});
    for (std::size_t k = 0; k < kEntries; ++k) c->put(k, values()[k]);
  }
  return *c;
}

void BM_Get(benchmark::State& state) {
  C& c = filled(static_cast<int>(state.range(0)));
  std::size_t k = 0;
  for (auto _ : state) benchmark::DoNotOptimize(c.get(k++ % kEntries));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kValueSize));
}

void BM_Put(benchmark::State& state) {
  C& c = filled(static_cast<int>(state.range(0)));
  std::size_t k = 0;
  for (auto _ : state) {
    c.put(k % kEntries, values()[k % kEntries]);
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kValueSize));
}

using T = larder::TieredCache<std::uint64_t, std::string>;

T& tiered() {
  static T* t = [] {
    auto* c = new T({.background_cleanup = std::chrono::seconds(0)},
                    std::make_shared<larder::MemoryBackend>());
    for (std::size_t k = 0; k < kEntries; ++k) c->put(k, values()[k]);
    return c;
  }();
  return *t;
}

void BM_TieredPut(benchmark::State& state) {
  T& t = tiered();
  std::size_t k = 0;
  for (auto _ : state) {
    t.put(k % kEntries, values()[k % kEntries]);
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_TieredFill(benchmark::State& state) {
  T& t = tiered();
  std::size_t k = 0;
  for (auto _ : state) {
    const std::uint64_t key = k++ % kEntries;
    t.l1().erase(key);  // the next get misses L1 and fills from L2
    benchmark::DoNotOptimize(t.get(key));
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("get", &BM_Get)->Arg(0)->Arg(1)->Arg(6);
  benchmark::RegisterBenchmark("put", &BM_Put)->Arg(0)->Arg(1)->Arg(6);
  benchmark::RegisterBenchmark("tiered_put", &BM_TieredPut);
  benchmark::RegisterBenchmark("tiered_fill", &BM_TieredFill);
  return larder_bench::run_benchmarks(argc, argv, [](const larder_bench::Results& results) {
    std::printf("\n== 4 KiB JSON-like values, %zu entries, one thread\n", kEntries);
    std::printf("%-8s %14s %10s %14s %14s\n", "config", "bytes/entry", "vs off", "get kops/s",
                "put kops/s");
    const double off_bytes = static_cast<double>(filled(0).bytes()) / kEntries;
    for (int which : {0, 1, 6}) {
      const C& c = filled(which);
      const double per = static_cast<double>(c.bytes()) / static_cast<double>(c.size());
      // (Not "/" + std::to_string(...): GCC 12 warns falsely on that, bug 105651.)
      const std::string arg = std::string("/").append(std::to_string(which)).append("@1");
      std::printf("%-8s %14.0f %9.2fx %14.1f %14.1f\n", name(which), per, per / off_bytes,
                  results.get("get" + arg, "items_per_second") / 1e3,
                  results.get("put" + arg, "items_per_second") / 1e3);
    }
    const larder::Stats s = filled(1).stats();
    std::printf("zlib-1 stats: compressed=%llu skipped=%llu ratio=%.3f decode_errors=%llu\n",
                static_cast<unsigned long long>(s.compressed),
                static_cast<unsigned long long>(s.compression_skipped), s.compression_ratio(),
                static_cast<unsigned long long>(s.decode_errors));
    std::printf("\n== TieredCache over MemoryBackend, zlib-1, one thread, kops/s\n");
    std::printf("put %.1f   L2-hit fill %.1f\n",
                results.get("tiered_put@1", "items_per_second") / 1e3,
                results.get("tiered_fill@1", "items_per_second") / 1e3);
  });
}
