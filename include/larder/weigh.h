// larder/weigh.h — what an entry weighs: `larder::default_weight`, the `larder::Weigh<T>`
// customization point, and `larder::codec_weigher`. The weight is what Options::max_bytes bounds
// and Cache::bytes() reports.
//
// The default weigher (Options::weigher left empty) is sizeof(K) + sizeof(V) plus what the key
// and the value own on the heap, by larder::heap_size:
//   * strings and contiguous containers (size() and data()): size() * sizeof(element), plus
//     what each element owns (a std::vector<std::string> counts its strings' characters);
//   * std::map / std::set and the unordered ones: per element, its size plus an estimate of
//     the node (32 bytes ordered, 16 unordered), plus what it owns;
//   * std::optional, std::pair, std::tuple, std::array: what their parts own;
//   * structs that list their members in larder::Fields (larder/codec.h): what their members
//     own, so a User whose name holds 5,000 characters weighs about 5,000 bytes more;
//   * a type with a larder::Weigh<T> specialization: what it says;
//   * anything else: nothing beyond sizeof(T). A struct that owns heap memory, has no Fields and
//     no Weigh, is undercounted: specialize Weigh, list its Fields, or set Options::weigher.
//
//   template <> struct larder::Weigh<Blob> {
//     static std::size_t heap(const Blob& b) noexcept { return b.capacity(); }
//   };
//
// codec_weigher<K, V>() is the opt-in alternative: sizeof(K) + sizeof(V) plus the heap size of
// the key and the size of the value's encoding (larder/codec.h), for values whose encoded size
// is the honest measure (it encodes every value on every put, which costs what an encode costs).
// These are estimates of memory, not allocator-exact: capacity beyond size(), small-string
// buffers and allocator headers are not counted.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "larder/codec.h"

namespace larder {

/// Customization point: specialize with `static std::size_t heap(const T&) noexcept`, the bytes
/// a T owns beyond sizeof(T) (see the file comment). The primary template is never defined.
template <class T>
struct Weigh;

template <class T>
std::size_t heap_size(const T& value) noexcept;

namespace detail {

/// Types whose dynamic (heap) size the default weigher counts: strings and contiguous
/// containers (size() and data()).
template <class T>
concept DynamicSized = requires(const T& t) {
  t.size();
  t.data();
};
/// T has a larder::Weigh specialization.
template <class T>
concept CustomWeigh = requires(const T& t) {
  { Weigh<T>::heap(t) } -> std::convertible_to<std::size_t>;
};

template <class T>
struct HeapOf {  // anything else: strings and contiguous containers, Fields structs, or nothing
  static std::size_t of(const T& v) noexcept {
    if constexpr (CustomWeigh<T>) {
      return Weigh<T>::heap(v);
    } else if constexpr (DynamicSized<T>) {
      using E = std::remove_cvref_t<decltype(*v.data())>;
      std::size_t n = v.size() * sizeof(E);
      if constexpr (!std::is_trivially_copyable_v<E>) {
        for (std::size_t i = 0; i < v.size(); ++i) n += heap_size(v.data()[i]);
      }
      return n;
    } else if constexpr (HasFields<T>) {
      return std::apply([&](auto... m) { return (std::size_t{0} + ... + heap_size(v.*m)); },
                        Fields<T>::members);
    } else {
      return 0;
    }
  }
};
template <class T>
struct HeapOf<std::optional<T>> {
  static std::size_t of(const std::optional<T>& v) noexcept { return v ? heap_size(*v) : 0; }
};
template <class A, class B>
struct HeapOf<std::pair<A, B>> {
  static std::size_t of(const std::pair<A, B>& v) noexcept {
    return heap_size(v.first) + heap_size(v.second);
  }
};
template <class... Ts>
struct HeapOf<std::tuple<Ts...>> {
  static std::size_t of(const std::tuple<Ts...>& v) noexcept {
    return std::apply([](const auto&... e) { return (std::size_t{0} + ... + heap_size(e)); }, v);
  }
};
template <class T, std::size_t N>
struct HeapOf<std::array<T, N>> {
  static std::size_t of(const std::array<T, N>& v) noexcept {
    std::size_t n = 0;
    for (const T& e : v) n += heap_size(e);
    return n;
  }
};
/// Node-based containers: per element, its size, a node estimate, and what it owns.
template <class C, std::size_t kNode>
struct NodeHeap {
  static std::size_t of(const C& c) noexcept {
    std::size_t n = c.size() * (sizeof(typename C::value_type) + kNode);
    for (const auto& e : c) n += heap_size(e);
    return n;
  }
};
template <class K, class V, class Cmp, class A>
struct HeapOf<std::map<K, V, Cmp, A>> : NodeHeap<std::map<K, V, Cmp, A>, 32> {};
template <class T, class Cmp, class A>
struct HeapOf<std::set<T, Cmp, A>> : NodeHeap<std::set<T, Cmp, A>, 32> {};
template <class K, class V, class H, class E, class A>
struct HeapOf<std::unordered_map<K, V, H, E, A>> : NodeHeap<std::unordered_map<K, V, H, E, A>, 16> {
};
template <class T, class H, class E, class A>
struct HeapOf<std::unordered_set<T, H, E, A>> : NodeHeap<std::unordered_set<T, H, E, A>, 16> {};

}  // namespace detail

/// Bytes `value` owns beyond sizeof(T), as the default weigher counts them (file comment).
template <class T>
std::size_t heap_size(const T& value) noexcept {
  return detail::HeapOf<T>::of(value);
}

/// heap_size's former name (strings and contiguous containers, and now everything above).
template <class T>
std::size_t dynamic_size(const T& value) noexcept {
  return heap_size(value);
}

/// The default weigher: sizeof(K) + sizeof(V) plus what the key and the value own (file comment).
template <class K, class V>
std::size_t default_weight(const K& key, const V& value) noexcept {
  return sizeof(K) + sizeof(V) + heap_size(key) + heap_size(value);
}

/// An Options::weigher that weighs a value by its encoding (larder::Codec<V>): sizeof(K) +
/// sizeof(V) + heap_size(key) + the encoded size. Encodes every value on every put.
template <class K, Encodable V>
std::function<std::size_t(const K&, const V&)> codec_weigher() {
  return [](const K& key, const V& value) {
    std::string bytes;
    encode_to(value, bytes);
    return sizeof(K) + sizeof(V) + heap_size(key) + bytes.size();
  };
}

}  // namespace larder
