// detail/epoch.h on its own: a read section holds reclamation back, sections nest. (Through a
// Cache: engine_test.cpp, "removed values are freed once no reader can see them".)
#include "larder/detail/epoch.h"

#include <catch2/catch.hpp>

#include "test_util.h"

TEST_CASE("epoch: an open read section holds the epoch to at most one advance", "[engine]") {
  larder_test::HeldReader reader;
  const std::uint64_t start = larder::detail::current_epoch();
  for (int i = 0; i < 10; ++i) larder::detail::try_advance_epoch();
  // The reader entered at `start` (or one before, if another advance raced its entry).
  CHECK(larder::detail::current_epoch() <= start + 1);
  reader.leave();
  const std::uint64_t after = larder::detail::current_epoch();
  larder::detail::try_advance_epoch();
  larder::detail::try_advance_epoch();
  CHECK(larder::detail::current_epoch() == after + 2);
  CHECK(larder::detail::reclaimable(after, after + 2));
  CHECK_FALSE(larder::detail::reclaimable(after, after + 1));
}

TEST_CASE("epoch: read sections nest, and only the outermost exit leaves", "[engine]") {
  larder::detail::ReadSection outer;
  { larder::detail::ReadSection inner; }
  const std::uint64_t e = larder::detail::current_epoch();
  larder::detail::try_advance_epoch();
  larder::detail::try_advance_epoch();
  larder::detail::try_advance_epoch();
  CHECK(larder::detail::current_epoch() <= e + 1);  // still inside `outer`
}
