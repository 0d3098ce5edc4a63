// larder/codec.h: round trips for every built-in codec (containers and Fields structs too), a
// user codec, errors on bad bytes, and the type tags.
#include "larder/codec.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
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

// ---- containers, Fields structs, type tags ----

namespace {

struct Address {
  std::string city;
  std::array<std::int16_t, 2> grid{};
  bool operator==(const Address&) const = default;
};
struct Account {
  std::uint64_t id = 0;
  std::string name;
  std::vector<std::string> roles;
  std::optional<Address> home;
  std::map<std::string, std::vector<float>> embeddings;
  Color color = Color::kRed;
  Person owner;  // a hand-written codec inside a Fields struct
  bool operator==(const Account&) const = default;
};
// The same members as Account minus one: an older shape of the struct.
struct AccountV1 {
  std::uint64_t id = 0;
  std::string name;
  bool operator==(const AccountV1&) const = default;
};
struct Renamed {
  std::uint64_t id = 0;
  std::string name;
};

Account sample_account() {
  return {42,
          "Ada",
          {"admin", "", "ops"},
          Address{"London", {3, -4}},
          {{"v", {1.5F, -2.0F}}, {"empty", {}}},
          Color::kBlue,
          {"Bob", 7}};
}

}  // namespace

template <>
struct larder::Fields<Address> : larder::Members<&Address::city, &Address::grid> {};
template <>
struct larder::Fields<Account>
    : larder::Members<&Account::id, &Account::name, &Account::roles, &Account::home,
                      &Account::embeddings, &Account::color, &Account::owner> {};
template <>
struct larder::Fields<AccountV1> : larder::Members<&AccountV1::id, &AccountV1::name> {
  static constexpr std::string_view type_name = "Account";
};
template <>
struct larder::Fields<Renamed> : larder::Members<&Renamed::id, &Renamed::name> {
  static constexpr std::string_view type_name = "Account";
};

TEST_CASE("container codecs round-trip, nested", "[codec][containers]") {
  CHECK(round_trip(std::vector<float>{1.5F, -0.0F, 3e38F}) ==
        std::vector<float>{1.5F, -0.0F, 3e38F});
  CHECK(round_trip(std::vector<float>{}).empty());
  CHECK(round_trip(std::vector<bool>{true, false, true}) == std::vector<bool>{true, false, true});
  CHECK(round_trip(std::vector<std::string>{"a", "", std::string(300, 'x')}) ==
        std::vector<std::string>{"a", "", std::string(300, 'x')});
  CHECK(round_trip(std::array<int, 3>{1, -2, 3}) == std::array<int, 3>{1, -2, 3});
  CHECK(round_trip(std::optional<std::string>()) == std::nullopt);
  CHECK(round_trip(std::optional<std::string>("x")) == std::optional<std::string>("x"));
  CHECK(round_trip(std::pair<int, std::string>{5, "five"}) ==
        std::pair<int, std::string>{5, "five"});
  const std::tuple<std::uint8_t, std::string, double, Color> t{7, "t", 0.25, Color::kBlue};
  CHECK(round_trip(t) == t);
  const std::map<std::string, std::vector<std::optional<int>>> m{{"a", {1, std::nullopt}},
                                                                 {"b", {}}};
  CHECK(round_trip(m) == m);
  const std::unordered_map<int, std::set<std::string>> um{{1, {"x", "y"}}, {-1, {}}};
  CHECK(round_trip(um) == um);
  const std::unordered_set<std::string> us{"p", "q"};
  CHECK(round_trip(us) == us);
  CHECK(round_trip(std::vector<Person>{{"Ada", 36}, {"", 0}}) ==
        std::vector<Person>{{"Ada", 36}, {"", 0}});
  CHECK(round_trip(std::vector<Point>{{1, 2, 3}}) == std::vector<Point>{{1, 2, 3}});
}

TEST_CASE("container bytes: varint counts, fixed-width elements as they are",
          "[codec][containers]") {
  CHECK(larder::encode(std::vector<std::uint16_t>{1, 2}) == std::string("\x02\x01\x00\x02\x00", 5));
  CHECK(larder::encode(std::vector<std::string>{"ab"}) == std::string("\x01\x02"
                                                                      "ab",
                                                                      4));
  CHECK(larder::encode(std::optional<std::uint8_t>()) == std::string(1, '\0'));
  CHECK(larder::encode(std::array<std::uint8_t, 2>{9, 8}) == std::string("\x09\x08", 2));
  CHECK(larder::encode(std::vector<std::string>(200)).substr(0, 2) == "\xc8\x01");  // 200: 2 bytes
  // A hand-written codec's bytes inside a container: their length, then them.
  CHECK(larder::encode(std::vector<Person>{{"A", 1}}) ==
        "\x01\x09" + larder::encode(Person{"A", 1}));
}

TEST_CASE("a Fields struct is codable in one line, members in order", "[codec][fields]") {
  STATIC_REQUIRE(larder::Encodable<Account>);
  const Account a = sample_account();
  CHECK(round_trip(a) == a);
  CHECK(round_trip(Account{}) == Account{});
  // Its bytes are its members' wire forms in order.
  std::string expect = larder::encode(std::uint64_t{42});
  expect += std::string("\x03") + "Ada";
  CHECK(larder::encode(a).substr(0, expect.size()) == expect);
}

TEST_CASE("malformed container bytes are errors, never partial values",
          "[codec][containers][decode]") {
  using M = std::map<std::string, std::vector<std::optional<int>>>;
  const std::string good = larder::encode(M{{"a", {1, std::nullopt}}, {"b", {2}}});
  // Every strict prefix fails, and so do trailing bytes.
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK_FALSE(larder::decode<M>(good.substr(0, n)).ok());
  }
  const auto trailing = larder::decode<M>(good + "x");
  REQUIRE_FALSE(trailing.ok());
  CHECK(trailing.error().code == larder::ErrorCode::kInvalidValue);
  CHECK_THAT(trailing.error().message, Catch::Contains("1 trailing bytes"));
  // A count far beyond the bytes left is refused before anything is allocated.
  std::string huge;
  larder::detail::put_varint(std::uint64_t{1} << 60, huge);
  CHECK_FALSE(larder::decode<std::vector<std::string>>(huge).ok());
  CHECK_FALSE(larder::decode<std::vector<double>>(huge + std::string(64, '\0')).ok());
  // A repeated key, an optional flag other than 0 or 1, a bool byte other than 0 or 1.
  CHECK_THAT(
      larder::decode<std::set<std::string>>(std::string("\x02\x01x\x01x", 5)).error().message,
      Catch::Contains("a key appears twice"));
  CHECK_FALSE(larder::decode<std::optional<int>>(std::string("\x02\0\0\0\0", 5)).ok());
  CHECK_FALSE(larder::decode<std::vector<bool>>(std::string("\x01\x02", 2)).ok());
  // A varint that is not in its shortest form, or runs past 64 bits.
  CHECK_FALSE(larder::decode<std::vector<std::uint16_t>>(std::string("\x80\x00", 2)).ok());
  CHECK_FALSE(larder::decode<std::vector<std::string>>(std::string("\x81\x00", 2)).ok());
  CHECK_FALSE(larder::decode<std::vector<std::string>>(std::string(11, '\xff')).ok());
  // A Fields struct cut anywhere.
  const std::string acct = larder::encode(sample_account());
  for (std::size_t n = 0; n < acct.size(); n += 3)
    CHECK_FALSE(larder::decode<Account>(acct.substr(0, n)).ok());
}

TEST_CASE("type tags: structure and names, stable across builds", "[codec][type_tag]") {
  CHECK(larder::type_schema<std::string>() == "str");
  CHECK(larder::type_schema<std::vector<float>>() == "vec<f32>");
  CHECK(larder::type_schema<std::vector<std::uint8_t>>() == "bytes");
  CHECK(larder::type_schema<std::map<std::string, std::int64_t>>() == "map<str,i64>");
  CHECK(larder::type_schema<std::unordered_map<std::string, long long>>() == "map<str,i64>");
  CHECK(larder::type_schema<std::pair<int, bool>>() ==
        larder::type_schema<std::tuple<int, bool>>());
  CHECK(larder::type_schema<std::array<std::optional<double>, 3>>() == "arr3<opt<f64>>");
  CHECK(larder::type_schema<AccountV1>() == "struct Account{u64,str}");
  // The FNV-1a of the schema: a fixed number any build computes alike.
  CHECK(larder::type_tag<std::string>() == 0xc24bd190U);
  CHECK(larder::type_tag<std::string>() != larder::type_tag<std::vector<std::uint8_t>>());
  CHECK(larder::type_tag<std::uint32_t>() != larder::type_tag<std::int32_t>());
  CHECK(larder::type_tag<Account>() != larder::type_tag<AccountV1>());  // another shape
  CHECK(larder::type_tag<Renamed>() == larder::type_tag<AccountV1>());  // named alike, same shape
  CHECK(larder::type_schema<Person>().starts_with("codec "));
  CHECK(larder::type_schema<Account>().find(larder::type_schema<Person>()) != std::string::npos);
}
