// Must NOT compile: a TTL given as a plain number (seconds? milliseconds?). The test checks that
// the compiler says so in words ("a TTL is a duration, not a plain number"), not with
// "cannot convert brace-enclosed initializer list". Three places: a put's PutOptions::ttl, a
// cache's Options::default_ttl (-DLARDER_DEFAULT_TTL) and cached()'s MemoizeOptions::ttl
// (-DLARDER_MEMOIZE_TTL).
#include <string>

#include "larder/cache.h"
#include "larder/memoize.h"

int square(int x) { return x * x; }

int main() {
#if defined(LARDER_DEFAULT_TTL)
  larder::Cache<std::string, std::string> c({.max_entries = 10, .default_ttl = 30});
#elif defined(LARDER_MEMOIZE_TTL)
  auto f = larder::cached(square, {.ttl = 30});
  return f(2);
#else
  larder::Cache<std::string, std::string> c({.max_entries = 10});
  c.put("k", "v", {.ttl = 30});
#endif
  return 0;
}
