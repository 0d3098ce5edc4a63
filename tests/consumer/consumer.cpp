// Shared by the consumer tests: uses larder the way a downstream project would.
#include <larder/cache.h>

#include <cstdint>
#include <cstdio>

int main() {
  larder::Cache<std::uint64_t, std::uint64_t> c({.max_entries = 32768});
  c.put(1, 2);
  const auto v = c.get(1);
  if (!v || *v != 2) return 1;
  std::puts("consumer ok");
  return 0;
}
