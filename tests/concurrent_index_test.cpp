// detail/concurrent_index.h on its own: growth and load bounds, and a model check of inserts,
// replaces, erases and rebuilds against std::map.
#include "larder/detail/concurrent_index.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace {
using larder::detail::kNil;
}  // namespace

TEST_CASE("concurrent index: growth doubles the table, entries fill 5/16 to 5/8 of it",
          "[engine]") {
  larder::detail::ConcurrentIndex index;
  std::vector<larder::detail::ConcurrentIndex::Table*> retired;
  int growths = 0;
  for (std::uint32_t k = 0; k < 100'000; ++k) {
    const std::size_t before = index.capacity();
    if (auto* old = index.insert(k * 2654435761u, k)) {
      retired.push_back(old);
      ++growths;
      CHECK(index.capacity() == 2 * before);  // (it once quadrupled: 16-31% load after growth)
    }
    CHECK(index.size() * 8 <= index.capacity() * 5);
    if (index.capacity() > 16) CHECK(index.size() * 16 >= index.capacity() * 5);
  }
  CHECK(growths == 14);  // 16 -> 2^18 cells
  for (auto* t : retired) delete t;
}

TEST_CASE("concurrent index: matches a map model through inserts, replaces, erases, rebuilds",
          "[engine]") {
  larder::detail::ConcurrentIndex index;
  std::vector<larder::detail::ConcurrentIndex::Table*> retired;
  std::map<std::uint32_t, std::uint32_t> model;  // key -> slot; hash = key * 2654435761 (mod 2^32)
  auto hash = [](std::uint32_t k) { return k * 2654435761u; };
  std::vector<std::uint32_t> slot_key(1 << 16, kNil);
  std::uint32_t next_slot = 0;
  auto find = [&](std::uint32_t k) {
    return index.find(hash(k), [&](std::uint32_t s) { return slot_key[s] == k; });
  };
  std::mt19937 rng(7);
  for (int op = 0; op < 40'000; ++op) {
    const std::uint32_t k = rng() % 3000;
    auto it = model.find(k);
    const int what = static_cast<int>(rng() % 3);
    if (it == model.end()) {
      if (what == 2) continue;
      const std::uint32_t s = next_slot++;
      slot_key[s] = k;
      if (auto* old = index.insert(hash(k), s)) retired.push_back(old);
      model[k] = s;
    } else if (what == 0) {
      const std::uint32_t s = next_slot++;
      slot_key[s] = k;
      index.replace(hash(k), it->second, s);
      slot_key[it->second] = kNil;
      it->second = s;
    } else {
      index.erase(hash(k), it->second);
      slot_key[it->second] = kNil;
      model.erase(it);
    }
  }
  CHECK(index.size() == model.size());
  std::size_t mismatches = 0;
  for (std::uint32_t k = 0; k < 3000; ++k) {
    auto it = model.find(k);
    if (find(k) != (it == model.end() ? kNil : it->second)) ++mismatches;
  }
  CHECK(mismatches == 0);
  CHECK_FALSE(retired.empty());  // it grew (and purged tombstones) along the way
  for (auto* t : retired) delete t;
}
