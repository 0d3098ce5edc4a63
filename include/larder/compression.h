// larder/compression.h — zlib compression of values and the frame format for stored bytes.
//
// Options::compression (a BasicCompressionOptions) keeps big values compressed: values
// whose bytes reach `min_size` are deflated with zlib at `level`, and kept compressed only when
// that saves at least `min_saving` of their size; everything else is stored as it is. Values above
// `max_value_size` are refused. Byte-like values (std::string, byte vectors) are compressed by
// default; other types with a larder::Codec only with `encode = true`. Compression saves memory
// for values whose bulk is on the heap (strings, vectors, structs holding them): an entry's slot
// always reserves sizeof(V), so a large fixed-size struct gains nothing from it.
//
// FRAME FORMAT (version 2). Compressed values in memory, and every value a remote tier stores,
// are frames. All integers little-endian.
//
//   offset  size  field
//   0       3     magic "LRD"
//   3       1     version = 2
//   4       1     encoding: 0 = raw (payload is the value), 1 = zlib (RFC 1950 stream)
//   5       3     reserved, zero
//   8       8     original length: the value's size in bytes
//   16      4     CRC-32 (zlib's crc32) of the original bytes
//   20      4     type tag: larder::type_tag<V>() of the value (larder/codec.h); 0 = untyped
//   24      8     TTL the value was written with, in milliseconds; 0 = none or not known
//   32      n     payload
//
// The type tag makes a read of the wrong type an error: decode_frame() given an expected tag
// refuses a frame of another (ErrorCode::kTypeMismatch), so a cache reading bytes another
// program (or an older build, with another shape of struct) wrote for another type sees a miss,
// never a garbage value. An untyped frame (tag 0), or an expected tag of 0, skips the check. The
// TTL lets a reader tell an entry's age from its remaining TTL (TieredCache::lookup).
// Version 1 frames (a 20-byte header: the fields above up to the CRC, then the payload; untyped,
// no TTL), written by larder before the type tag, are still read; they are no longer written.
//
// decode_frame() treats its input as untrusted: it refuses a declared length above the cap before
// allocating anything, refuses a declared length no zlib stream of that payload size could
// produce, inflates into a buffer of exactly the declared size (zlib never writes past it), and
// accepts only if the stream ended, the whole payload was consumed, the output is exactly the
// declared length, and the CRC matches. Every failure is an Error value. zlib streams are reused
// per thread (a fresh deflate state costs more than compressing 4 KiB).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "larder/codec.h"
#include "larder/errors.h"
#include "larder/result.h"

namespace larder {

namespace detail {

/// Never defined: a constant `.encode = true` for a value type without a larder::Codec calls it
/// during constant evaluation, and the compiler's error names it.
void compression_encode_needs_a_larder_Codec_for_this_value_type_specialize_larder_Codec_or_leave_encode_false();

/// Any type but U.
template <class T, class U>
concept OtherThan = !std::same_as<T, U>;
/// What decode_framed can produce: the bytes themselves, or a type with a Codec.
template <class V>
concept FrameDecodable = std::same_as<V, std::string> || Encodable<V>;

/// The type of Options<K, V>::compression.encode: converts to and from bool like a bool, except
/// for a value type V without a larder::Codec, where only a constant `false` is accepted, so
/// `.compression = {.encode = true}` on such a type fails to compile (there is no way to encode
/// it) instead of being silently ignored.
template <class V>
class EncodeFlag {
 public:
  constexpr EncodeFlag() noexcept = default;
  constexpr EncodeFlag(bool on) noexcept requires Encodable<V> : on_(on) {}
  consteval EncodeFlag(bool on) noexcept requires(!Encodable<V>) : on_(on) {
    if (on) {
      compression_encode_needs_a_larder_Codec_for_this_value_type_specialize_larder_Codec_or_leave_encode_false();
    }
  }
  constexpr operator bool() const noexcept { return on_; }

  /// From a value known only at run time (a copy of a plain CompressionOptions): for a type
  /// without a Codec, `true` throws larder::InvalidArgument naming the field.
  static EncodeFlag from(bool on) {
    EncodeFlag f;
    if (on && !Encodable<V>) {
      throw InvalidArgument(
          "larder: Options.compression.encode = true needs a larder::Codec for the value type "
          "(specialize larder::Codec<V>, see larder/codec.h, or leave encode false)");
    }
    f.on_ = on;
    return f;
  }

 private:
  bool on_ = false;
};

/// Throws larder::InvalidArgument naming the CompressionOptions field out of range.
void validate_compression(int level, double min_saving, std::size_t max_value_size);

}  // namespace detail

/// Settings for value compression. Every field says its default. `CompressionOptions` (a plain
/// bool `encode`) for frame functions and copies; Options<K, V>::compression is a
/// `BasicCompressionOptions<detail::EncodeFlag<V>>`, the same fields, converting both ways.
template <class Encode = bool>
struct BasicCompressionOptions {
  /// Compress values whose bytes number at least this. Default 1024. Zero: never compress.
  std::size_t min_size = 1024;
  /// zlib level, 1 (fastest) to 9 (smallest). Default 1: on JSON-like values it keeps most of
  /// level 6's saving at several times the speed (bench/README.md), and a cache put is on a
  /// request's path.
  int level = 1;
  /// Keep the compressed form only if it is at least this fraction smaller. Default 0.10.
  double min_saving = 0.10;
  /// Refuse values larger than this many bytes (larder::ValueTooLarge on put; a decode error for
  /// frames declaring more). Default 10 MiB.
  std::size_t max_value_size = std::size_t{10} << 20;
  /// Also store values that are not byte-like through larder::Codec<V> (and compress them as
  /// above); each get then decodes. Default false: such values are kept as objects. On a value
  /// type without a larder::Codec, `encode = true` does not compile (Options<K, V>) or throws
  /// larder::InvalidArgument (a plain CompressionOptions copied into its Options).
  Encode encode{};

  /// Throws larder::InvalidArgument naming the field out of range.
  void validate() const { detail::validate_compression(level, min_saving, max_value_size); }

  /// The same settings with another `encode` type (e.g. a CompressionOptions into
  /// Options<K, V>::compression, or back).
  template <detail::OtherThan<Encode> To>
  operator BasicCompressionOptions<To>() const {
    To flag{};
    if constexpr (std::same_as<To, bool>) {
      flag = static_cast<bool>(encode);
    } else {
      flag = To::from(static_cast<bool>(encode));
    }
    return {min_size, level, min_saving, max_value_size, flag};
  }
};

/// Compression settings with a plain bool `encode` (see BasicCompressionOptions).
using CompressionOptions = BasicCompressionOptions<>;

/// Size of the header of the frames written (version 2) in bytes.
inline constexpr std::size_t kFrameHeaderSize = 32;

/// Frame payload encodings.
enum class FrameEncoding : std::uint8_t { kRaw = 0, kZlib = 1 };

/// The header fields of a frame that describe its value rather than its bytes.
struct FrameTag {
  std::uint32_t type = 0;    ///< larder::type_tag<V>() of the value; 0: untyped
  std::uint64_t ttl_ms = 0;  ///< the TTL it was written with, in ms; 0: none or not known
};

/// A raw frame of `data` (no compression).
std::string frame_raw(std::string_view data, FrameTag tag = {});

/// A zlib frame of `data` at `level` (1-9), whatever its size.
std::string frame_zlib(std::string_view data, int level, FrameTag tag = {});

/// A zlib frame of `data` if `data` reaches options.min_size and the frame is at least
/// options.min_saving smaller than `data`; otherwise nullopt (store it raw).
std::optional<std::string> compress_frame(std::string_view data, const CompressionOptions& options,
                                          FrameTag tag = {});

/// The value inside `frame`, checked as described in the file comment; a typed frame whose tag
/// is not `expected_type` (when that is not 0) is an ErrorCode::kTypeMismatch error.
Result<std::string> decode_frame(std::string_view frame, std::size_t max_value_size,
                                 std::uint32_t expected_type = 0);

/// Whether `bytes` starts like a frame (magic, a version this build reads, room for its header);
/// cheap, not a validation.
bool looks_like_frame(std::string_view bytes) noexcept;

/// What a frame's header declares.
struct FrameHeader {
  FrameEncoding encoding;       ///< how the payload is stored
  std::uint64_t original_size;  ///< the value's size in bytes
  FrameTag tag{};               ///< type tag and TTL (zero in a version 1 frame)
  std::uint8_t version = 2;     ///< the frame's format version
};
/// The header of `frame` (nullopt if it does not start like a frame, or names an unknown
/// encoding). Cheap, and not a validation: only decode_frame checks the payload.
std::optional<FrameHeader> read_frame_header(std::string_view frame) noexcept;

/// Sets the TTL field of a version 2 frame in place (the header is not covered by the CRC);
/// false, changing nothing, for anything else.
bool set_frame_ttl(std::string& frame, std::uint64_t ttl_ms) noexcept;

/// The value of type V in `frame`: decode_frame (bounded by `max_value_size`, and refusing a
/// frame tagged with another type than V), then V's codec (std::string: the bytes themselves).
/// Every failure is an Error value.
template <detail::FrameDecodable V>
Result<V> decode_framed(std::string_view frame, std::size_t max_value_size) {
  Result<std::string> bytes = decode_frame(frame, max_value_size, type_tag<V>());
  if (!bytes) {
    if (bytes.error().code == ErrorCode::kTypeMismatch) {
      return Error{ErrorCode::kTypeMismatch, bytes.error().message + " (" + type_schema<V>() + ")"};
    }
    return bytes.error();
  }
  if constexpr (std::same_as<V, std::string>) {
    return *std::move(bytes);
  } else {
    return Codec<V>::decode(*bytes);
  }
}

}  // namespace larder
