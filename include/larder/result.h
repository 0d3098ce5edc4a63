// larder/result.h — `larder::Result<T>`: a value or an `larder::Error`, for operations whose
// failure is an expected outcome (decoding untrusted bytes, remote I/O) rather than a bug.
//
//   larder::Result<std::string> r = larder::decode_frame(bytes, 10 << 20);
//   if (!r) log(r.error().message);   // r.error().code says which kind of failure
//   else use(*r);
//
// larder's own type, so that no third-party type (absl::StatusOr) appears in a public signature.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace larder {

/// Kinds of failure. Decoding kinds first; the remote tier adds its own.
enum class ErrorCode {
  kTruncated,         ///< fewer bytes than the format requires
  kBadMagic,          ///< not a larder frame
  kBadVersion,        ///< a frame version this build does not read
  kBadEncoding,       ///< unknown payload encoding
  kTooLarge,          ///< declared or actual size above the configured cap
  kCorrupt,           ///< the payload does not decompress / decode
  kLengthMismatch,    ///< decompressed size differs from the declared size
  kChecksumMismatch,  ///< the decoded bytes do not match the frame's checksum
  kInvalidValue,      ///< bytes that do not form a value of the requested type
  // Remote tier (larder/backend.h). Only the first three count as failures for a circuit breaker.
  kTimeout,      ///< the command (or connect) did not complete within its timeout
  kConnection,   ///< could not connect, or the connection broke (reset, EOF, SIGPIPE)
  kPoolTimeout,  ///< no pooled connection became free within the pool wait timeout
  kBreakerOpen,  ///< the circuit breaker is open: the call was not attempted
  kAuth,         ///< authentication or permission refused (wrong password, NOPERM, ...)
  kProtocol,     ///< the server's reply was not what the protocol promises
  kServer,       ///< the server answered with an error (OOM, READONLY, WRONGTYPE, ...)
  // Decoding again (appended: the values above are stable).
  kTypeMismatch,  ///< a typed frame holds a value of another type than the one asked for
};

/// "truncated", "bad magic", ...
constexpr std::string_view to_string(ErrorCode c) noexcept {
  switch (c) {
    case ErrorCode::kTruncated:
      return "truncated";
    case ErrorCode::kBadMagic:
      return "bad magic";
    case ErrorCode::kBadVersion:
      return "bad version";
    case ErrorCode::kBadEncoding:
      return "bad encoding";
    case ErrorCode::kTooLarge:
      return "too large";
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kLengthMismatch:
      return "length mismatch";
    case ErrorCode::kChecksumMismatch:
      return "checksum mismatch";
    case ErrorCode::kInvalidValue:
      return "invalid value";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kConnection:
      return "connection";
    case ErrorCode::kPoolTimeout:
      return "pool timeout";
    case ErrorCode::kBreakerOpen:
      return "breaker open";
    case ErrorCode::kAuth:
      return "auth";
    case ErrorCode::kProtocol:
      return "protocol";
    case ErrorCode::kServer:
      return "server";
    case ErrorCode::kTypeMismatch:
      return "type mismatch";
  }
  return "unknown";
}

/// What went wrong: a code to branch on and a message for people.
struct Error {
  ErrorCode code;
  std::string message;
};

/// Number of ErrorCode values (for per-kind counters).
inline constexpr std::size_t kErrorCodeCount =
    static_cast<std::size_t>(ErrorCode::kTypeMismatch) + 1;

/// A T or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value; only when ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; only when !ok().
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Success or an Error, for operations with no value (Backend::set, ...).
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  /// The error; only when !ok().
  const Error& error() const { return error_; }

 private:
  Error error_{};
  bool ok_ = true;
};

}  // namespace larder
