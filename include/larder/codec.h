// larder/codec.h — `larder::Codec<T>`: how a value type becomes bytes and back.
//
// Used to compress values in memory (Options::compression) and to store them in a byte-oriented
// remote tier. Built in:
//   * std::string, std::vector<std::byte | std::uint8_t | char>: the bytes themselves;
//   * arithmetic types and enums: fixed width, little-endian (a bool decodes only from 0 or 1);
//   * trivially copyable types that opt in with larder::kBitwiseCodec<T> = true: their object
//     representation (same build, same platform). Only for types every byte pattern of whose
//     size is a valid value: decoding untrusted bytes into a bool, enum or pointer member could
//     make an invalid object, which is undefined behaviour, so no type is opted in by default.
// For your own type, specialize larder::Codec:
//
//   template <> struct larder::Codec<User> {
//     static void encode(const User& u, std::string& out) { ... append bytes to out ... }
//     static larder::Result<User> decode(std::string_view bytes) { ... or an Error ... }
//   };
//
// decode() receives untrusted bytes: it must return an Error (ErrorCode::kInvalidValue) on
// anything malformed and never read past `bytes`. examples/codec.cpp shows a complete one.
// Using a type without a codec where one is needed fails to compile with "no larder::Codec".
#pragma once

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

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

namespace detail {
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
concept BitwiseEncodable =
    std::is_trivially_copyable_v<T> && !ArithmeticOrEnum<T> && !kByteLike<T> && kBitwiseCodec<T>;
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

/// Appends the encoding of `value` to `out`.
template <class T>
void encode_to(const T& value, std::string& out) {
  static_assert(Encodable<T>,
                "no larder::Codec<T> for this value type: specialize larder::Codec<T> with "
                "static void encode(const T&, std::string&) and static larder::Result<T> "
                "decode(std::string_view), or for a trivially copyable type whose every byte "
                "pattern is valid, opt into the bitwise codec with "
                "larder::kBitwiseCodec<T> = true (see larder/codec.h)");
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
                "decode(std::string_view), or for a trivially copyable type whose every byte "
                "pattern is valid, opt into the bitwise codec with "
                "larder::kBitwiseCodec<T> = true (see larder/codec.h)");
  return Codec<T>::decode(bytes);
}

}  // namespace larder
