// detail/expiry_heap.h on its own: a model check against std::multimap of deadlines through
// inserts, deadline moves and removals, with every slot's heap position kept exact.
#include "larder/detail/expiry_heap.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace {
using larder::detail::kNil;

// The part of a slot pool the heap uses: each slot's heap position.
struct ToyPool {
  std::vector<larder::detail::Link> links;
  explicit ToyPool(std::size_t n) : links(n, larder::detail::Link{kNil, kNil, kNil}) {}
  larder::detail::Link& link(std::uint32_t i) { return links[i]; }
};
}  // namespace

TEST_CASE("expiry heap: the top is the earliest deadline through sets, moves and removes",
          "[expiry_heap]") {
  constexpr std::uint32_t kSlots = 512;
  ToyPool pool(kSlots);
  larder::detail::ExpiryHeap heap;
  std::map<std::uint32_t, std::int64_t> model;  // slot -> deadline
  std::mt19937 rng(11);
  int wrong_top = 0, wrong_pos = 0;
  for (int step = 0; step < 20'000; ++step) {
    const std::uint32_t i = rng() % kSlots;
    const std::int64_t d = static_cast<std::int64_t>(rng() % 1000) - 100;  // negatives too
    if (rng() % 4 == 0) {
      heap.remove(pool, i);
      model.erase(i);
      CHECK(pool.links[i].heap_pos == kNil);
    } else {
      heap.set(pool, i, d);  // insert, or move earlier or later
      model[i] = d;
    }
    REQUIRE(heap.size() == model.size());
    if (!model.empty()) {
      std::int64_t earliest = model.begin()->second;
      for (const auto& [slot, deadline] : model) earliest = std::min(earliest, deadline);
      if (heap.top().deadline != earliest || model.at(heap.top().slot) != earliest) ++wrong_top;
    }
    if (step % 997 == 0) {
      for (const auto& [slot, deadline] : model) {
        if (pool.links[slot].heap_pos == kNil) ++wrong_pos;
      }
    }
  }
  CHECK(wrong_top == 0);
  CHECK(wrong_pos == 0);

  // Draining pops in deadline order, and leaves every slot out of the heap.
  std::int64_t last = INT64_MIN;
  while (!heap.empty()) {
    const auto top = heap.top();
    CHECK(top.deadline >= last);
    last = top.deadline;
    heap.remove(pool, top.slot);
    model.erase(top.slot);
  }
  CHECK(model.empty());
  for (const auto& l : pool.links) CHECK(l.heap_pos == kNil);
}

TEST_CASE("expiry heap: 12-byte nodes, reset empties it", "[expiry_heap]") {
  STATIC_REQUIRE(sizeof(larder::detail::ExpiryHeap::Node) == 12);
  ToyPool pool(4);
  larder::detail::ExpiryHeap heap;
  heap.set(pool, 1, 50);
  heap.set(pool, 2, 10);
  CHECK(heap.top().slot == 2);
  heap.set(pool, 2, 60);  // moved later: slot 1 is on top now
  CHECK(heap.top().slot == 1);
  heap.reset();
  CHECK(heap.empty());
}
