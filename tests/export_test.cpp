// larder/export.h: Prometheus text (names, values, escaping) and the JSON snapshot. The text is
// also validated by `promtool check metrics` (ctest export:promtool, via export_sample).
#include "larder/export.h"

#include <catch2/catch.hpp>
#include <string>

#include "larder/cache.h"
#include "larder/memoize.h"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;

TEST_CASE("Prometheus text carries the Micrometer names and larder's own", "[export]") {
  larder::Registry reg;
  larder::Cache<int, std::string> users(
      {.name = "users", .max_entries = 10, .background_cleanup = 0s, .registry = &reg});
  auto load = larder::cached([](int x) { return x * 2; },
                             {.name = "loads", .background_cleanup = 0s, .registry = &reg});
  for (int i = 0; i < 12; ++i) users.put(i, "v");
  (void)users.get(11);
  (void)users.get(0);
  (void)load(1);
  (void)load(1);
  const std::string text = larder::to_prometheus(reg);
  CHECK_THAT(text, Contains("# TYPE cache_gets_total counter\n"));
  CHECK_THAT(text, Contains("cache_gets_total{cache=\"users\",result=\"hit\"} 1\n"));
  CHECK_THAT(text, Contains("cache_gets_total{cache=\"users\",result=\"miss\"} 1\n"));
  CHECK_THAT(text, Contains("cache_puts_total{cache=\"users\"} 12\n"));
  CHECK_THAT(text, Contains("cache_evictions_total{cache=\"users\"} 2\n"));
  CHECK_THAT(text, Contains("cache_size{cache=\"users\"} 10\n"));
  CHECK_THAT(text, Contains("larder_cache_utilization{cache=\"users\"} 1\n"));
  CHECK_THAT(text, Contains("cache_load_total{cache=\"loads\",result=\"success\"} 1\n"));
  CHECK_THAT(text, Contains("cache_load_total{cache=\"loads\",result=\"failure\"} 0\n"));
  CHECK_THAT(text, Contains("cache_load_duration_seconds_count{cache=\"loads\"} 1\n"));
  CHECK_THAT(text, Contains("# TYPE cache_load_duration_seconds summary\n"));
  // Memoizer-only families carry no sample for plain caches.
  CHECK(text.find("cache_load_total{cache=\"users\"") == std::string::npos);
}

TEST_CASE("label values are escaped", "[export]") {
  larder::CacheInfo odd;
  odd.name = "we\"ird\\na\nme";
  odd.kind = "cache";
  const std::string text = larder::to_prometheus(std::vector<larder::CacheInfo>{odd});
  CHECK_THAT(text, Contains("cache_size{cache=\"we\\\"ird\\\\na\\nme\"} 0\n"));
}

TEST_CASE("JSON snapshot has one object per cache and a summary", "[export]") {
  larder::Registry reg;
  larder::Cache<int, int> a({.name = "a\"b", .background_cleanup = 0s, .registry = &reg});
  a.put(1, 1);
  (void)a.get(1);
  (void)a.get(2);
  const std::string json = larder::to_json(reg);
  CHECK_THAT(json, Contains("{\"caches\":[{\"name\":\"a\\\"b\",\"kind\":\"cache\",\"hits\":1,"
                            "\"misses\":1,\"hit_rate\":0.5,"));
  CHECK_THAT(json, Contains("\"summary\":{\"caches\":1,\"hits\":1,\"misses\":1,\"hit_rate\":0.5,"
                            "\"size\":1,"));
}
