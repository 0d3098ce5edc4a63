// libFuzzer target for the built-in codecs (larder/codec.h): containers, Fields structs and
// varints decoded from untrusted bytes. The first byte picks the type. Properties checked on every
// input:
//   * no crash, no UB, no allocation beyond what the input can hold (ASan/UBSan, -rss_limit_mb);
//   * anything that decodes re-encodes to bytes that decode to a value encoding the same again
//     (std::map and std::set re-encode in their own order, so the bytes are compared after one
//     round, not against the input).
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "larder/codec.h"

namespace {

struct Item {
  std::string sku;
  std::uint32_t count = 0;
  std::optional<double> price;
};
struct Order {
  std::uint64_t id = 0;
  std::vector<Item> items;
  std::set<std::string> tags;
  std::array<std::int16_t, 3> shape{};
  bool paid = false;
};

template <class T>
void check(std::string_view in) {
  larder::Result<T> r = larder::decode<T>(in);
  if (!r.ok()) return;
  const std::string once = larder::encode(*r);
  larder::Result<T> back = larder::decode<T>(once);
  if (!back.ok() || larder::encode(*back) != once) __builtin_trap();
}

}  // namespace

template <>
struct larder::Fields<Item> : larder::Members<&Item::sku, &Item::count, &Item::price> {};
template <>
struct larder::Fields<Order>
    : larder::Members<&Order::id, &Order::items, &Order::tags, &Order::shape, &Order::paid> {};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      check<Order>(in);
      break;
    case 1:
      check<std::map<std::string, std::vector<std::optional<std::int32_t>>>>(in);
      break;
    case 2:
      check<std::tuple<std::uint8_t, std::string, std::array<double, 2>, bool>>(in);
      break;
    default:
      check<std::vector<std::vector<float>>>(in);
      break;
  }
  return 0;
}
