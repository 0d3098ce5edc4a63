// larder/json_codec.h: JSON values through nlohmann/json, in a Cache and through a remote tier,
// and the errors for malformed or mismatched JSON.
#include <larder/json_codec.h>
#include <larder/memory_backend.h>
#include <larder/tiered.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct Order {
  std::uint64_t id = 0;
  std::string customer;
  std::vector<std::string> items;
  std::map<std::string, double> prices;
  bool operator==(const Order&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, id, customer, items, prices)

}  // namespace

template <>
struct larder::Codec<Order> : larder::JsonCodec<Order> {};

TEST_CASE("JsonCodec: compact JSON text that round-trips", "[codec][json]") {
  const Order o{7, "Ada", {"tea", "scone"}, {{"tea", 2.5}}};
  const std::string text = larder::encode(o);
  CHECK(text == R"({"customer":"Ada","id":7,"items":["tea","scone"],"prices":{"tea":2.5}})");
  CHECK(larder::decode<Order>(text).value() == o);
  CHECK(larder::encode(std::string("é\"x")) == "é\"x");  // (std::string keeps its own codec)
}

TEST_CASE("JsonCodec: malformed or mismatched JSON is an error naming the problem",
          "[codec][json][decode]") {
  const auto truncated = larder::decode<Order>(R"({"id":7,"customer")");
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.error().code == larder::ErrorCode::kInvalidValue);
  CHECK_THAT(truncated.error().message, Catch::Contains("not valid JSON"));
  const auto wrong =
      larder::decode<Order>(R"({"id":"seven","customer":"A","items":[],"prices":{}})");
  REQUIRE_FALSE(wrong.ok());
  CHECK_THAT(wrong.error().message, Catch::Contains("the JSON is no value of the type") &&
                                        Catch::Contains("type must be number"));
  const auto missing = larder::decode<Order>(R"({"id":7})");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains("customer"));
  CHECK_FALSE(larder::decode<Order>(std::string("\xff\xfe", 2)).ok());
}

TEST_CASE("JsonCodec: through a TieredCache, L2 holds readable JSON", "[codec][json][tiered]") {
  auto clock = std::make_shared<larder::ManualClock>();
  auto l2 = std::make_shared<larder::MemoryBackend>(
      larder::Options<std::string, std::string>{.clock = clock, .background_cleanup = 0s});
  larder::Options<std::string, Order> l1{
      .max_entries = 100, .clock = clock, .background_cleanup = 0s};
  larder::TieredCache<std::string, Order> a(l1, l2), b(l1, l2);
  const Order o{1, "Bob", {"coffee"}, {}};
  REQUIRE(a.put("order:1", o).l2);
  const auto raw = l2->get("order:1");
  REQUIRE(raw.ok());
  REQUIRE(raw->has_value());
  const std::string& frame = (*raw)->value;
  CHECK(frame.substr(larder::kFrameHeaderSize) == larder::encode(o));  // raw: small values
  CHECK(b.get("order:1") == o);
}
