// larder/hash.h — key hashing: `larder::Hash<K>`, the customization point for key types.
//
// A cache hashes each key once, with a 64-bit seed drawn at random per cache instance (so keys
// chosen by an attacker cannot be aimed at one shard or one bucket), and uses that hash both to
// pick the shard and inside the shard's index.
//
// Built in:
//   * integers and enums: hash_u64, the seed xored in and a splitmix64-style finalizer;
//   * std::string and std::string_view: XXH3 of the bytes. Hash<std::string> is transparent: it
//     also accepts std::string_view and const char*, so a Cache<std::string, V> looks keys up
//     without allocating;
//   * any other type with a usable std::hash: std::hash's result, mixed with the seed.
//
// For your own key type, specialize `larder::Hash` with a call operator taking (key, seed):
//
//   template <> struct larder::Hash<OrderId> {
//     std::uint64_t operator()(const OrderId& id, std::uint64_t seed) const noexcept {
//       return larder::hash_bytes(&id.value, sizeof id.value, seed);
//     }
//   };
//
// A custom `Hash` template argument may also be a plain hasher `size_t(const K&)` (std::hash
// style); its result is then mixed with the seed.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

namespace larder {

/// XXH3-64 of `len` bytes at `data`, seeded.
inline std::uint64_t hash_bytes(const void* data, std::size_t len, std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(data, len, seed);
}

/// Mixes a 64-bit value with a seed: the seed is xored in, then a splitmix64 / murmur3-style
/// finalizer (two multiply-xorshift rounds). ~8 instructions instead of XXH3's ~25; a bijection
/// (distinct keys never share a full hash) with full avalanche for every seed, which both shard
/// choice (high bits) and the index (low bits) rely on. (A seeded multiply-fold was tried first:
/// for some seeds it mapped sequential keys to shards in a visibly skewed pattern.)
inline std::uint64_t hash_u64(std::uint64_t x, std::uint64_t seed) noexcept {
  x ^= seed;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

namespace detail {
/// Integers and enums: hashed by value (hash_u64).
template <class K>
concept IntegerLike = std::is_integral_v<K> || std::is_enum_v<K>;

/// A fresh seed for one cache instance at `self` (src/seed.cc): unpredictable across processes
/// and instances, without a system call per cache.
std::uint64_t instance_seed(const void* self) noexcept;

template <class K>
concept StdHashable = requires(const K& k) {
  { std::hash<K>{}(k) } -> std::convertible_to<std::size_t>;
};
}  // namespace detail

/// Seeded 64-bit hash of a key. The primary template covers types with std::hash; specialize it
/// for other key types (see the file comment).
template <class K>
struct Hash {
  static_assert(detail::StdHashable<K>,
                "larder::Hash<K>: K has no std::hash; specialize larder::Hash<K> with "
                "std::uint64_t operator()(const K&, std::uint64_t seed) const");
  std::uint64_t operator()(const K& key, std::uint64_t seed) const noexcept {
    return hash_u64(static_cast<std::uint64_t>(std::hash<K>{}(key)), seed);
  }
};

template <detail::IntegerLike K>
struct Hash<K> {
  std::uint64_t operator()(K key, std::uint64_t seed) const noexcept {
    return hash_u64(static_cast<std::uint64_t>(key), seed);
  }
};

template <>
struct Hash<std::string_view> {
  using is_transparent = void;
  std::uint64_t operator()(std::string_view key, std::uint64_t seed) const noexcept {
    return hash_bytes(key.data(), key.size(), seed);
  }
};

template <>
struct Hash<std::string> : Hash<std::string_view> {};

namespace detail {
template <class H, class Q>
std::uint64_t seeded_hash(const H& h, const Q& key, std::uint64_t seed) noexcept;
}  // namespace detail

/// Tuples and pairs (the keys of larder::cached functions): the elements' hashes, chained.
template <class... Ts>
struct Hash<std::tuple<Ts...>> {
  std::uint64_t operator()(const std::tuple<Ts...>& t, std::uint64_t seed) const noexcept {
    return std::apply(
        [seed](const Ts&... xs) {
          std::uint64_t h = seed;
          ((h = hash_u64(h ^ detail::seeded_hash(Hash<Ts>{}, xs, seed), seed)), ...);
          return h;
        },
        t);
  }
};
template <class A, class B>
struct Hash<std::pair<A, B>> {
  std::uint64_t operator()(const std::pair<A, B>& p, std::uint64_t seed) const noexcept {
    std::uint64_t h = hash_u64(seed ^ detail::seeded_hash(Hash<A>{}, p.first, seed), seed);
    return hash_u64(h ^ detail::seeded_hash(Hash<B>{}, p.second, seed), seed);
  }
};

namespace detail {

/// Calls a hasher either as hash(key, seed) (larder style) or as hash(key) (std::hash style,
/// mixed with the seed).
template <class H, class Q>
std::uint64_t seeded_hash(const H& h, const Q& key, std::uint64_t seed) noexcept {
  if constexpr (std::is_invocable_r_v<std::uint64_t, const H&, const Q&, std::uint64_t>) {
    return h(key, seed);
  } else {
    static_assert(std::is_invocable_r_v<std::size_t, const H&, const Q&>,
                  "larder: the Hash argument must be callable as hash(key, seed) or hash(key)");
    return hash_u64(static_cast<std::uint64_t>(h(key)), seed);
  }
}

}  // namespace detail
}  // namespace larder
