// detail/features.h on its own: which paths a cache takes, decided once from its options, its
// types and its shard count. (That each path answers the same: matrix_test.cpp.)
#include "larder/detail/features.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <string>

using namespace std::chrono_literals;
using larder::detail::features_of;
using larder::detail::Recency;

TEST_CASE("features: one shard keeps exact LRU, several keep it at tick grain", "[features]") {
  const larder::Options<std::uint64_t, std::uint64_t> o;
  CHECK(features_of(o, 1).recency == Recency::kExact);
  CHECK(features_of(o, 2).recency == Recency::kCoarse);
  CHECK(features_of(o, 64).recency == Recency::kCoarse);
}

TEST_CASE("features: lock-free puts only where nothing but the entry changes", "[features]") {
  using Small = larder::Options<std::uint64_t, std::uint64_t>;
  const auto plain = features_of(Small{}, 8);
  CHECK(plain.lock_free_puts);
  CHECK(plain.lock_free_put(/*tagged=*/false, /*plain=*/true));
  CHECK_FALSE(plain.lock_free_put(/*tagged=*/true, /*plain=*/true));    // the tag index changes
  CHECK_FALSE(plain.lock_free_put(/*tagged=*/false, /*plain=*/false));  // if_absent, a load's
  // A listener wants the old value; access expiry moves deadlines; a weigher may change weights.
  CHECK_FALSE(features_of(Small{.on_removal = [](const std::uint64_t&, const std::uint64_t&,
                                                 larder::RemovalCause) {}},
                          8)
                  .lock_free_puts);
  CHECK_FALSE(features_of(Small{.expire_after_access = 1s}, 8).lock_free_puts);
  CHECK_FALSE(
      features_of(Small{.weigher = [](const std::uint64_t&, const std::uint64_t&) { return 1; }}, 8)
          .lock_free_puts);
  // A value not updated in place (a string) never takes it; a string key may (its size is
  // compared per put).
  CHECK_FALSE(features_of(larder::Options<std::uint64_t, std::string>{}, 8).lock_free_puts);
  CHECK(features_of(larder::Options<std::string, std::uint64_t>{}, 8).lock_free_puts);
}

TEST_CASE("features: per-slot arrays only for the caches that need them", "[features]") {
  using Small = larder::Options<std::uint64_t, std::uint64_t>;
  const auto fixed = features_of(Small{}, 1);
  CHECK_FALSE(fixed.access_expiry);
  CHECK_FALSE(fixed.extras.access_deadlines);
  CHECK_FALSE(fixed.extras.weights);  // every entry weighs the same
  CHECK(fixed.fixed_weight == 2 * sizeof(std::uint64_t));
  const auto access = features_of(Small{.expire_after_access = 1s}, 1);
  CHECK(access.access_expiry);
  CHECK(access.extras.access_deadlines);
  CHECK(features_of(larder::Options<std::string, std::uint64_t>{}, 1).extras.weights);
  CHECK(features_of(larder::Options<std::uint64_t, std::string>{}, 1).extras.weights);
  CHECK(
      features_of(Small{.weigher = [](const std::uint64_t&, const std::uint64_t&) { return 1; }}, 1)
          .extras.weights);
}
