// detail/value_store.h on its own: what a put stores (object or frame), its weight, how it comes
// back, the bytes a remote tier stores for it, and adopting a remote frame.
#include "larder/detail/value_store.h"

#include <larder/compression.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using Store = larder::detail::ValueStore<std::string, std::string>;

std::string doc(std::size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) s += "{\"id\":" + std::to_string(i) + ",\"on\":true},";
  s.resize(n);
  return s;
}

larder::Options<std::string, std::string> with(std::size_t min_size) {
  larder::Options<std::string, std::string> o;
  o.compression.min_size = min_size;
  return o;
}

struct Blob {
  std::string text;
};

}  // namespace

template <>
struct larder::Codec<Blob> {
  static void encode(const Blob& b, std::string& out) { out += b.text; }
  static larder::Result<Blob> decode(std::string_view in) { return Blob{std::string(in)}; }
};

TEST_CASE("value store: compresses byte-like values from min_size, keeps the rest as they are",
          "[value_store]") {
  Store s(with(64), "");
  auto small = s.prepare(std::string("short"));
  CHECK(!small.framed());
  auto big = s.prepare(doc(4096));
  REQUIRE(big.framed());
  CHECK(big.frame.size() < 4096);
  CHECK(s.materialize(std::move(big)) == doc(4096));
  CHECK(s.materialize(std::move(small)) == "short");
  std::string noise;
  for (int i = 0; i < 200; ++i) noise += static_cast<char>((i * 7919 + 13) % 251);
  CHECK(!s.prepare(std::string(noise)).framed());  // deflating saved too little: kept raw

  larder::Stats st;
  s.fill(st);
  CHECK(st.compressed == 1);
  CHECK(st.compression_skipped == 1);
  CHECK(st.bytes_before_compression == 4096);
  s.reset();
  s.fill(st);
  CHECK(st.compressed == 0);
}

TEST_CASE("value store: a frame's weight is what is stored, an object's what the weigher says",
          "[value_store]") {
  Store s(with(64), "");
  const std::string key = "k";
  auto big = s.prepare(doc(4096));
  REQUIRE(big.framed());
  CHECK(s.weight(key, big) == sizeof(std::string) + 1 + sizeof(std::string) + big.frame.size());
  auto small = s.prepare(std::string("abc"));
  CHECK(s.weight(key, small) == larder::default_weight(key, std::string("abc")));
  auto o = with(64);
  o.weigher = [](const std::string&, const std::string&) -> std::size_t { return 7; };
  Store weighed(o, "");
  CHECK(weighed.weight(key, weighed.prepare(std::string("abc"))) == 7);
}

TEST_CASE("value store: the remote bytes are the frame the slot holds, or a frame of the value",
          "[value_store]") {
  Store s(with(64), "");
  auto big = s.prepare(doc(4096));
  REQUIRE(big.framed());
  CHECK(s.remote_bytes(big, larder::kNoExpiry) == big.frame);  // no second deflate
  auto small = s.prepare(std::string("abc"));
  const larder::FrameTag str{larder::type_tag<std::string>(), 0};
  CHECK(s.remote_bytes(small, larder::kNoExpiry) == larder::frame_raw("abc", str));

  // The remote copy carries the value's type and the TTL it was written with; the slot's frame
  // is left as it was.
  for (const auto* p : {&big, &small}) {
    const auto h = larder::read_frame_header(s.remote_bytes(*p, std::chrono::milliseconds(2500)));
    REQUIRE(h);
    CHECK(h->tag.type == larder::type_tag<std::string>());
    CHECK(h->tag.ttl_ms == 2500);
  }
  CHECK(larder::read_frame_header(big.frame)->tag.ttl_ms == 0);
  CHECK(
      larder::read_frame_header(s.remote_bytes(small, std::chrono::microseconds(10)))->tag.ttl_ms ==
      1);  // under a millisecond still says "has a TTL"

  // A codec type the cache keeps as an object (encode off) is compressed for the remote tier.
  larder::Options<int, Blob> o;
  o.compression.min_size = 64;
  larder::detail::ValueStore<int, Blob> blobs(o, "");
  auto b = blobs.prepare(Blob{doc(4096)});
  CHECK(!b.framed());
  const std::string bytes = blobs.remote_bytes(b, larder::kNoExpiry);
  const auto h = larder::read_frame_header(bytes);
  REQUIRE(h);
  CHECK(h->encoding == larder::FrameEncoding::kZlib);
  CHECK(h->original_size == 4096);
  CHECK(larder::decode_framed<Blob>(bytes, 1 << 20).value().text == doc(4096));
}

TEST_CASE("value store: a compressed remote frame is adopted when the cache would compress it",
          "[value_store]") {
  const std::string d = doc(4096);
  const std::string level9 = larder::frame_zlib(d, 9);
  Store s(with(64), "");
  auto adopted = s.adopt(std::string(level9), d);
  REQUIRE(adopted.framed());
  CHECK(adopted.frame == level9);
  auto raw = s.adopt(larder::frame_raw(d), d);  // raw: compressed by this cache's settings
  REQUIRE(raw.framed());
  CHECK(raw.frame == larder::frame_zlib(d, 1, {larder::type_tag<std::string>(), 0}));
  Store off(with(0), "");
  auto object = off.adopt(std::string(level9), d);  // this cache keeps values raw
  REQUIRE(!object.framed());
  CHECK(*object.value == d);
  Store high(with(8192), "");
  CHECK(!high.adopt(std::string(level9), d).framed());  // below this cache's min_size
}

TEST_CASE("value store: values over max_value_size are refused naming the limit and the cache",
          "[value_store]") {
  auto o = with(64);
  o.compression.max_value_size = 100;
  Store s(o, " in cache \"docs\"");
  CHECK_THROWS_WITH(s.prepare(doc(200)),
                    Catch::Contains("Options.compression.max_value_size (100 bytes)") &&
                        Catch::Contains("in cache \"docs\""));
  auto small = s.prepare(std::string("x"));
  CHECK_NOTHROW(s.remote_bytes(small, larder::kNoExpiry));
}

TEST_CASE("frame header: encoding and original size, nullopt for what is not a frame",
          "[value_store]") {
  const auto h = larder::read_frame_header(larder::frame_raw("hello"));
  REQUIRE(h);
  CHECK(h->encoding == larder::FrameEncoding::kRaw);
  CHECK(h->original_size == 5);
  CHECK(!larder::read_frame_header("not a frame at all, no"));
  std::string bad = larder::frame_raw("hello");
  bad[4] = 9;  // unknown encoding
  CHECK(!larder::read_frame_header(bad));
}
