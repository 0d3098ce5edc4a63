// larder/detail/varint.h — unsigned LEB128 integers: the lengths and counts inside the built-in
// container codecs (larder/codec.h). 7 bits a byte, low bits first, the high bit says "more".
// A value below 128 takes one byte; a 64-bit value at most ten.
//
// take_varint() reads untrusted bytes: it refuses a number that runs past the input, is longer
// than ten bytes, overflows 64 bits, or is not in its shortest form (so every number has exactly
// one encoding and a decoded value re-encodes to the same bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace larder::detail {

/// Appends `v` to `out` as an unsigned LEB128 number.
inline void put_varint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

/// The number of bytes put_varint(v) appends.
constexpr std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

/// Reads an unsigned LEB128 number from the front of `in` into `v` and drops its bytes; false
/// (and `in` unchanged) if the bytes do not hold one in its shortest form (see the file comment).
inline bool take_varint(std::string_view& in, std::uint64_t& v) noexcept {
  std::uint64_t out = 0;
  for (std::size_t i = 0; i < in.size() && i < 10; ++i) {
    const auto b = static_cast<unsigned char>(in[i]);
    const std::uint64_t bits = b & 0x7f;
    if (i == 9 && bits > 1) return false;  // beyond 64 bits
    out |= bits << (7 * i);
    if ((b & 0x80) == 0) {
      if (i > 0 && b == 0) return false;  // a trailing zero group: not the shortest form
      in.remove_prefix(i + 1);
      v = out;
      return true;
    }
  }
  return false;
}

}  // namespace larder::detail
