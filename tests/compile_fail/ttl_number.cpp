// Must NOT compile: a TTL given as a plain number (seconds? milliseconds?). The test checks that
// the compiler says so in words ("a TTL is a duration, not a plain number"), not with
// "cannot convert brace-enclosed initializer list".
#include <string>

#include "larder/cache.h"

int main() {
  larder::Cache<std::string, std::string> c({.max_entries = 10});
  c.put("k", "v", {.ttl = 30});
  return 0;
}
