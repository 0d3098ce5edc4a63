// Values stored as JSON (larder/json_codec.h, on nlohmann/json): a repository of orders behind a
// TieredCache whose remote tier holds JSON text that any tool can read. MemoryBackend stands in
// for Redis here (examples/tiered.cpp shows the Redis setup; the values are the same bytes).
#include <larder/json_codec.h>
#include <larder/memory_backend.h>
#include <larder/tiered.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

struct Order {
  std::uint64_t id = 0;
  std::string customer;
  std::vector<std::string> items;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, id, customer, items)  // nlohmann's to_json/from_json
template <>
struct larder::Codec<Order> : larder::JsonCodec<Order> {};  // larder stores that JSON

int main() {
  using namespace std::chrono_literals;
  auto backend = std::make_shared<larder::MemoryBackend>();
  larder::TieredCache<std::string, Order> orders({.name = "orders", .default_ttl = 10min}, backend);
  orders.put("order:1", Order{1, "Ada", {"tea", "scone"}});

  // What the remote tier holds: larder's frame header, then the JSON text.
  const std::string frame = backend->get("order:1").value()->value;
  std::cout << "L2 holds " << frame.size() << " bytes: a " << larder::kFrameHeaderSize
            << "-byte header + " << frame.substr(larder::kFrameHeaderSize) << "\n";

  // Another cache on the backend (another process, in real life) reads it back.
  larder::TieredCache<std::string, Order> other({.name = "orders-2"}, backend);
  const Order o = other.get("order:1").value();
  std::cout << "read back: order " << o.id << " for " << o.customer << ", " << o.items.size()
            << " items\n";

  // JSON that is not an Order (written by another tool, say) is a miss and a decode error.
  larder::TieredCache<std::string, std::string> raw({.name = "raw"}, backend);
  raw.put("order:2", R"({"id":"two"})");
  larder::TieredCache<std::string, Order> reader({.name = "reader"}, backend);
  std::cout << "order:2 -> " << (reader.get("order:2") ? "an Order?!" : "miss")
            << ", decode errors: " << reader.stats().decode_errors << "\n";
  return reader.stats().decode_errors == 1 ? 0 : 1;
}
