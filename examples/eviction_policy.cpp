// Choosing an eviction policy: a product page cache whose popular pages must survive a crawler
// that reads every page once. With Policy::kLru the crawl flushes them; with Policy::kTinyLfu
// the one-off pages are refused at the door (evicted as "rejected") and the popular ones stay.
#include <cstdint>
#include <cstdio>
#include <string>

#include "larder/cache.h"

namespace {

struct Result {
  double popular_kept;
  larder::Stats stats;
};

Result run(larder::Policy policy) {
  larder::Cache<std::uint64_t, std::string> pages(
      {.name = "pages", .max_entries = 1000, .shards = 1, .policy = policy});
  auto view = [&](std::uint64_t id) {
    if (!pages.get(id)) pages.put(id, "page " + std::to_string(id));  // cache-aside
  };
  for (int day = 0; day < 5; ++day) {
    for (std::uint64_t id = 0; id < 500; ++id) view(id);  // 500 popular pages, read every day
  }
  for (std::uint64_t id = 100'000; id < 110'000; ++id) view(id);  // a crawler: 10,000 pages once
  int kept = 0;
  for (std::uint64_t id = 0; id < 500; ++id) kept += pages.contains(id);
  return {kept / 500.0, pages.stats()};
}

}  // namespace

int main() {
  for (larder::Policy p : {larder::Policy::kLru, larder::Policy::kTinyLfu}) {
    const Result r = run(p);
    std::printf(
        "%-7s after the crawl: %3.0f%% of the popular pages cached, evictions %llu "
        "(rejected by the frequency filter: %llu), window %.0f%% of the capacity\n",
        std::string(larder::to_string(p)).c_str(), 100 * r.popular_kept,
        static_cast<unsigned long long>(r.stats.evictions),
        static_cast<unsigned long long>(r.stats.rejected), 100 * r.stats.window_fraction);
  }
}
