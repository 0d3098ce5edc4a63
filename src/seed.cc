// Per-instance hash seeds (see larder/hash.h): unpredictable across processes and instances,
// without a syscall per cache.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "larder/hash.h"

namespace larder::detail {

std::uint64_t instance_seed(const void* self) noexcept {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t process_salt =
      hash_u64(static_cast<std::uint64_t>(
                   std::chrono::high_resolution_clock::now().time_since_epoch().count()),
               reinterpret_cast<std::uintptr_t>(&counter));
  const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  const auto t =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return hash_u64(n ^ t ^ reinterpret_cast<std::uintptr_t>(self), process_salt);
}

}  // namespace larder::detail
