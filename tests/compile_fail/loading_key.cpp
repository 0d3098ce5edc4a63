// Must NOT compile: the loading contract's calls (detail/loading.h) are public, but only the
// loaders can make the passkey they take. A user calling acquire() must be told it is private.
#include <string>

#include "larder/cache.h"

int main() {
  larder::Cache<std::string, std::string> c;
  auto any = [](larder::Duration, larder::Duration) { return true; };
  auto a = c.acquire(larder::detail::LoadingKey{}, "k", any, true);
  return a.lead ? 1 : 0;
}
