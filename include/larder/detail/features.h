// Which of its paths a cache takes (larder::detail): decided once, from the options and the
// types, by name, in one place.
//
// IMPLEMENTATION DETAILS
// A cache's hot paths come in variants, and each variant is only right for some configurations.
// Rather than every call site re-deriving "may this put skip the lock?" from the options, a
// cache computes its Features when it is built, and the engine asks them (Caffeine generates a
// class per feature set from Feature.java; a C++ header-only cache keeps the flags and lets the
// branch on a never-changing byte predict perfectly).
//   recency         the eviction order's policy (eviction_order.h): exact LRU for one shard,
//                   tick-grain LRU for each of several (a hit then writes nothing shared);
//                   W-TinyLFU in every shard with Options::policy = kTinyLfu.
//   access_expiry   expire_after_access: every read moves its entry's deadline, so reads take the
//                   shard lock, and slots keep an access deadline.
//   extras          the optional per-slot arrays (slot_pool.h): access deadlines with
//                   access_expiry; weights unless every entry weighs fixed_weight.
//   lock_free_puts  a put over a live entry may overwrite it without the shard lock
//                   (Shard::update_unlocked, seqlock.h): V is updated in place (kInPlace), no
//                   listener wants the old value, no read moves deadlines, and the weight cannot
//                   change (no weigher; a key of fixed size or compared per put). The put itself
//                   must also be plain (lock_free_put): untagged, unconditional, not a load's.
#pragma once

#include <cstddef>
#include <cstdint>

#include "larder/detail/eviction_order.h"
#include "larder/detail/slot_pool.h"
#include "larder/options.h"

namespace larder::detail {

struct Features {
  Recency recency = Recency::kExact;
  bool access_expiry = false;
  bool lock_free_puts = false;
  Extras extras;
  std::uint32_t fixed_weight = 0;  // every entry's weight when !extras.weights

  /// Whether a put may take the lock-free path: `tagged`, it has tags; `plain`, it is not
  /// put_if_absent, not a load's result, not a guarded fill.
  bool lock_free_put(bool tagged, bool plain) const noexcept {
    return lock_free_puts && plain && !tagged;
  }
};

/// The features of a Cache<K, V> with options `o` and `shards` shards.
template <class K, class V>
Features features_of(const Options<K, V>& o, std::size_t shards) noexcept {
  Features f;
  f.recency = o.policy == Policy::kTinyLfu ? Recency::kTinyLfu
              : shards > 1                 ? Recency::kCoarse
                                           : Recency::kExact;
  f.access_expiry = o.expire_after_access.count() > 0;
  f.lock_free_puts =
      kInPlace<V> && !o.on_removal && !f.access_expiry && !o.weigher && !DynamicSized<V>;
  // Every entry weighs sizeof(K) + sizeof(V) unless one of them has a dynamic size, a weigher
  // decides, or values may be stored compressed.
  const bool fixed = !DynamicSized<K> && !DynamicSized<V> && !kFrameStorage<V> && !o.weigher;
  f.extras = {.access_deadlines = f.access_expiry, .weights = !fixed};
  f.fixed_weight = std::uint32_t{sizeof(K) + sizeof(V)};
  return f;
}

}  // namespace larder::detail
