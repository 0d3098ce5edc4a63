// larder/codec.h: round trips for every built-in codec, a user codec, and errors on bad bytes.
#include "larder/codec.h"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

enum class Color : std::uint8_t { kRed = 1, kBlue = 7 };
struct Point {
  double x, y;
  std::int32_t id;
  bool operator==(const Point&) const = default;
};

// A user type with a hand-written codec: length-prefixed name + age.
struct Person {
  std::string name;
  int age = 0;
  bool operator==(const Person&) const = default;
};

}  // namespace

template <>
inline constexpr bool larder::kBitwiseCodec<Point> = true;  // doubles and an int: any bytes

template <>
struct larder::Codec<Person> {
  static void encode(const Person& p, std::string& out) {
    larder::encode_to(static_cast<std::uint32_t>(p.name.size()), out);
    out += p.name;
    larder::encode_to(p.age, out);
  }
  static larder::Result<Person> decode(std::string_view b) {
    if (b.size() < 8) return larder::Error{larder::ErrorCode::kInvalidValue, "short"};
    auto n = larder::decode<std::uint32_t>(b.substr(0, 4));
    if (!n || b.size() != 8 + *n) return larder::Error{larder::ErrorCode::kInvalidValue, "len"};
    auto age = larder::decode<int>(b.substr(4 + *n));
    if (!age) return age.error();
    return Person{std::string(b.substr(4, *n)), *age};
  }
};

template <class T>
T round_trip(const T& v) {
  const std::string bytes = larder::encode(v);
  larder::Result<T> back = larder::decode<T>(bytes);
  REQUIRE(back.ok());
  return *back;
}

TEST_CASE("built-in codecs round-trip", "[codec]") {
  CHECK(round_trip(std::string("hello\0world", 11)) == std::string("hello\0world", 11));
  CHECK(round_trip(std::string()).empty());
  CHECK(round_trip(std::vector<std::byte>{std::byte{0}, std::byte{255}}) ==
        std::vector<std::byte>{std::byte{0}, std::byte{255}});
  CHECK(round_trip(std::vector<std::uint8_t>{1, 2, 3}) == std::vector<std::uint8_t>{1, 2, 3});
  CHECK(round_trip(std::vector<char>{'a', 'b'}) == std::vector<char>{'a', 'b'});
  CHECK(round_trip(std::int64_t{-42}) == -42);
  CHECK(round_trip(std::uint16_t{65535}) == 65535);
  CHECK(round_trip(3.25) == 3.25);
  CHECK(round_trip(true));
  CHECK(round_trip(Color::kBlue) == Color::kBlue);
  CHECK(round_trip(Point{1.5, -2.0, 9}) == Point{1.5, -2.0, 9});
  CHECK(round_trip(Person{"Ada", 36}) == Person{"Ada", 36});
}

TEST_CASE("integers are little-endian and fixed width", "[codec]") {
  CHECK(larder::encode(std::uint32_t{0x01020304}) == std::string("\x04\x03\x02\x01", 4));
  CHECK(larder::encode(std::uint8_t{7}).size() == 1);
}

TEST_CASE("decoding wrong-sized or malformed bytes is an error, not UB", "[codec]") {
  auto r = larder::decode<std::uint64_t>("abc");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == larder::ErrorCode::kInvalidValue);
  CHECK_THAT(r.error().message, Catch::Matchers::Contains("expected 8 bytes, got 3"));
  CHECK_FALSE(larder::decode<Point>(std::string(sizeof(Point) + 1, 'x')).ok());
  CHECK_FALSE(larder::decode<Person>("\xff\xff\xff\xff").ok());
  CHECK_FALSE(larder::decode<Person>(std::string("\x10\0\0\0abc", 7)).ok());
}

TEST_CASE("Encodable says which types have a codec", "[codec]") {
  struct NoCodec {
    std::string s;
  };
  STATIC_REQUIRE(larder::Encodable<std::string>);
  STATIC_REQUIRE(larder::Encodable<Person>);
  STATIC_REQUIRE(larder::Encodable<Point>);
  STATIC_REQUIRE_FALSE(larder::Encodable<NoCodec>);
  struct Flagged {  // trivially copyable, but a bool member: not every byte pattern is valid
    int n;
    bool on;
  };
  STATIC_REQUIRE_FALSE(larder::Encodable<Flagged>);
  STATIC_REQUIRE(larder::kByteLike<std::vector<std::byte>>);
  STATIC_REQUIRE_FALSE(larder::kByteLike<Person>);
}

TEST_CASE("untrusted bytes never make an invalid bool", "[codec][decode]") {
  // Bytes from a remote tier are untrusted: byte 2 is no bool (loading it is undefined
  // behaviour, which UBSan reported in a TieredCache<K, bool>).
  CHECK(larder::decode<bool>(std::string(1, '\0')).value() == false);
  CHECK(larder::decode<bool>(std::string(1, '\1')).value() == true);
  for (int b : {2, 0x7f, 0xff}) {
    const auto r = larder::decode<bool>(std::string(1, static_cast<char>(b)));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == larder::ErrorCode::kInvalidValue);
    CHECK_THAT(r.error().message, Catch::Matchers::Contains("a bool is byte 0 or 1"));
  }
}
