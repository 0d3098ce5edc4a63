// larder/json_codec.h — `larder::JsonCodec<T>`: values stored as JSON text, through nlohmann/json,
// for a remote tier whose values people (redis-cli, other languages) should be able to read.
//
//   #include <larder/json_codec.h>
//   struct User { std::uint64_t id; std::string name; std::vector<std::string> roles; };
//   NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, id, name, roles)      // nlohmann's to_json/from_json
//   template <> struct larder::Codec<User> : larder::JsonCodec<User> {};
//
//   // redis-cli GET users:u:1  ->  "LRD\x02..." + {"id":1,"name":"Ada","roles":["admin"]}
//
// Any T nlohmann/json converts (its to_json/from_json, or the types it knows: strings, numbers,
// standard containers) works. The bytes are the compact dump() of the JSON value, UTF-8; in a
// remote tier they sit inside larder's frame (larder/compression.h), which adds a 32-byte header
// (and zlib, when compression applies), so a reader in another language skips the header, or
// turns compression off for readable values. The type tag of a JsonCodec type is its C++ name,
// as for any hand-written Codec without a type_name (larder/codec.h, TYPE TAGS).
//
// decode() gets untrusted bytes: malformed JSON, or JSON that does not convert to T (a missing
// field, a wrong type), is an ErrorCode::kInvalidValue error naming what nlohmann reported;
// nothing throws. The binary codecs (larder/codec.h) are smaller and faster; this one is for
// readability.
//
// Dependency: nlohmann/json 3.2 or later (Debian: nlohmann-json3-dev), header-only. larder's
// libraries do not need it: only a program including this header does (CMake:
// find_package(nlohmann_json) and link nlohmann_json::nlohmann_json).
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "larder/json_codec.h needs nlohmann/json (Debian: apt-get install nlohmann-json3-dev)"
#endif

#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "larder/codec.h"
#include "larder/result.h"

namespace larder {

/// A Codec through nlohmann/json: derive larder::Codec<T> from it (see the file comment).
template <class T>
struct JsonCodec {
  /// Appends the compact JSON text of `value` to `out`.
  static void encode(const T& value, std::string& out) {
    out += nlohmann::json(value).dump(-1, ' ', /*ensure_ascii=*/false,
                                      nlohmann::json::error_handler_t::replace);
  }
  /// The T in the JSON text `bytes`, or an ErrorCode::kInvalidValue error.
  static Result<T> decode(std::string_view bytes) {
    nlohmann::json j = nlohmann::json::parse(bytes, /*cb=*/nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return Error{ErrorCode::kInvalidValue, "larder: JsonCodec: not valid JSON (" +
                                                 std::to_string(bytes.size()) + " bytes)"};
    }
    try {
      return j.template get<T>();
    } catch (const std::exception& e) {  // nlohmann's, or a from_json's own
      return Error{ErrorCode::kInvalidValue,
                   std::string("larder: JsonCodec: the JSON is no value of the type: ") + e.what()};
    }
  }
};

}  // namespace larder
