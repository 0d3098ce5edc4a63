// zlib compression and the frame codec: see include/larder/compression.h.

#include "larder/compression.h"

#include <zlib.h>

#include <cstring>
#include <limits>
#include <string>

#include "larder/detail/format.h"

namespace larder {
namespace {

constexpr char kMagic[3] = {'L', 'R', 'D'};
constexpr std::uint8_t kVersion = 2;
constexpr std::uint8_t kVersion1 = 1;  // read, never written: no type tag or TTL, 20-byte header
constexpr std::size_t kV1HeaderSize = 20;
// zlib's deflate cannot expand data more than ~1032:1; anything declaring more than that per
// payload byte is not a real stream (plus slack for headers of tiny streams).
constexpr std::uint64_t kMaxZlibRatio = 1032;
constexpr std::uint64_t kZlibSlack = 64;

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  }
  return v;
}
std::uint32_t crc_of(std::string_view data) {
  return static_cast<std::uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}
std::string header(FrameEncoding enc, std::string_view original, std::size_t reserve,
                   FrameTag tag) {
  std::string out;
  out.reserve(kFrameHeaderSize + reserve);
  out.append(kMagic, 3);
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(enc));
  out.append(3, '\0');
  put_le(out, original.size(), 8);
  put_le(out, crc_of(original), 4);
  put_le(out, tag.type, 4);
  put_le(out, tag.ttl_ms, 8);
  return out;
}
/// The header size of a frame of `version` (1 or 2).
std::size_t header_size(std::uint8_t version) noexcept {
  return version == kVersion1 ? kV1HeaderSize : kFrameHeaderSize;
}
// zlib streams reused per thread: deflateInit/inflateInit allocate and clear hundreds of KiB
// (deflate's window and hash tables), which compress2/uncompress2 would redo on every call:
// measured, that was ~90% of a 4 KiB put. Reset is cheap.
class Deflater {
 public:
  ~Deflater() {
    if (level_ != 0) deflateEnd(&z_);
  }
  z_stream& stream(int level) {
    if (level_ != level) {
      if (level_ != 0) deflateEnd(&z_);
      z_ = z_stream{};
      if (deflateInit(&z_, level) != Z_OK) {
        level_ = 0;
        throw std::bad_alloc();
      }
      level_ = level;
    } else {
      deflateReset(&z_);
    }
    return z_;
  }

 private:
  z_stream z_{};
  int level_ = 0;  // 0: no stream yet
};

class Inflater {
 public:
  ~Inflater() {
    if (ready_) inflateEnd(&z_);
  }
  z_stream& stream() {
    if (!ready_) {
      z_ = z_stream{};
      if (inflateInit(&z_) != Z_OK) throw std::bad_alloc();
      ready_ = true;
    } else {
      inflateReset(&z_);
    }
    return z_;
  }

 private:
  z_stream z_{};
  bool ready_ = false;
};

thread_local Deflater t_deflater;
thread_local Inflater t_inflater;

std::string hex32(std::uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 28; i >= 0; i -= 4) s.push_back(kDigits[(v >> i) & 0xf]);
  return s;
}

Error error(ErrorCode code, std::string what) {
  return Error{code, "larder: frame " + std::string(to_string(code)) + ": " + std::move(what)};
}

}  // namespace

void detail::validate_compression(int level, double min_saving, std::size_t max_value_size) {
  if (level < 1 || level > 9) {
    throw InvalidArgument("larder: Options.compression.level must be 1..9 (got " +
                          std::to_string(level) + ")");
  }
  if (!(min_saving >= 0.0 && min_saving < 1.0)) {
    throw InvalidArgument("larder: Options.compression.min_saving must be in [0, 1) (got " +
                          std::to_string(min_saving) + ")");
  }
  if (max_value_size == 0) {
    throw InvalidArgument("larder: Options.compression.max_value_size must be positive");
  }
}

std::string frame_raw(std::string_view data, FrameTag tag) {
  std::string out = header(FrameEncoding::kRaw, data, data.size(), tag);
  out.append(data);
  return out;
}

std::string frame_zlib(std::string_view data, int level, FrameTag tag) {
  const uLong bound = compressBound(static_cast<uLong>(data.size()));
  std::string out = header(FrameEncoding::kZlib, data, bound, tag);
  out.resize(kFrameHeaderSize + bound);
  z_stream& z = t_deflater.stream(level);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data() + kFrameHeaderSize);
  z.avail_out = static_cast<uInt>(bound);
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::bad_alloc();  // cannot: out >= bound
  out.resize(kFrameHeaderSize + z.total_out);
  return out;
}

std::optional<std::string> compress_frame(std::string_view data, const CompressionOptions& options,
                                          FrameTag tag) {
  if (options.min_size == 0 || data.size() < options.min_size) return std::nullopt;
  std::string frame = frame_zlib(data, options.level, tag);
  const double limit = static_cast<double>(data.size()) * (1.0 - options.min_saving);
  if (static_cast<double>(frame.size()) > limit) return std::nullopt;
  return frame;
}

bool looks_like_frame(std::string_view bytes) noexcept {
  if (bytes.size() < kV1HeaderSize || std::memcmp(bytes.data(), kMagic, 3) != 0) return false;
  const auto version = static_cast<std::uint8_t>(bytes[3]);
  return (version == kVersion || version == kVersion1) && bytes.size() >= header_size(version);
}

std::optional<FrameHeader> read_frame_header(std::string_view frame) noexcept {
  if (!looks_like_frame(frame)) return std::nullopt;
  const auto enc = static_cast<std::uint8_t>(frame[4]);
  if (enc > static_cast<std::uint8_t>(FrameEncoding::kZlib)) return std::nullopt;
  FrameHeader h{static_cast<FrameEncoding>(enc), get_le(frame, 8, 8)};
  h.version = static_cast<std::uint8_t>(frame[3]);
  if (h.version == kVersion) {
    h.tag.type = static_cast<std::uint32_t>(get_le(frame, 20, 4));
    h.tag.ttl_ms = get_le(frame, 24, 8);
  }
  return h;
}

bool set_frame_ttl(std::string& frame, std::uint64_t ttl_ms) noexcept {
  if (!looks_like_frame(frame) || static_cast<std::uint8_t>(frame[3]) != kVersion) return false;
  for (int i = 0; i < 8; ++i) frame[24 + i] = static_cast<char>((ttl_ms >> (8 * i)) & 0xff);
  return true;
}

Result<std::string> decode_frame(std::string_view frame, std::size_t max_value_size,
                                 std::uint32_t expected_type) {
  if (frame.size() < kV1HeaderSize) {
    return error(ErrorCode::kTruncated, std::to_string(frame.size()) + " bytes, header needs " +
                                            std::to_string(kFrameHeaderSize));
  }
  if (std::memcmp(frame.data(), kMagic, 3) != 0) return error(ErrorCode::kBadMagic, "not LRD");
  const auto version = static_cast<std::uint8_t>(frame[3]);
  if (version != kVersion && version != kVersion1) {
    return error(ErrorCode::kBadVersion, "version " + std::to_string(version));
  }
  const std::size_t header_bytes = header_size(version);
  if (frame.size() < header_bytes) {
    return error(ErrorCode::kTruncated, std::to_string(frame.size()) + " bytes, header needs " +
                                            std::to_string(header_bytes));
  }
  const auto enc = static_cast<std::uint8_t>(frame[4]);
  if (enc > static_cast<std::uint8_t>(FrameEncoding::kZlib) || frame[5] || frame[6] || frame[7]) {
    return error(ErrorCode::kBadEncoding, "encoding byte " + std::to_string(enc));
  }
  if (version == kVersion && expected_type != 0) {
    const auto type = static_cast<std::uint32_t>(get_le(frame, 20, 4));
    if (type != 0 && type != expected_type) {
      return error(ErrorCode::kTypeMismatch,
                   "holds type tag " + hex32(type) + ", read as type tag " + hex32(expected_type));
    }
  }
  const std::uint64_t declared = get_le(frame, 8, 8);
  const auto crc = static_cast<std::uint32_t>(get_le(frame, 16, 4));
  const std::string_view payload = frame.substr(header_bytes);
  if (declared > max_value_size) {
    return error(ErrorCode::kTooLarge, "declares " + std::to_string(declared) +
                                           " bytes, above the cap of " +
                                           std::to_string(max_value_size));
  }
  std::string out;
  if (enc == static_cast<std::uint8_t>(FrameEncoding::kRaw)) {
    if (payload.size() != declared) {
      return error(ErrorCode::kLengthMismatch, "raw payload of " + std::to_string(payload.size()) +
                                                   " bytes, declared " + std::to_string(declared));
    }
    out.assign(payload);
  } else {
    if (declared > payload.size() * kMaxZlibRatio + kZlibSlack) {
      return error(ErrorCode::kCorrupt, "declares " + std::to_string(declared) + " bytes from a " +
                                            std::to_string(payload.size()) +
                                            "-byte zlib stream (impossible ratio)");
    }
    if (payload.size() > std::numeric_limits<uInt>::max() ||
        declared > std::numeric_limits<uInt>::max()) {
      return error(ErrorCode::kTooLarge, "sizes exceed zlib's range");
    }
    out.resize(declared);
    z_stream& z = t_inflater.stream();
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
    z.avail_in = static_cast<uInt>(payload.size());
    Bytef spare = 0;  // zlib wants a non-null output pointer even for an empty output
    z.next_out = declared ? reinterpret_cast<Bytef*>(out.data()) : &spare;
    z.avail_out = static_cast<uInt>(declared);
    const int rc = inflate(&z, Z_FINISH);  // never writes past avail_out
    const std::uint64_t produced = z.total_out;
    const std::uint64_t consumed = z.total_in;
    if (rc == Z_STREAM_END) {
      if (produced != declared) {
        return error(ErrorCode::kLengthMismatch, "produced " + std::to_string(produced) +
                                                     " bytes, declared " +
                                                     std::to_string(declared));
      }
      if (consumed != payload.size()) {
        return error(ErrorCode::kCorrupt, std::to_string(payload.size() - consumed) +
                                              " bytes after the end of the zlib stream");
      }
    } else if (rc == Z_BUF_ERROR && z.avail_out == 0 && produced == declared) {
      return error(ErrorCode::kLengthMismatch,
                   "stream expands beyond the declared " + std::to_string(declared) + " bytes");
    } else if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      return error(ErrorCode::kTruncated, "zlib stream ends early");
    } else {
      return error(ErrorCode::kCorrupt, "zlib error " + std::to_string(rc));
    }
  }
  if (crc_of(out) != crc) return error(ErrorCode::kChecksumMismatch, "CRC-32 differs");
  return out;
}

}  // namespace larder
