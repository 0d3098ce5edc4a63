// larder/detail/value_store.h — how a value becomes what a slot holds, what it weighs, how it
// comes back, and the bytes a remote tier stores for it. One path for Cache and TieredCache.
//
// A put's value becomes a Payload (slot_pool.h): the value itself, or a frame (compression.h)
// when the cache keeps it compressed: a byte-like V (std::string, byte vectors) whose bytes reach
// compression.min_size, or a V with a Codec under compression.encode, and only if deflating saved
// compression.min_saving. Everything here runs outside shard locks: compressing before the
// critical section, decompressing after the copy out of it.
//
// The remote tier stores frames too (TieredCache). remote_bytes() gives a prepared value's frame:
// the compressed frame the slot will hold, as it is, when there is one (no second deflate), else
// the codec bytes in a frame of their own (compressed per the same settings when L1 keeps the
// value as an object, raw when L1 already tried and kept it raw). adopt() goes the other way for
// a frame read from the remote tier: a compressed frame this cache would keep compressed becomes
// the payload as it is (no inflate-then-deflate); any other is prepared from the decoded value.
//
// Counters (compressed, skipped, bytes before/after, decode errors) are relaxed atomics: stats,
// not synchronization.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "larder/codec.h"
#include "larder/compression.h"
#include "larder/detail/slot_pool.h"
#include "larder/errors.h"
#include "larder/options.h"
#include "larder/stats.h"

namespace larder::detail {

template <class K, class V>
class ValueStore {
 public:
  using PayloadT = Payload<V>;
  /// Whether entries of V can be stored compressed (see kFrameStorage).
  static constexpr bool kFrames = kFrameStorage<V>;

  /// `label` ends error messages (e.g. ` in cache "users"`, or empty).
  ValueStore(const Options<K, V>& o, std::string label)
      : compression_(o.compression), weigher_(o.weigher), label_(std::move(label)) {}

  const CompressionOptions& compression() const noexcept { return compression_; }

  /// What a put stores for `value`: a frame when the settings say to keep it compressed, else
  /// the value itself. Throws ValueTooLarge above compression.max_value_size (byte-like values
  /// and encoded ones: the sizes it sees).
  PayloadT prepare(V&& value) {
    PayloadT p;
    if constexpr (kFrames) {
      if constexpr (kByteLike<V>) {
        if (try_compress(bytes_of(value), p)) return p;
      } else if (compression_.encode) {
        const std::string bytes = encode(value);
        if (try_compress(bytes, p)) return p;
      }
    }
    p.value.emplace(std::move(value));
    return p;
  }

  /// The value a read copied out: as is, or decoded. A frame that does not decode counts as a
  /// decode error and reads as a miss (nullopt).
  std::optional<V> materialize(PayloadT&& p) const {
    if (!p.framed()) return std::move(p.value);
    if constexpr (kFrames) {
      return decode(p.frame);
    } else {
      return std::nullopt;
    }
  }

  /// The value in `frame`, or nullopt (a decode error, counted).
  std::optional<V> decode(const std::string& frame) const {
    if constexpr (std::same_as<V, std::string> || Encodable<V>) {
      if (Result<V> v = decode_framed<V>(frame, compression_.max_value_size)) {
        return *std::move(v);
      }
    }
    counters_.decode_errors.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }

  /// Weight of an entry: the weigher (or the default weigher) on the value; for a compressed one,
  /// the default weigher applied to what is stored (the frame).
  std::size_t weight(const K& key, const PayloadT& p) const {
    if constexpr (kFrames) {
      if (p.framed()) return sizeof(K) + dynamic_size(key) + sizeof(V) + p.frame.size();
    }
    return weigher_ ? weigher_(key, *p.value) : default_weight(key, *p.value);
  }

  /// The frame a remote tier stores for a value prepared as `p` and written with `ttl` (kept in
  /// the frame, see larder/compression.h; see also the file comment). Throws ValueTooLarge when
  /// the value's bytes exceed compression.max_value_size.
  std::string remote_bytes(const PayloadT& p, Duration ttl) const {  // (V has a Codec)
    std::string frame = remote_frame(p);
    set_frame_ttl(frame, ttl_ms(ttl));
    return frame;
  }

  /// `ttl` as a frame keeps it: whole milliseconds, at least 1; 0 for none.
  static std::uint64_t ttl_ms(Duration ttl) noexcept {
    if (ttl == kNoExpiry || ttl.count() <= 0) return 0;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
    return ms > 0 ? static_cast<std::uint64_t>(ms) : 1;
  }

 private:
  std::string remote_frame(const PayloadT& p) const {
    if constexpr (kFrames) {
      if (p.framed()) return p.frame;
    }
    if constexpr (kByteLike<V>) {
      const std::string_view bytes = bytes_of(*p.value);
      check_size(bytes.size());
      return frame_raw(bytes, tag());  // prepare() kept it raw: too small, or saved too little
    } else {
      const std::string bytes = encode(*p.value);
      check_size(bytes.size());
      if (!kFrames || !compression_.encode) {  // L1 keeps the object: compress for the remote tier
        if (std::optional<std::string> f = compress_frame(bytes, compression_, tag())) return *f;
      }
      return frame_raw(bytes, tag());
    }
  }

 public:
  /// The payload for `value`, read from a remote tier as `frame` (which decoded to it): the frame
  /// itself when it is compressed and prepare() would have kept this value compressed, else
  /// prepare(V(value)).
  PayloadT adopt(std::string&& frame, const V& value) {
    if constexpr (kFrames) {
      if (would_compress()) {
        const std::optional<FrameHeader> h = read_frame_header(frame);
        if (h && h->encoding == FrameEncoding::kZlib && h->original_size >= compression_.min_size &&
            h->original_size <= compression_.max_value_size &&
            static_cast<double>(frame.size()) <=
                static_cast<double>(h->original_size) * (1.0 - compression_.min_saving)) {
          count_compressed(h->original_size, frame.size());
          PayloadT p;
          p.frame = std::move(frame);
          return p;
        }
      }
    }
    return prepare(V(value));
  }

  /// Adds the counters to `st`.
  void fill(Stats& st) const {
    st.compressed = counters_.compressed.load(std::memory_order_relaxed);
    st.compression_skipped = counters_.skipped.load(std::memory_order_relaxed);
    st.bytes_before_compression = counters_.bytes_before.load(std::memory_order_relaxed);
    st.bytes_after_compression = counters_.bytes_after.load(std::memory_order_relaxed);
    st.decode_errors = counters_.decode_errors.load(std::memory_order_relaxed);
  }
  void reset() noexcept {
    for (auto* c : {&counters_.compressed, &counters_.skipped, &counters_.bytes_before,
                    &counters_.bytes_after, &counters_.decode_errors}) {
      c->store(0, std::memory_order_relaxed);
    }
  }

 private:
  static std::string_view bytes_of(const V& value) noexcept {  // (kByteLike<V> only)
    return {reinterpret_cast<const char*>(value.data()), value.size() * sizeof(*value.data())};
  }
  /// The tag of this store's frames: V's type, no TTL (TieredCache stamps the TTL on L2's copy).
  static FrameTag tag() { return {type_tag<V>(), 0}; }
  /// Whether prepare() compresses values of this type that reach min_size.
  bool would_compress() const noexcept {
    if (compression_.min_size == 0) return false;
    if constexpr (kByteLike<V>) {
      return true;
    } else {
      return compression_.encode;
    }
  }
  void check_size(std::size_t n) const {
    if (n > compression_.max_value_size) [[unlikely]] {
      throw ValueTooLarge("larder: value of " + std::to_string(n) +
                          " bytes exceeds Options.compression.max_value_size (" +
                          std::to_string(compression_.max_value_size) + " bytes)" + label_);
    }
  }
  bool try_compress(std::string_view bytes, PayloadT& p) {
    check_size(bytes.size());
    if (compression_.min_size == 0 || bytes.size() < compression_.min_size) return false;
    std::optional<std::string> frame = compress_frame(bytes, compression_, tag());
    if (!frame) {
      counters_.skipped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    count_compressed(bytes.size(), frame->size());
    p.frame = *std::move(frame);
    return true;
  }
  void count_compressed(std::size_t before, std::size_t after) noexcept {
    counters_.compressed.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes_before.fetch_add(before, std::memory_order_relaxed);
    counters_.bytes_after.fetch_add(after, std::memory_order_relaxed);
  }

  struct Counters {
    std::atomic<std::uint64_t> compressed{0}, skipped{0}, bytes_before{0}, bytes_after{0},
        decode_errors{0};
  };

  const CompressionOptions compression_;
  const std::function<std::size_t(const K&, const V&)> weigher_;
  const std::string label_;
  mutable Counters counters_;
};

}  // namespace larder::detail
