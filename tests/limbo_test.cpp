// detail/limbo.h on its own: removed slots and replaced index tables wait until no reader can
// see them, oldest first, and are freed once the epoch has advanced twice past their retirement.
// (Through a Cache: engine_test.cpp, "removed values are freed once no reader can see them".)
#include "larder/detail/limbo.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"

namespace {
using larder::detail::kFree;
using larder::detail::kLive;
using larder::detail::kRetired;
using Pool = larder::detail::SlotPool<std::string, std::string>;

std::vector<std::uint32_t> live_slots(Pool& pool, int n) {
  std::vector<std::uint32_t> slots;
  for (int k = 0; k < n; ++k) {
    larder::detail::Payload<std::string> p;
    p.value.emplace("value " + std::to_string(k));
    slots.push_back(pool.allocate("key " + std::to_string(k), std::move(p)));
  }
  return slots;
}
}  // namespace

TEST_CASE("limbo: a retired slot stays intact while a reader may see it, then is freed",
          "[limbo]") {
  Pool pool;
  larder::detail::Limbo limbo;
  const auto s = live_slots(pool, 3);
  CHECK_FALSE(limbo.pending());
  // A reader inside its section since before the retirement holds the epoch back.
  larder_test::HeldReader reader;
  limbo.retire(pool, s[0]);
  limbo.retire(pool, s[1]);
  CHECK(limbo.pending());
  CHECK(pool[s[0]].state == kRetired);
  for (std::size_t k = 0; k < 2 * larder::detail::kAdvanceEvery; ++k) limbo.free(pool, false);
  CHECK(pool[s[0]].state == kRetired);  // not freed: the reader may still copy it
  CHECK(pool[s[0]].key() == "key 0");   // and intact
  CHECK(pool[s[1]].value() == "value 1");
  reader.leave();
  // With no reader left, each free() that finds a table or enough retirements waiting tries to
  // advance; a slot goes two advances after it was retired. Drive the epoch on directly.
  larder::detail::try_advance_epoch();
  larder::detail::try_advance_epoch();
  limbo.free(pool, false);
  CHECK(pool[s[0]].state == kFree);
  CHECK(pool[s[1]].state == kFree);
  CHECK(pool[s[2]].state == kLive);  // never retired
  CHECK_FALSE(limbo.pending());
}

TEST_CASE("limbo: retiring enough slots advances the epoch by itself, and free(all) empties it",
          "[limbo]") {
  Pool pool;
  larder::detail::Limbo limbo;
  const int n = 4 * static_cast<int>(larder::detail::kAdvanceEvery);
  const auto s = live_slots(pool, n);
  for (int k = 0; k < n; ++k) {
    limbo.retire(pool, s[k]);
    limbo.free(pool, false);  // what a shard's Lock does before every change
  }
  // No reader: the shard holds at most about 2 * kAdvanceEvery retired slots (epoch.h).
  int waiting = 0;
  for (std::uint32_t i : s) waiting += pool[i].state == kRetired ? 1 : 0;
  CHECK(waiting <= 2 * static_cast<int>(larder::detail::kAdvanceEvery) + 1);
  CHECK(waiting < n);
  limbo.free(pool, /*all=*/true);
  for (std::uint32_t i : s) CHECK(pool[i].state == kFree);
  CHECK_FALSE(limbo.pending());
}

TEST_CASE("limbo: a replaced index table waits like a slot", "[limbo]") {
  Pool pool;
  larder::detail::Limbo limbo;
  larder::detail::ConcurrentIndex index;
  limbo.retire(index.reset());  // the old table: a reader may still probe it
  CHECK(limbo.pending());
  // A waiting table makes free() try to advance by itself: two calls, two advances, freed.
  for (int k = 0; k < 3 && limbo.pending(); ++k) limbo.free(pool, false);
  CHECK_FALSE(limbo.pending());
}
