// Must NOT compile: `.compression = {.encode = true}` on a value type without a larder::Codec.
// Built twice by tests/CMakeLists.txt: on a Cache, and (-DLARDER_TIERED) on a TieredCache. Each
// time the compiler must say what to do in words, not ignore the option.
#include <memory>
#include <string>

#include "larder/cache.h"
#ifdef LARDER_TIERED
#include "larder/memory_backend.h"
#include "larder/tiered.h"
#endif

struct NoCodec {
  std::string s;
};

int main() {
  // The same option set to false compiles: the value is kept as an object.
  larder::Cache<int, NoCodec> plain({.compression = {.min_size = 512, .encode = false}});
#ifdef LARDER_TIERED
  larder::TieredCache<int, NoCodec> t({.compression = {.encode = true}},
                                      std::make_shared<larder::MemoryBackend>());
#else
  larder::Cache<int, NoCodec> c({.compression = {.min_size = 512, .encode = true}});
#endif
  return 0;
}
