// larder/errors.h — the exceptions larder throws.
//
// larder throws only for caller errors it can name precisely; every message names the field or
// the limit involved and the offending value. When an operation throws, the cache is unchanged.
// (A user-supplied Hash must not throw: larder hashes on noexcept paths, so an exception from it
// ends the program. See larder::Cache.)
#pragma once

#include <stdexcept>
#include <string>

#include "larder/result.h"

namespace larder {

/// A bad option or argument: a negative TTL, an out-of-range shard count, ... The message names
/// the field, e.g. "larder: PutOptions.ttl must be positive or larder::kNoExpiry (got -1s)".
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A value whose weight exceeds what the cache may hold (Options::max_bytes). The put is refused
/// and whatever was cached under that key before stays cached.
class ValueTooLarge : public std::length_error {
 public:
  using std::length_error::length_error;
};

/// A loader waited, directly or through a chain of loads on other threads, for a load that its
/// own thread is performing: a deadlock, refused instead. Raised by Cache::get_or_load and
/// larder::cached when, e.g., fn(a) calls the same memoized function with `a` again.
class LoaderCycle : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// A refresh-ahead reload that was queued when the last copy of its memoized function went away,
/// and so never ran: what a caller waiting for that reload (another user of a shared cache) gets.
class Cancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a load waiting on a key gets when the get_all() that was loading it called a bulk loader
/// that returned no value for it (get_all itself reports such a key as absent).
class NotLoaded : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A remote-tier failure, thrown only by a TieredCache in strict mode (TieredOptions::strict);
/// otherwise such failures are counted and the in-process tier serves alone.
class RemoteError : public std::runtime_error {
 public:
  explicit RemoteError(const Error& e) : std::runtime_error(e.message), code_(e.code) {}
  /// What kind of failure (kTimeout, kConnection, ..., kBreakerOpen, kAuth, ...).
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace larder
