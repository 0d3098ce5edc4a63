// Prints Prometheus text for a registry with a plain cache and a memoized function (one name with
// characters that need escaping), for `promtool check metrics` in the test suite.
#include <chrono>
#include <iostream>
#include <string>

#include "larder/cache.h"
#include "larder/export.h"
#include "larder/memoize.h"

int main() {
  using namespace std::chrono_literals;
  larder::Registry reg;
  larder::Cache<std::string, std::string> pages(
      {.name = "pages \"v2\"\\eu", .max_entries = 2, .background_cleanup = 0s, .registry = &reg});
  auto f = larder::cached([](int x) { return x; },
                          {.name = "f", .background_cleanup = 0s, .registry = &reg});
  pages.put("a", std::string(5000, 'x'));
  pages.put("b", "1");
  pages.put("c", "2");
  (void)pages.get("a");
  (void)pages.get("c");
  (void)f(1);
  (void)f(1);
  std::cout << larder::to_prometheus(reg);
  return 0;
}
