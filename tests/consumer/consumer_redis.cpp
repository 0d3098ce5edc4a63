// The redis component as a downstream project sees it: builds and links against hiredis.
#include <larder/memory_backend.h>
#include <larder/redis_backend.h>
#include <larder/tiered.h>

#include <cstdio>

int main() {
  larder::RedisBackend redis({.uri = "redis://user:pw@127.0.0.1:6390/1", .key_prefix = "app:"});
  if (redis.options().db != 1 || redis.options().user != "user") return 1;
  auto memory = std::make_shared<larder::MemoryBackend>();
  larder::TieredCache<std::string, std::string> t({.max_entries = 10}, memory);
  t.put("k", "v");
  if (t.get("k") != "v") return 1;
  std::puts("consumer redis ok");
  return 0;
}
