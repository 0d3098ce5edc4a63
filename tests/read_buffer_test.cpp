// detail/read_buffer.h on its own: replay order, a full stripe, repeats of the pending record.
#include "larder/detail/read_buffer.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "larder/detail/epoch.h"

TEST_CASE("read buffer: replays in order, reports a full stripe, skips nothing it kept",
          "[engine]") {
  larder::detail::ReadSection section;  // gives this thread its stripe id
  larder::detail::ReadBuffer<> buf;
  std::vector<std::uint32_t> seen;
  for (std::uint32_t i = 0; i < larder::detail::ReadBuffer<>::kCapacity; ++i) CHECK(buf.record(i));
  CHECK_FALSE(buf.record(99));
  buf.drain([&](std::uint32_t i) { seen.push_back(i); });
  REQUIRE(seen.size() == larder::detail::ReadBuffer<>::kCapacity);
  for (std::uint32_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i);
  CHECK(buf.record(100));
  CHECK(buf.record(100));  // a repeat of the pending last record is not recorded again
  CHECK(buf.record(7));
  CHECK(buf.record(100));  // not a repeat of the last one: recorded
  seen.clear();
  buf.drain([&](std::uint32_t i) { seen.push_back(i); });
  CHECK(seen == std::vector<std::uint32_t>{100, 7, 100});
  CHECK(buf.record(100));  // the last record was replayed: this one is new
  seen.clear();
  buf.drain([&](std::uint32_t i) { seen.push_back(i); });
  CHECK(seen == std::vector<std::uint32_t>{100});
}
