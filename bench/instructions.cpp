// Instruction count per get-hit, for callgrind (stable on a noisy machine, unlike wall time).
//
//   bench/instructions.sh      # prints instructions per get for larder and the mutex LRU
//
// `larder_instructions IMPL setup` only fills the cache; `larder_instructions IMPL` fills it and
// then runs 1,000,000 gets over the GetPut keys. The script subtracts the two callgrind totals.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "larder/cache.h"
#include "peers.h"
#include "zipf.h"

namespace {
constexpr int kGets = 1'000'000;

template <class C>
int run(C& c, bool setup_only) {
  const auto keys = larder_bench::scrambled_zipf(10'922, 32'768);
  for (std::uint64_t k : keys) c.put(k, k);
  if (setup_only) return 0;
  std::uint64_t sum = 0;
  for (int i = 0; i < kGets; ++i) sum += *c.get(keys[i & 32'767]);
  std::printf("%llu\n", static_cast<unsigned long long>(sum));
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s larder|mutex-lru [setup]\n", argv[0]);
    return 2;
  }
  const bool setup_only = argc > 2;
  if (std::strcmp(argv[1], "larder") == 0) {
    larder::Cache<std::uint64_t, std::uint64_t> c(
        {.max_entries = 32'768, .background_cleanup = std::chrono::seconds(0)});
    return run(c, setup_only);
  }
  larder_bench::MutexLru c(32'768);
  return run(c, setup_only);
}
