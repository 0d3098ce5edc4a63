// larder/codec.h — `larder::Codec<T>`: how a value type becomes bytes and back.
//
// Used to compress values in memory (Options::compression) and to store them in a byte-oriented
// remote tier. Built in:
//   * std::string, std::vector<std::byte | std::uint8_t | char>: the bytes themselves;
//   * arithmetic types and enums: fixed width, little-endian (a bool decodes only from 0 or 1);
//   * the standard containers of codable types: std::vector, std::array, std::optional,
//     std::pair, std::tuple, std::map, std::unordered_map, std::set, std::unordered_set (nest
//     them freely: std::map<std::string, std::vector<float>> just works);
//   * structs that list their members in one line (an aggregate, or any default-constructible
//     class whose members the codec may name):
//
//       struct User { std::uint64_t id; std::string name; std::vector<std::string> roles; };
//       template <> struct larder::Fields<User> : larder::Members<&User::id, &User::name,
//                                                                 &User::roles> {};
//
//     The members are encoded in that order; add `static constexpr std::string_view type_name =
//     "User/2";` in the braces to name the type yourself (see TYPE TAGS);
//   * trivially copyable types that opt in with larder::kBitwiseCodec<T> = true: their object
//     representation (same build, same platform). Only for types every byte pattern of whose
//     size is a valid value: decoding untrusted bytes into a bool, enum or pointer member could
//     make an invalid object, which is undefined behaviour, so no type is opted in by default.
// For anything else, specialize larder::Codec:
//
//   template <> struct larder::Codec<Money> {
//     static constexpr std::string_view type_name = "Money/1";   // optional, see TYPE TAGS
//     static void encode(const Money& m, std::string& out) { ... append bytes to out ... }
//     static larder::Result<Money> decode(std::string_view bytes) { ... or an Error ... }
//   };
//
// decode() receives untrusted bytes: it must return an Error (ErrorCode::kInvalidValue) on
// anything malformed and never read past `bytes`. examples/codec.cpp shows a complete one.
// Using a type without a codec where one is needed fails to compile with "no larder::Codec".
//
// CONTAINER FORMAT. Built on the codecs of the elements, all little-endian, with counts and
// lengths as LEB128 varints (larder/detail/varint.h): a container is its element count, then its
// elements; std::array has no count; std::optional is a byte 0 (empty) or 1, then the value;
// pairs, tuples and Fields structs are their elements in order. Inside a container, fixed-width
// elements (arithmetic, enums, bitwise types) are their bytes, strings and byte vectors their
// length then their bytes, and a type with its own Codec its encoding's length then its
// encoding. Decoding checks every count against the bytes left before allocating, refuses
// duplicate keys in maps and sets, and refuses trailing bytes.
//
// TYPE TAGS. type_tag<T>() is a 32-bit hash of T's schema: the built-ins' structure ("str",
// "vec<f32>", "map<str,i64>"), a Fields struct's type name and its members' schemas, a hand-written
// Codec's `type_name`. Without a `type_name`, the type name is the C++ one (its mangled name,
// which g++ and clang agree on; renaming the type changes the tag; without RTTI it is empty).
// The remote tier's frames carry the tag (larder/compression.h), so reading bytes written for
// another type, or for an older shape of a struct, is an ErrorCode::kTypeMismatch error (a miss),
// never a garbage value.
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "larder/detail/varint.h"
#include "larder/result.h"

namespace larder {

/// Primary template: no codec. Specialize it for your types (see the file comment).
template <class T>
struct Codec;

/// T has a usable larder::Codec.
template <class T>
concept Encodable = requires(const T& value, std::string& out, std::string_view bytes) {
  Codec<T>::encode(value, out);
  { Codec<T>::decode(bytes) } -> std::same_as<Result<T>>;
};

/// Byte containers: stored and compressed as they are, no encoding step.
template <class T>
inline constexpr bool kByteLike =
    std::same_as<T, std::string> || std::same_as<T, std::vector<std::byte>> ||
    std::same_as<T, std::vector<std::uint8_t>> || std::same_as<T, std::vector<char>>;

/// The members a Fields struct's codec encodes, in order (see the file comment):
///   template <> struct larder::Fields<User> : larder::Members<&User::id, &User::name> {};
template <auto... Ms>
struct Members {
  static constexpr std::tuple<decltype(Ms)...> members{Ms...};
};

/// Primary template: no fields. Specialize it, deriving from larder::Members (file comment).
template <class T>
struct Fields;

namespace detail {
/// T lists its members in larder::Fields<T>.
template <class T>
concept HasFields = std::is_class_v<T> && requires {
  Fields<T>::members;
};
/// The byte vectors (kByteLike but std::string, which has its own Codec).
template <class T>
concept ByteVector = kByteLike<T> && !std::same_as<T, std::string>;
/// Arithmetic types and enums.
template <class T>
concept ArithmeticOrEnum = std::is_arithmetic_v<T> || std::is_enum_v<T>;
}  // namespace detail

template <>
struct Codec<std::string> {
  static void encode(const std::string& v, std::string& out) { out.append(v); }
  static Result<std::string> decode(std::string_view bytes) { return std::string(bytes); }
};

template <detail::ByteVector T>
struct Codec<T> {
  static void encode(const T& v, std::string& out) {
    out.append(reinterpret_cast<const char*>(v.data()), v.size());
  }
  static Result<T> decode(std::string_view bytes) {
    T v(bytes.size());
    if (!bytes.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  }
};

namespace detail {
template <class T>
T byteswap_if_big_endian(T v) noexcept {
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
    std::memcpy(&v, b, sizeof(T));
  }
  return v;
}
}  // namespace detail

/// Opts a trivially copyable type into the built-in bitwise codec (its object representation,
/// sizeof(T) bytes). Say so only when every byte pattern of that size is a valid T: no bool, enum
/// or pointer members. Default false.
///
///   template <> inline constexpr bool larder::kBitwiseCodec<Point> = true;  // doubles and ints
template <class T>
inline constexpr bool kBitwiseCodec = false;

/// Arithmetic types and enums: sizeof(T) bytes, little-endian. A bool decodes from 0 or 1 only;
/// an enum from any value of its underlying type (give an unscoped enum a fixed underlying type
/// if its bytes may come from elsewhere).
template <detail::ArithmeticOrEnum T>
struct Codec<T> {
  static void encode(const T& v, std::string& out) {
    const T le = detail::byteswap_if_big_endian(v);
    out.append(reinterpret_cast<const char*>(&le), sizeof(T));
  }
  static Result<T> decode(std::string_view bytes) {
    if (bytes.size() != sizeof(T)) {
      return Error{ErrorCode::kInvalidValue, "larder: expected " + std::to_string(sizeof(T)) +
                                                 " bytes, got " + std::to_string(bytes.size())};
    }
    if constexpr (std::same_as<T, bool>) {
      const auto b = static_cast<unsigned char>(bytes[0]);
      if (b > 1) {
        return Error{ErrorCode::kInvalidValue,
                     "larder: a bool is byte 0 or 1, got " + std::to_string(b)};
      }
      return b == 1;
    } else {
      T v;
      std::memcpy(&v, bytes.data(), sizeof(T));
      return detail::byteswap_if_big_endian(v);
    }
  }
};

/// Trivially copyable types opted in with kBitwiseCodec: the object representation (not
/// portable across platforms or builds; fine for one process's memory, think twice for a shared
/// remote tier).
namespace detail {
/// Trivially copyable types opted in with kBitwiseCodec (and not covered by another Codec).
template <class T>
concept BitwiseEncodable = std::is_trivially_copyable_v<T> && !ArithmeticOrEnum<T> &&
                           !kByteLike<T> && !HasFields<T> && kBitwiseCodec<T>;
}  // namespace detail

template <detail::BitwiseEncodable T>
struct Codec<T> {
  static void encode(const T& v, std::string& out) {
    out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  static Result<T> decode(std::string_view bytes) {
    if (bytes.size() != sizeof(T)) {
      return Error{ErrorCode::kInvalidValue, "larder: expected " + std::to_string(sizeof(T)) +
                                                 " bytes, got " + std::to_string(bytes.size())};
    }
    struct Bytes {
      unsigned char b[sizeof(T)];
    } raw;
    std::memcpy(raw.b, bytes.data(), sizeof(T));
    return std::bit_cast<T>(raw);
  }
};

// ---------------------------------------------------------------------------------------------
// Containers and Fields structs (CONTAINER FORMAT in the file comment)

namespace detail {

/// Bytes of a fixed-width encoding (arithmetic, enums, bitwise types), 0 for the others.
template <class T>
constexpr std::size_t fixed_width() noexcept {
  if constexpr (ArithmeticOrEnum<T> || BitwiseEncodable<T>) {
    return sizeof(T);
  } else {
    return 0;
  }
}

inline Error malformed(std::string_view what) {
  return Error{ErrorCode::kInvalidValue, "larder: malformed value: " + std::string(what)};
}

/// The self-delimiting form of a T inside a container: put() appends it, take() reads one from
/// the front of `in` and drops its bytes. kMinSize: the fewest bytes one takes (bounds counts).
/// This primary template covers fixed-width types and types with a Codec of their own.
template <class T>
struct Wire {
  static constexpr std::size_t kMinSize = fixed_width<T>() ? fixed_width<T>() : 1;
  static void put(const T& v, std::string& out) {
    const std::size_t at = out.size();
    Codec<T>::encode(v, out);
    if constexpr (fixed_width<T>() == 0) {  // prefix the length (known only now)
      std::string len;
      put_varint(out.size() - at, len);
      out.insert(at, len);
    }
  }
  static Result<T> take(std::string_view& in) {
    std::uint64_t n = fixed_width<T>();
    if constexpr (fixed_width<T>() == 0) {
      if (!take_varint(in, n)) return malformed("bad length");
    }
    if (n > in.size()) return malformed("length past the end");
    const std::string_view bytes = in.substr(0, n);
    in.remove_prefix(n);
    return Codec<T>::decode(bytes);
  }
};

/// Reads a count of elements of at least `min_size` bytes each: refused before anything is
/// allocated when the bytes left could not hold them.
inline bool take_count(std::string_view& in, std::size_t min_size, std::uint64_t& n) noexcept {
  return take_varint(in, n) && n <= in.size() / (min_size ? min_size : 1);
}

template <>
struct Wire<std::string> {
  static constexpr std::size_t kMinSize = 1;
  static void put(const std::string& v, std::string& out) {
    put_varint(v.size(), out);
    out.append(v);
  }
  static Result<std::string> take(std::string_view& in) {
    std::uint64_t n = 0;
    if (!take_varint(in, n) || n > in.size()) return malformed("string length past the end");
    std::string v(in.substr(0, n));
    in.remove_prefix(n);
    return v;
  }
};

/// Puts each element of a range, after its count (`counted`).
template <class R>
void put_elements(const R& r, std::string& out, bool counted) {
  if (counted) put_varint(r.size(), out);
  for (const auto& e : r) Wire<std::remove_cvref_t<decltype(e)>>::put(e, out);
}

template <class T, class A>
struct Wire<std::vector<T, A>> {
  using Vec = std::vector<T, A>;
  static constexpr std::size_t kMinSize = 1;
  /// Elements whose little-endian encoding is their object representation: copied at once.
  static constexpr bool kBulk = std::is_arithmetic_v<T> && !std::same_as<T, bool> &&
                                std::endian::native == std::endian::little;
  static void put(const Vec& v, std::string& out) {
    if constexpr (kBulk) {
      put_varint(v.size(), out);
      out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    } else {
      put_elements(v, out, /*counted=*/true);
    }
  }
  static Result<Vec> take(std::string_view& in) {
    std::uint64_t n = 0;
    if (!take_count(in, Wire<T>::kMinSize, n)) return malformed("vector count past the end");
    Vec v;
    if constexpr (kBulk) {
      v.resize(n);
      if (n) std::memcpy(v.data(), in.data(), n * sizeof(T));
      in.remove_prefix(n * sizeof(T));
    } else {
      v.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) {
        Result<T> e = Wire<T>::take(in);
        if (!e) return e.error();
        v.push_back(*std::move(e));
      }
    }
    return v;
  }
};

template <class T, std::size_t N>
struct Wire<std::array<T, N>> {
  static constexpr std::size_t kMinSize = N * Wire<T>::kMinSize;
  static void put(const std::array<T, N>& v, std::string& out) {
    put_elements(v, out, /*counted=*/false);
  }
  static Result<std::array<T, N>> take(std::string_view& in) {
    std::array<T, N> v{};
    for (T& e : v) {
      Result<T> r = Wire<T>::take(in);
      if (!r) return r.error();
      e = *std::move(r);
    }
    return v;
  }
};

template <class T>
struct Wire<std::optional<T>> {
  static constexpr std::size_t kMinSize = 1;
  static void put(const std::optional<T>& v, std::string& out) {
    out.push_back(v ? '\1' : '\0');
    if (v) Wire<T>::put(*v, out);
  }
  static Result<std::optional<T>> take(std::string_view& in) {
    if (in.empty() || static_cast<unsigned char>(in[0]) > 1) return malformed("optional flag");
    const bool engaged = in[0] == '\1';
    in.remove_prefix(1);
    if (!engaged) return std::optional<T>();
    Result<T> r = Wire<T>::take(in);
    if (!r) return r.error();
    return std::optional<T>(*std::move(r));
  }
};

/// Takes one T into `slot`, or records the error; for left-to-right folds.
template <class T>
bool take_into(std::string_view& in, std::optional<T>& slot, std::optional<Error>& err) {
  Result<T> r = Wire<T>::take(in);
  if (!r) {
    err = r.error();
    return false;
  }
  slot.emplace(*std::move(r));
  return true;
}

/// Pairs and tuples: their elements in order.
template <class Tuple>
struct TupleWire {
  static constexpr std::size_t kSize = std::tuple_size_v<Tuple>;
  template <std::size_t I>
  using Element = std::tuple_element_t<I, Tuple>;
  static constexpr std::size_t kMinSize = [] {
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return (std::size_t{0} + ... + Wire<Element<I>>::kMinSize);
    }
    (std::make_index_sequence<kSize>{});
  }();
  static void put(const Tuple& v, std::string& out) {
    std::apply(
        [&](const auto&... e) { (Wire<std::remove_cvref_t<decltype(e)>>::put(e, out), ...); }, v);
  }
  static Result<Tuple> take(std::string_view& in) {
    return [&]<std::size_t... I>(std::index_sequence<I...>)->Result<Tuple> {
      std::tuple<std::optional<Element<I>>...> parts;
      std::optional<Error> err;
      (take_into(in, std::get<I>(parts), err) && ...);
      if (err) return *err;
      return Tuple(std::move(*std::get<I>(parts))...);
    }
    (std::make_index_sequence<kSize>{});
  }
};
template <class A, class B>
struct Wire<std::pair<A, B>> : TupleWire<std::pair<A, B>> {};
template <class... Ts>
struct Wire<std::tuple<Ts...>> : TupleWire<std::tuple<Ts...>> {};

/// Maps and sets: count, then elements (key and value for maps); a repeated key is malformed.
template <class C, class Element>
struct AssociativeWire {
  static constexpr std::size_t kMinSize = 1;
  static void put(const C& v, std::string& out) {
    put_varint(v.size(), out);
    for (const auto& e : v) Wire<Element>::put(Element(e), out);
  }
  static Result<C> take(std::string_view& in) {
    std::uint64_t n = 0;
    if (!take_count(in, Wire<Element>::kMinSize, n)) return malformed("count past the end");
    C v;
    for (std::uint64_t i = 0; i < n; ++i) {
      Result<Element> e = Wire<Element>::take(in);
      if (!e) return e.error();
      if (!v.insert(*std::move(e)).second) return malformed("a key appears twice");
    }
    return v;
  }
};
template <class K, class V, class Cmp, class A>
struct Wire<std::map<K, V, Cmp, A>> : AssociativeWire<std::map<K, V, Cmp, A>, std::pair<K, V>> {};
template <class K, class V, class H, class E, class A>
struct Wire<std::unordered_map<K, V, H, E, A>>
    : AssociativeWire<std::unordered_map<K, V, H, E, A>, std::pair<K, V>> {};
template <class T, class Cmp, class A>
struct Wire<std::set<T, Cmp, A>> : AssociativeWire<std::set<T, Cmp, A>, T> {};
template <class T, class H, class E, class A>
struct Wire<std::unordered_set<T, H, E, A>> : AssociativeWire<std::unordered_set<T, H, E, A>, T> {};

/// The class and type of a member pointer.
template <class P>
struct MemberOf;
template <class M, class C>
struct MemberOf<M C::*> {
  using Class = C;
  using Type = M;
};

/// Fields structs: their listed members in order, into a value-initialized T.
template <HasFields T>
struct FieldsWire {
  static constexpr auto kMembers = Fields<T>::members;
  static constexpr std::size_t kMinSize = std::apply(
      [](auto... m) {
        return (std::size_t{0} + ... + Wire<typename MemberOf<decltype(m)>::Type>::kMinSize);
      },
      kMembers);
  static void put(const T& v, std::string& out) {
    std::apply(
        [&](auto... m) { (Wire<typename MemberOf<decltype(m)>::Type>::put(v.*m, out), ...); },
        kMembers);
  }
  static Result<T> take(std::string_view& in) {
    static_assert(std::is_default_constructible_v<T>,
                  "larder::Fields<T>: T must be default-constructible (the codec decodes into a "
                  "value-initialized T, member by member)");
    T v{};
    std::optional<Error> err;
    std::apply(
        [&](auto... m) {
          ((take_member<typename MemberOf<decltype(m)>::Type>(in, v.*m, err)) && ...);
        },
        kMembers);
    if (err) return *err;
    return v;
  }

 private:
  template <class M>
  static bool take_member(std::string_view& in, M& member, std::optional<Error>& err) {
    Result<M> r = Wire<M>::take(in);
    if (!r) {
      err = r.error();
      return false;
    }
    member = *std::move(r);
    return true;
  }
};

/// A container's or Fields struct's Codec: its Wire form, with no bytes left over.
template <class T, class W = Wire<T>>
struct WireCodec {
  static void encode(const T& v, std::string& out) { W::put(v, out); }
  static Result<T> decode(std::string_view bytes) {
    Result<T> r = W::take(bytes);
    if (r && !bytes.empty()) return malformed(std::to_string(bytes.size()) + " trailing bytes");
    return r;
  }
};

/// A vector element type that is not a byte (byte vectors are kByteLike, with their own Codec).
template <class T>
concept VectorElement = Encodable<T> && !kByteLike<std::vector<T>>;
/// Whether every member pointer of the tuple type `Ms` is a codable member of T.
template <class T, class Ms>
inline constexpr bool kCodableMembers = false;
template <class T, class... P>
inline constexpr bool kCodableMembers<T, std::tuple<P...>> =
    ((std::is_base_of_v<typename MemberOf<P>::Class, T> &&
      Encodable<typename MemberOf<P>::Type>)&&...);
/// Every member a Fields struct lists is a codable member of it.
template <class T>
concept CodableFields = HasFields<T> && !kBitwiseCodec<T> &&
                        kCodableMembers<T, std::remove_cvref_t<decltype(Fields<T>::members)>>;

}  // namespace detail

template <detail::VectorElement T>
struct Codec<std::vector<T>> : detail::WireCodec<std::vector<T>> {};
template <Encodable T, std::size_t N>
struct Codec<std::array<T, N>> : detail::WireCodec<std::array<T, N>> {};
template <Encodable T>
struct Codec<std::optional<T>> : detail::WireCodec<std::optional<T>> {};
template <Encodable A, Encodable B>
struct Codec<std::pair<A, B>> : detail::WireCodec<std::pair<A, B>> {};
template <Encodable... Ts>
struct Codec<std::tuple<Ts...>> : detail::WireCodec<std::tuple<Ts...>> {};
template <Encodable K, Encodable V, class Cmp, class A>
struct Codec<std::map<K, V, Cmp, A>> : detail::WireCodec<std::map<K, V, Cmp, A>> {};
template <Encodable K, Encodable V, class H, class E, class A>
struct Codec<std::unordered_map<K, V, H, E, A>>
    : detail::WireCodec<std::unordered_map<K, V, H, E, A>> {};
template <Encodable T, class Cmp, class A>
struct Codec<std::set<T, Cmp, A>> : detail::WireCodec<std::set<T, Cmp, A>> {};
template <Encodable T, class H, class E, class A>
struct Codec<std::unordered_set<T, H, E, A>> : detail::WireCodec<std::unordered_set<T, H, E, A>> {};
/// Structs that list their members in larder::Fields (see the file comment).
template <detail::CodableFields T>
struct Codec<T> : detail::WireCodec<T, detail::FieldsWire<T>> {};

// ---------------------------------------------------------------------------------------------
// Type tags (TYPE TAGS in the file comment)

namespace detail {

/// T's C++ type name for its schema: the mangled name (RTTI), else empty.
template <class T>
std::string_view cxx_type_name() noexcept {
#if defined(__cpp_rtti) || defined(__GXX_RTTI)
  return typeid(T).name();
#else
  return {};
#endif
}

template <class T>
struct Schema;

template <class T>
void append_schema(std::string& s) {
  Schema<T>::append(s);
}

template <class... Ts>
void append_list(std::string& s, std::string_view open) {
  s += open;
  bool first = true;
  ((s += first ? "" : ",", first = false, append_schema<Ts>(s)), ...);
  s += '>';
}

/// Codec<T> or Fields<T> names the type itself.
template <class T>
concept NamedCodec = requires {
  std::string_view(Codec<T>::type_name);
};
template <class T>
concept NamedFields = requires {
  std::string_view(Fields<T>::type_name);
};

template <class T>
struct Schema {
  static void append(std::string& s) {
    if constexpr (NamedCodec<T>) {
      s += "codec ";
      s += std::string_view(Codec<T>::type_name);
    } else if constexpr (std::same_as<T, std::string>) {
      s += "str";
    } else if constexpr (kByteLike<T>) {
      s += "bytes";
    } else if constexpr (std::same_as<T, bool>) {
      s += "bool";
    } else if constexpr (std::same_as<T, char>) {
      s += "char";
    } else if constexpr (std::is_integral_v<T>) {
      s += std::is_signed_v<T> ? 'i' : 'u';
      s += std::to_string(8 * sizeof(T));
    } else if constexpr (std::is_floating_point_v<T>) {
      s += 'f';
      s += std::to_string(8 * sizeof(T));
    } else if constexpr (std::is_enum_v<T>) {
      s += "enum ";
      s += cxx_type_name<T>();
      s += ':';
      append_schema<std::underlying_type_t<T>>(s);
    } else if constexpr (CodableFields<T>) {
      s += "struct ";
      if constexpr (NamedFields<T>) {
        s += std::string_view(Fields<T>::type_name);
      } else {
        s += cxx_type_name<T>();
      }
      s += '{';
      std::apply(
          [&](auto... m) {
            bool first = true;
            ((s += first ? "" : ",", first = false,
              append_schema<typename MemberOf<decltype(m)>::Type>(s)),
             ...);
          },
          Fields<T>::members);
      s += '}';
    } else if constexpr (BitwiseEncodable<T>) {
      s += "bits ";
      s += cxx_type_name<T>();
      s += ':';
      s += std::to_string(sizeof(T));
    } else {
      s += "codec ";
      s += cxx_type_name<T>();
    }
  }
};
template <class T, class A>
struct Schema<std::vector<T, A>> {
  static void append(std::string& s) {
    if constexpr (kByteLike<std::vector<T, A>>) {
      s += "bytes";
    } else {
      append_list<T>(s, "vec<");
    }
  }
};
template <class T, std::size_t N>
struct Schema<std::array<T, N>> {
  static void append(std::string& s) {
    s += "arr" + std::to_string(N);
    append_list<T>(s, "<");
  }
};
template <class T>
struct Schema<std::optional<T>> {
  static void append(std::string& s) { append_list<T>(s, "opt<"); }
};
template <class A, class B>
struct Schema<std::pair<A, B>> {  // the same bytes as a tuple of two
  static void append(std::string& s) { append_list<A, B>(s, "tup<"); }
};
template <class... Ts>
struct Schema<std::tuple<Ts...>> {
  static void append(std::string& s) { append_list<Ts...>(s, "tup<"); }
};
template <class K, class V, class Cmp, class A>
struct Schema<std::map<K, V, Cmp, A>> {  // ordered or not: the same bytes
  static void append(std::string& s) { append_list<K, V>(s, "map<"); }
};
template <class K, class V, class H, class E, class A>
struct Schema<std::unordered_map<K, V, H, E, A>> {
  static void append(std::string& s) { append_list<K, V>(s, "map<"); }
};
template <class T, class Cmp, class A>
struct Schema<std::set<T, Cmp, A>> {
  static void append(std::string& s) { append_list<T>(s, "set<"); }
};
template <class T, class H, class E, class A>
struct Schema<std::unordered_set<T, H, E, A>> {
  static void append(std::string& s) { append_list<T>(s, "set<"); }
};

/// 32-bit FNV-1a.
constexpr std::uint32_t fnv1a32(std::string_view s) noexcept {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace detail

/// T's schema: what type_tag<T>() hashes, e.g. "map<str,vec<f32>>" (see TYPE TAGS).
template <Encodable T>
std::string type_schema() {
  std::string s;
  detail::append_schema<T>(s);
  return s;
}

/// The 32-bit tag typed frames carry for T: a hash of type_schema<T>(), never 0 (0 marks an
/// untyped frame). Computed once per type.
template <Encodable T>
std::uint32_t type_tag() {
  static const std::uint32_t tag = [] {
    const std::uint32_t h = detail::fnv1a32(type_schema<T>());
    return h == 0 ? 1u : h;
  }();
  return tag;
}

/// Appends the encoding of `value` to `out`.
template <class T>
void encode_to(const T& value, std::string& out) {
  static_assert(Encodable<T>,
                "no larder::Codec<T> for this value type: specialize larder::Codec<T> with "
                "static void encode(const T&, std::string&) and static larder::Result<T> "
                "decode(std::string_view), or list a struct's members with template <> struct "
                "larder::Fields<T> : larder::Members<&T::a, &T::b> {} (each member's type needs "
                "a codec too), or for a trivially copyable type whose every byte pattern is "
                "valid, opt into the bitwise codec with larder::kBitwiseCodec<T> = true (see "
                "larder/codec.h)");
  Codec<T>::encode(value, out);
}

/// The encoding of `value`.
template <class T>
std::string encode(const T& value) {
  std::string out;
  encode_to(value, out);
  return out;
}

/// Decodes a T from untrusted `bytes`.
template <class T>
Result<T> decode(std::string_view bytes) {
  static_assert(Encodable<T>,
                "no larder::Codec<T> for this value type: specialize larder::Codec<T> with "
                "static void encode(const T&, std::string&) and static larder::Result<T> "
                "decode(std::string_view), or list a struct's members with template <> struct "
                "larder::Fields<T> : larder::Members<&T::a, &T::b> {} (each member's type needs "
                "a codec too), or for a trivially copyable type whose every byte pattern is "
                "valid, opt into the bitwise codec with larder::kBitwiseCodec<T> = true (see "
                "larder/codec.h)");
  return Codec<T>::decode(bytes);
}

}  // namespace larder
