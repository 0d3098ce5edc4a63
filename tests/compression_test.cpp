// larder/compression.h and compressed values in Cache: thresholds, incompressible data, the
// size cap, frames that are truncated / corrupted / lying about their size, stats.
#include "larder/compression.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "larder/cache.h"
#include "larder/memoize.h"
#include "test_util.h"

using namespace std::chrono_literals;
using larder::ErrorCode;

namespace {

// JSON-like text: compresses well.
std::string json_like(std::size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) {
    s += R"({"id":)" + std::to_string(i) + R"(,"name":"user)" + std::to_string(i % 97) +
         R"(","active":true,"tags":["a","b"]},)";
  }
  s.resize(n);
  return s;
}
using larder_test::random_bytes;
ErrorCode decode_error(std::string_view frame, std::size_t cap = 10 << 20) {
  larder::Result<std::string> r = larder::decode_frame(frame, cap);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  return r.error().code;
}

struct Doc {
  std::string body;
  int version = 0;
  bool operator==(const Doc&) const = default;
};

}  // namespace

template <>
struct larder::Codec<Doc> {
  static void encode(const Doc& d, std::string& out) {
    larder::encode_to(d.version, out);
    out += d.body;
  }
  static larder::Result<Doc> decode(std::string_view b) {
    auto v = larder::decode<int>(b.substr(0, std::min<std::size_t>(b.size(), 4)));
    if (!v) return v.error();
    return Doc{std::string(b.substr(4)), *v};
  }
};

TEST_CASE("frames round-trip, raw and zlib", "[compression]") {
  for (const std::string& v :
       {std::string(), std::string("x"), json_like(5000), random_bytes(3000)}) {
    auto raw = larder::decode_frame(larder::frame_raw(v), 1 << 20);
    REQUIRE(raw.ok());
    CHECK(*raw == v);
    for (int level : {1, 6, 9}) {
      auto z = larder::decode_frame(larder::frame_zlib(v, level), 1 << 20);
      REQUIRE(z.ok());
      CHECK(*z == v);
    }
  }
  CHECK(larder::looks_like_frame(larder::frame_raw("abc")));
  CHECK_FALSE(larder::looks_like_frame("abc"));
}

TEST_CASE("compress_frame: threshold and minimum saving", "[compression]") {
  const larder::CompressionOptions o;  // min_size 1024, min_saving 10%
  CHECK_FALSE(larder::compress_frame(json_like(1023), o));
  auto f = larder::compress_frame(json_like(1024), o);
  REQUIRE(f);
  CHECK(f->size() < 1024 * 0.9);
  CHECK_FALSE(larder::compress_frame(random_bytes(4096), o));  // incompressible: keep raw
  CHECK_FALSE(larder::compress_frame(json_like(4096), {.min_size = 0}));  // 0: never
  CHECK_FALSE(larder::compress_frame(json_like(4096), {.min_saving = 0.99}));
}

TEST_CASE("corrupted, truncated and lying frames are errors", "[compression][decode]") {
  const std::string value = json_like(8000);
  const std::string z = larder::frame_zlib(value, 1);
  const std::string raw = larder::frame_raw(value);

  CHECK(decode_error("") == ErrorCode::kTruncated);
  CHECK(decode_error(z.substr(0, 19)) == ErrorCode::kTruncated);
  std::string bad = z;
  bad[0] = 'X';
  CHECK(decode_error(bad) == ErrorCode::kBadMagic);
  bad = z;
  bad[3] = 3;
  CHECK(decode_error(bad) == ErrorCode::kBadVersion);
  CHECK(decode_error(z.substr(0, larder::kFrameHeaderSize - 1)) == ErrorCode::kTruncated);
  bad = z;
  bad[4] = 9;
  CHECK(decode_error(bad) == ErrorCode::kBadEncoding);
  bad = z;
  bad[6] = 1;  // reserved byte
  CHECK(decode_error(bad) == ErrorCode::kBadEncoding);

  // zlib payload cut short, flipped, or followed by junk.
  CHECK(decode_error(z.substr(0, z.size() - 10)) == ErrorCode::kTruncated);
  bad = z;
  for (std::size_t i = 40; i < 70; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  const ErrorCode flipped = decode_error(bad);
  CHECK((flipped == ErrorCode::kCorrupt || flipped == ErrorCode::kChecksumMismatch ||
         flipped == ErrorCode::kLengthMismatch || flipped == ErrorCode::kTruncated));
  CHECK(decode_error(z + "junk") == ErrorCode::kCorrupt);

  // Raw payload: length and checksum.
  CHECK(decode_error(raw.substr(0, raw.size() - 1)) == ErrorCode::kLengthMismatch);
  bad = raw;
  bad[100] = static_cast<char>(bad[100] ^ 1);
  CHECK(decode_error(bad) == ErrorCode::kChecksumMismatch);
}

// The version 1 form of a version 2 frame: the header up to the CRC, then the payload.
std::string as_version1(const std::string& frame) {
  std::string v1 = frame.substr(0, 20) + frame.substr(larder::kFrameHeaderSize);
  v1[3] = 1;
  return v1;
}

TEST_CASE("typed frames: a read as another type is a type mismatch, untyped frames read as any",
          "[compression][decode]") {
  const std::string value = json_like(3000);
  for (const std::string& f : {larder::frame_raw(value, {.type = 0x1234, .ttl_ms = 5000}),
                               larder::frame_zlib(value, 1, {.type = 0x1234, .ttl_ms = 5000})}) {
    const auto h = larder::read_frame_header(f);
    REQUIRE(h);
    CHECK(h->version == 2);
    CHECK(h->tag.type == 0x1234);
    CHECK(h->tag.ttl_ms == 5000);
    CHECK(larder::decode_frame(f, 1 << 20, 0x1234).value() == value);
    CHECK(larder::decode_frame(f, 1 << 20).value() == value);  // 0: no check
    const auto wrong = larder::decode_frame(f, 1 << 20, 0x9999);
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.error().code == ErrorCode::kTypeMismatch);
    CHECK_THAT(wrong.error().message,
               Catch::Contains("holds type tag 0x00001234, read as type tag 0x00009999"));
    std::string stamped = f;
    REQUIRE(larder::set_frame_ttl(stamped, 42));
    CHECK(larder::read_frame_header(stamped)->tag.ttl_ms == 42);
    CHECK(larder::decode_frame(stamped, 1 << 20, 0x1234).value() == value);  // CRC untouched
  }
  const std::string untyped = larder::frame_raw(value);
  CHECK(larder::decode_frame(untyped, 1 << 20, 0x9999).value() == value);
}

TEST_CASE("version 1 frames (no type tag, no TTL) are still read", "[compression][decode]") {
  const std::string value = json_like(3000);
  for (const std::string& f : {as_version1(larder::frame_raw(value, {.type = 7})),
                               as_version1(larder::frame_zlib(value, 1, {.type = 7}))}) {
    CHECK(larder::looks_like_frame(f));
    const auto h = larder::read_frame_header(f);
    REQUIRE(h);
    CHECK(h->version == 1);
    CHECK(h->tag.type == 0);
    CHECK(larder::decode_frame(f, 1 << 20, 0x9999).value() == value);  // untyped: any type
    std::string stamped = f;
    CHECK_FALSE(larder::set_frame_ttl(stamped, 42));  // no TTL field: left alone
    CHECK(stamped == f);
  }
  CHECK(decode_error(as_version1(larder::frame_raw(value)).substr(0, 19)) == ErrorCode::kTruncated);
}

// Rewrites the declared length of a frame.
std::string with_declared(std::string frame, std::uint64_t declared) {
  for (int i = 0; i < 8; ++i) frame[8 + i] = static_cast<char>((declared >> (8 * i)) & 0xff);
  return frame;
}

TEST_CASE("size lies and bombs fail before allocating beyond the cap", "[compression][decode]") {
  // A 1 MiB frame declaring 1 GiB: refused on the header, before any allocation.
  const std::string mib = larder::frame_raw(random_bytes(1 << 20));
  CHECK(decode_error(with_declared(mib, std::uint64_t{1} << 30)) == ErrorCode::kTooLarge);
  // Above the configured cap even when true.
  CHECK(decode_error(larder::frame_zlib(json_like(5000), 1), 4000) == ErrorCode::kTooLarge);
  // A zlib stream of 8 MiB of zeros (~8 KiB) declaring 1 MiB: stops at 1 MiB, refused.
  const std::string zeros = larder::frame_zlib(std::string(8 << 20, '\0'), 9);
  CHECK(zeros.size() < 64 * 1024);
  CHECK(decode_error(with_declared(zeros, 1 << 20), 16 << 20) == ErrorCode::kLengthMismatch);
  // Declaring more than the stream holds.
  CHECK(decode_error(with_declared(zeros, (8 << 20) + 1), 16 << 20) == ErrorCode::kLengthMismatch);
  // Declaring more than any zlib stream of that size could produce.
  const std::string small = larder::frame_zlib("abc", 1);
  CHECK(decode_error(with_declared(small, 5 << 20)) == ErrorCode::kCorrupt);
}

TEST_CASE("a string cache compresses big values and returns them intact", "[compression][cache]") {
  larder::Cache<std::string, std::string> c({.background_cleanup = 0s});
  const std::string small = json_like(1023), big = json_like(1024), huge = json_like(100'000);
  const std::string noise = random_bytes(4096);
  c.put("small", small);
  CHECK(c.stats().compressed == 0);
  c.put("big", big);
  c.put("huge", huge);
  c.put("noise", noise);
  const larder::Stats s = c.stats();
  CHECK(s.compressed == 2);
  CHECK(s.compression_skipped == 1);
  CHECK(s.bytes_before_compression == 1024 + 100'000);
  CHECK(s.bytes_after_compression < (1024 + 100'000) / 4);
  CHECK(s.compression_ratio() < 0.25);
  CHECK(c.get("small") == small);
  CHECK(c.get("big") == big);
  CHECK(c.get("huge") == huge);
  CHECK(c.peek("huge") == huge);
  CHECK(c.lookup("huge").value == huge);
  CHECK(c.get("noise") == noise);
  // bytes() counts what is stored: the compressed sizes.
  CHECK(c.bytes() < small.size() + noise.size() + 30'000);
  CHECK(c.bytes() > small.size() + noise.size());
  CHECK(c.stats().decode_errors == 0);
}

TEST_CASE("max_bytes counts compressed sizes", "[compression][cache]") {
  larder::Cache<int, std::string> c({.max_bytes = 50'000, .background_cleanup = 0s});
  for (int i = 0; i < 20; ++i) c.put(i, json_like(20'000));  // 400 KB raw
  CHECK(c.size() == 20);                                     // each stored in well under 2.5 KB
  CHECK(c.bytes() <= 50'000);
  for (int i = 0; i < 20; ++i) CHECK(c.get(i)->size() == 20'000);
}

TEST_CASE("values above max_value_size are refused and nothing is lost", "[compression][cache]") {
  larder::Cache<std::string, std::string> c(
      {.name = "blobs", .background_cleanup = 0s, .compression = {.max_value_size = 4096}});
  c.put("k", "old");
  CHECK_THROWS_AS(c.put("k", std::string(4097, 'a')), larder::ValueTooLarge);
  CHECK_THROWS_WITH(c.put("k", std::string(4097, 'a')),
                    Catch::Matchers::Contains("4097 bytes") &&
                        Catch::Matchers::Contains("max_value_size (4096 bytes)") &&
                        Catch::Matchers::Contains("blobs"));
  CHECK(c.get("k") == "old");
  CHECK_NOTHROW(c.put("k", std::string(4096, 'a')));
  // Default cap: 10 MiB.
  larder::Cache<int, std::string> d({.background_cleanup = 0s});
  CHECK_THROWS_AS(d.put(1, std::string((10 << 20) + 1, 'a')), larder::ValueTooLarge);
}

TEST_CASE("byte vectors and encoded structs are compressed too", "[compression][cache]") {
  larder::Cache<int, std::vector<std::byte>> bytes({.background_cleanup = 0s});
  const std::string text = json_like(3000);
  std::vector<std::byte> blob(text.size());
  std::memcpy(blob.data(), text.data(), text.size());
  bytes.put(1, blob);
  CHECK(bytes.stats().compressed == 1);
  CHECK(bytes.get(1) == blob);

  // A struct whose bulk is on the heap, with a codec: stored encoded and compressed.
  larder::Cache<int, Doc> off({.background_cleanup = 0s});
  off.put(1, Doc{text, 3});
  CHECK(off.stats().compressed == 0);  // not byte-like: only with encode = true
  larder::Cache<int, Doc> on({.background_cleanup = 0s, .compression = {.encode = true}});
  on.put(1, Doc{text, 3});
  CHECK(on.stats().compressed == 1);
  CHECK(on.get(1) == Doc{text, 3});
  CHECK(on.bytes() < text.size() / 2);
}

TEST_CASE("listeners, erase_if and the memoizer see decompressed values", "[compression][cache]") {
  std::vector<std::string> removed;
  larder::Cache<int, std::string> c(
      {.max_entries = 1,
       .on_removal = [&](const int&, const std::string& v,
                         larder::RemovalCause) { removed.push_back(v); },
       .background_cleanup = 0s});
  const std::string a = json_like(5000), b = json_like(6000);
  c.put(1, a);
  c.put(2, b);  // evicts 1
  REQUIRE(removed.size() == 1);
  CHECK(removed[0] == a);
  CHECK(c.erase_if([&](const int&, const std::string& v) { return v == b; }) == 1);
  CHECK(removed.size() == 2);
  CHECK(removed[1] == b);

  // erase_prefix matches on keys alone; listeners still get the decompressed values.
  larder::Cache<std::string, std::string> pages(
      {.on_removal = [&](const std::string&, const std::string& v,
                         larder::RemovalCause) { removed.push_back(v); },
       .background_cleanup = 0s});
  pages.put("p:1", a);
  pages.put("p:2", b);
  pages.put("q:1", a);
  CHECK(pages.stats().compressed == 3);
  CHECK(pages.erase_prefix("p:") == 2);
  CHECK(removed.size() == 4);
  CHECK(pages.get("q:1") == a);
  CHECK(pages.stats().decode_errors == 0);

  int calls = 0;
  auto f = larder::cached([&](int n) { return ++calls, json_like(n); },
                          {.ttl = 1min, .background_cleanup = 0s});
  CHECK(f(4000) == json_like(4000));
  CHECK(f(4000) == json_like(4000));
  CHECK(calls == 1);
  CHECK(f.cache().stats().compressed == 1);
}

TEST_CASE("compression options are validated", "[compression][options]") {
  using C = larder::Cache<int, std::string>;
  CHECK_THROWS_WITH(C({.compression = {.level = 0}}),
                    Catch::Matchers::Contains("Options.compression.level"));
  CHECK_THROWS_WITH(C({.compression = {.min_saving = 1.0}}),
                    Catch::Matchers::Contains("Options.compression.min_saving"));
  CHECK_THROWS_WITH(C({.compression = {.max_value_size = 0}}),
                    Catch::Matchers::Contains("Options.compression.max_value_size"));
}

TEST_CASE("encode is a run-time choice for types with a codec, refused for types without",
          "[compression][options]") {
  // A Codec type takes the flag from a value known only at run time (a config file, say).
  const larder::CompressionOptions from_config{.min_size = 100, .encode = true};
  larder::Options<int, Doc> opts;
  opts.background_cleanup = 0s;
  opts.compression = from_config;
  CHECK(opts.compression.encode);
  CHECK(opts.compression.min_size == 100);
  larder::Cache<int, Doc> c(std::move(opts));
  c.put(1, Doc{json_like(3000), 1});
  CHECK(c.stats().compressed == 1);
  const larder::CompressionOptions back = c.options().compression;
  CHECK(back.encode);

  // A type without one: a constant `.encode = true` does not compile
  // (tests/compile_fail/encode_without_codec.cpp); copying a plain CompressionOptions that says
  // true is refused with the field's name, and false is accepted.
  struct NoCodec {
    std::string s;
  };
  larder::Options<int, NoCodec> none;
  CHECK_THROWS_WITH(none.compression = from_config,
                    Catch::Matchers::Contains("Options.compression.encode"));
  CHECK_FALSE(none.compression.encode);
  none.compression = larder::CompressionOptions{.min_size = 7};
  CHECK(none.compression.min_size == 7);
}
