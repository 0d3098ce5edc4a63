// Must NOT compile: a key function that does not fit fn's arguments or the cache's key type. The
// test checks that the compiler says so in a sentence, not in 52 lines of std::function errors.
#include <string>

#include "larder/cache.h"
#include "larder/memoize.h"

int main() {
  larder::Cache<std::string, std::string> c({.max_entries = 10});
  auto load = larder::cached(
      c, [](int id) { return std::to_string(id); },
      [](const std::string& s) { return s; });  // takes a string: fn takes an int
  return 0;
}
