// larder/detail/varint.h: LEB128 round trips, sizes, and what an untrusted reader refuses.
#include "larder/detail/varint.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace {

std::string put(std::uint64_t v) {
  std::string s;
  larder::detail::put_varint(v, s);
  return s;
}

}  // namespace

TEST_CASE("varint: round trips and sizes at every byte boundary", "[varint]") {
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127},
                          std::uint64_t{128}, std::uint64_t{16383}, std::uint64_t{16384},
                          std::uint64_t{1} << 35, std::numeric_limits<std::uint64_t>::max()}) {
    INFO(v);
    const std::string s = put(v);
    CHECK(s.size() == larder::detail::varint_size(v));
    std::string_view in = s;
    std::uint64_t back = 0;
    REQUIRE(larder::detail::take_varint(in, back));
    CHECK(back == v);
    CHECK(in.empty());
  }
  CHECK(put(0) == std::string(1, '\0'));
  CHECK(put(300) == "\xac\x02");
  CHECK(put(std::numeric_limits<std::uint64_t>::max()).size() == 10);
}

TEST_CASE("varint: truncated, overlong and overflowing input is refused, input untouched",
          "[varint]") {
  for (std::string_view bad :
       {std::string_view(""), std::string_view("\x80"),
        std::string_view("\x80\x00", 2),  // 0 in two bytes
        std::string_view("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10),
        std::string_view("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11)}) {
    std::string_view in = bad;
    std::uint64_t v = 99;
    CHECK_FALSE(larder::detail::take_varint(in, v));
    CHECK(in == bad);
    CHECK(v == 99);
  }
  std::string_view two = "\x05\x06";
  std::uint64_t v = 0;
  REQUIRE(larder::detail::take_varint(two, v));
  CHECK(v == 5);
  CHECK(two == "\x06");
}
