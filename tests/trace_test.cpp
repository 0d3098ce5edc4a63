// Hit-ratio check against the reference traces in tests/traces (README there: origin, licence,
// reference ratios): replay each trace (get; on a miss, put). One shard must reproduce the
// exact-LRU column to the hundredth; default options (auto shards) must stay within 0.5 percentage
// points of it, and so must explicit shard counts on a cache big enough for them (several shards
// keep LRU order per shard at tick grain).
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "larder/cache.h"

namespace {

// Reads tests/traces/<name>.trace.gz (gzip, one decimal key per line) through zlib.
std::vector<std::uint64_t> load_trace(const std::string& name) {
  const std::string path = std::string(LARDER_TRACES_DIR) + "/" + name + ".trace.gz";
  INFO("trace file " << path);
  const std::unique_ptr<gzFile_s, int (*)(gzFile)> in(gzopen(path.c_str(), "rb"), gzclose);
  REQUIRE(in != nullptr);
  std::vector<std::uint64_t> keys;
  char line[64];
  while (gzgets(in.get(), line, sizeof line) != nullptr) {
    char* end = nullptr;
    const unsigned long long k = std::strtoull(line, &end, 10);
    if (end == line) continue;  // a blank line
    keys.push_back(k);
  }
  int err = Z_OK;
  const char* msg = gzerror(in.get(), &err);
  INFO("zlib: " << msg);
  REQUIRE((err == Z_OK || err == Z_STREAM_END));
  REQUIRE(!keys.empty());
  return keys;
}

double replay_percent(const std::vector<std::uint64_t>& keys, std::size_t capacity,
                      std::size_t shards) {
  larder::Cache<std::uint64_t, std::uint64_t> c(
      {.max_entries = capacity, .shards = shards, .background_cleanup = std::chrono::seconds(0)});
  for (std::uint64_t k : keys) {
    if (!c.get(k)) c.put(k, k);
  }
  const larder::Stats s = c.stats();
  REQUIRE(s.requests() == keys.size());
  REQUIRE(s.size <= capacity);
  return 100.0 * s.hit_rate();
}

struct Row {
  const char* trace;
  std::size_t size;
  double lru;
};
const Row kRows[] = {
    {"multi2", 284, 26.89},         {"multi2", 1136, 48.02}, {"sprite", 353, 65.63},
    {"sprite", 1415, 92.21},        {"ps", 308, 16.33},      {"cpp", 122, 75.72},
    {"2_pools", 993, 54.38},        {"multi1", 260, 43.42},  {"multi3", 745, 35.49},
    {"gli", 1000, 11.21},           {"loop", 512, 0.00},     {"cloudphysics", 1000, 16.73},
    {"cloudphysics", 20000, 36.72},
};

}  // namespace

TEST_CASE("one shard reproduces exact LRU hit ratios to the hundredth", "[trace]") {
  for (const Row& r : kRows) {
    const auto keys = load_trace(r.trace);
    const double got = replay_percent(keys, r.size, 1);
    INFO(r.trace << " @ " << r.size << ": got " << got << "%, exact LRU " << r.lru << "%");
    CHECK(std::round(got * 100.0) / 100.0 == Approx(r.lru).margin(1e-9));
  }
}

TEST_CASE("default options stay within 0.5 pp of exact LRU", "[trace]") {
  for (const Row& r : kRows) {
    const auto keys = load_trace(r.trace);
    const double got = replay_percent(keys, r.size, 0);
    INFO(r.trace << " @ " << r.size << ": got " << got << "%, exact LRU " << r.lru << "%");
    CHECK(std::abs(got - r.lru) <= 0.5);
  }
}

TEST_CASE("several shards (coarse recency) stay within 0.5 pp of exact LRU", "[trace]") {
  const auto keys = load_trace("cloudphysics");
  for (std::size_t shards : {2, 4, 8, 16}) {
    const double got = replay_percent(keys, 20000, shards);
    INFO("cloudphysics @ 20000, " << shards << " shards: got " << got << "%, exact LRU 36.72%");
    CHECK(std::abs(got - 36.72) <= 0.5);
  }
}
