// Instruction counts per get-hit, per put-with-eviction and per update, for callgrind (stable on a
// noisy machine, unlike wall time).
//
//   bench/instructions.sh      # prints instructions per get and per put, larder and mutex LRU
//
// `larder_instructions IMPL OP setup` only fills the cache; `larder_instructions IMPL OP` fills
// it and then runs 1,000,000 gets over the GetPut keys (OP get), 1,000,000 puts of new keys,
// each evicting one (OP put), or 1,000,000 puts over the GetPut keys, each replacing a live
// entry (OP update). The script subtracts the two callgrind totals.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "larder/cache.h"
#include "peers.h"
#include "zipf.h"

namespace {
constexpr int kGets = 1'000'000;

enum class Op { kGet, kPut, kUpdate };

template <class C>
int run(C& c, Op op, bool setup_only) {
  const auto keys = larder_bench::scrambled_zipf(10'922, 32'768);
  const bool puts = op == Op::kPut;
  if (puts) {
    for (std::uint64_t k = 0; k < 32'768; ++k) c.put(1'000'000'000 + k, k);  // full: puts evict
  } else {
    for (std::uint64_t k : keys) c.put(k, k);  // 10,922 hot keys: every get hits
  }
  if (setup_only) return 0;
  std::uint64_t sum = 0;
  if (puts) {
    for (std::uint64_t i = 0; i < kGets; ++i) c.put(2'000'000'000 + i, i);
  } else if (op == Op::kUpdate) {
    for (std::uint64_t i = 0; i < kGets; ++i) c.put(keys[i & 32'767], i);
  } else {
    for (int i = 0; i < kGets; ++i) {
      sum += *c.get(keys[i & 32'767]);
    }
  }
  std::printf("%llu\n", static_cast<unsigned long long>(sum));
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s larder|mutex-lru get|put|update [setup]\n", argv[0]);
    return 2;
  }
  const Op op = std::strcmp(argv[2], "put") == 0      ? Op::kPut
                : std::strcmp(argv[2], "update") == 0 ? Op::kUpdate
                                                      : Op::kGet;
  const bool setup_only = argc > 3;
  if (std::strcmp(argv[1], "larder") == 0) {
    larder::Cache<std::uint64_t, std::uint64_t> c(
        {.max_entries = 32'768, .background_cleanup = std::chrono::seconds(0)});
    return run(c, op, setup_only);
  }
  larder_bench::MutexLru c(32'768);
  return run(c, op, setup_only);
}
