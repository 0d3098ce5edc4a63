// Hit ratios of larder's policies on the reference traces (tests/traces), for the table and the
// curves in bench/README.md (bench/plot_hit_ratio.sh runs it beside the JVM's Caffeine).
//
//   larder_hit_ratio_bench TRACE SIZE...   prints "trace,size,lru,tinylfu" rows (CSV): exact LRU
//                                          (one shard) and Policy::kTinyLfu (one shard, the
//                                          median of 3 caches: it is randomized per instance)
//   larder_hit_ratio_bench --quick         one small trace at two sizes (the suite's smoke run)
//
// TRACE is a name in tests/traces ("multi2") or a path to a .trace.gz file.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "larder/cache.h"

namespace {

std::vector<std::uint64_t> load(const std::string& trace) {
  const std::string path = trace.find('/') != std::string::npos
                               ? trace
                               : std::string(LARDER_TRACES_DIR) + "/" + trace + ".trace.gz";
  const std::unique_ptr<gzFile_s, int (*)(gzFile)> in(gzopen(path.c_str(), "rb"), gzclose);
  std::vector<std::uint64_t> keys;
  if (!in) return keys;
  char line[64];
  while (gzgets(in.get(), line, sizeof line) != nullptr) {
    char* end = nullptr;
    const unsigned long long k = std::strtoull(line, &end, 10);
    if (end != line) keys.push_back(k);
  }
  return keys;
}

double replay(const std::vector<std::uint64_t>& keys, std::size_t size, larder::Policy policy) {
  larder::Cache<std::uint64_t, std::uint64_t> c({.max_entries = size,
                                                 .shards = 1,
                                                 .background_cleanup = std::chrono::seconds(0),
                                                 .policy = policy});
  for (std::uint64_t k : keys) {
    if (!c.get(k)) c.put(k, k);
  }
  return 100.0 * c.stats().hit_rate();
}

std::string name_of(const std::string& trace) {
  std::string n = trace.substr(trace.rfind('/') + 1);
  if (const auto dot = n.find(".trace"); dot != std::string::npos) n.resize(dot);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--quick") args = {"cs", "140", "700"};
  if (args.size() < 2) {
    std::fprintf(stderr, "usage: larder_hit_ratio_bench TRACE SIZE... | --quick\n");
    return 2;
  }
  const std::vector<std::uint64_t> keys = load(args[0]);
  if (keys.empty()) {
    std::fprintf(stderr, "larder_hit_ratio_bench: cannot read trace %s\n", args[0].c_str());
    return 1;
  }
  std::printf("trace,size,lru,tinylfu\n");
  for (std::size_t a = 1; a < args.size(); ++a) {
    const std::size_t size = std::strtoull(args[a].c_str(), nullptr, 10);
    if (size == 0) {
      std::fprintf(stderr, "larder_hit_ratio_bench: bad size %s\n", args[a].c_str());
      return 2;
    }
    double t[3];
    for (double& x : t) x = replay(keys, size, larder::Policy::kTinyLfu);
    std::sort(t, t + 3);
    std::printf("%s,%zu,%.2f,%.2f\n", name_of(args[0]).c_str(), size,
                replay(keys, size, larder::Policy::kLru), t[1]);
  }
  return 0;
}
