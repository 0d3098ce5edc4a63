// Codecs for your own types, and compressed values: a struct made codable in one line and kept
// encoded + zlib-compressed (Options::compression.encode), a hand-written codec, a string cache
// compressing big JSON on its own, and what happens to bytes that were tampered with or written
// for another type.
#include <larder/cache.h>
#include <larder/codec.h>
#include <larder/compression.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

// A struct is codable in one line: list its members (each of a codable type: strings, numbers,
// enums, the standard containers, other listed structs, types with their own Codec).
struct Profile {
  std::string name;
  std::vector<std::string> interests;
  std::uint32_t visits = 0;
  std::map<std::string, std::vector<float>> embeddings;
};
template <>
struct larder::Fields<Profile>
    : larder::Members<&Profile::name, &Profile::interests, &Profile::visits, &Profile::embeddings> {
};

// A type whose bytes need rules of their own gets a hand-written Codec. decode() gets untrusted
// bytes: check everything, never read past them, return an Error for anything malformed.
struct Money {
  std::int64_t cents = 0;
  std::string currency;  // three upper-case letters
};
template <>
struct larder::Codec<Money> {
  static constexpr std::string_view type_name = "Money/1";  // its type tag's name
  static void encode(const Money& m, std::string& out) {
    larder::encode_to(m.cents, out);
    out += m.currency;
  }
  static larder::Result<Money> decode(std::string_view in) {
    if (in.size() != 8 + 3) return bad("size");
    Money m{*larder::decode<std::int64_t>(in.substr(0, 8)), std::string(in.substr(8))};
    for (char c : m.currency) {
      if (c < 'A' || c > 'Z') return bad("currency");
    }
    return m;
  }

 private:
  static larder::Error bad(const char* what) {
    return {larder::ErrorCode::kInvalidValue, std::string("Money: bad ") + what};
  }
};

int main() {
  // 1. Profiles kept encoded and compressed (opt-in for non-byte types).
  larder::Cache<std::string, Profile> profiles(
      {.name = "profiles", .compression = {.min_size = 512, .encode = true}});
  Profile ada{"Ada", {}, 42, {{"v1", std::vector<float>(64, 0.5F)}}};
  for (int i = 0; i < 100; ++i) ada.interests.push_back("analytical engines #" + std::to_string(i));
  profiles.put("u:1", ada);
  const Profile back = *profiles.get("u:1");
  const larder::Stats ps = profiles.stats();
  std::cout << "profile round trip: " << back.name << ", " << back.interests.size()
            << " interests, " << back.visits << " visits\n"
            << "  encoded " << ps.bytes_before_compression << " bytes -> stored "
            << ps.bytes_after_compression << " (ratio " << ps.compression_ratio() << ")\n";

  // 2. A string cache compresses values of 1 KiB and more by default.
  larder::Cache<std::string, std::string> pages({.name = "pages"});
  std::string json = "[";
  for (int i = 0; i < 200; ++i) json += R"({"id":)" + std::to_string(i) + R"(,"ok":true},)";
  json += "{}]";
  pages.put("/api/items", json);
  pages.put("/api/tiny", "{}");
  const larder::Stats s = pages.stats();
  std::cout << "pages: " << json.size() << "-byte JSON stored compressed (" << s.compressed
            << " of 2 values), cache holds " << pages.bytes() << " bytes, get returns "
            << pages.get("/api/items")->size() << " bytes\n";

  // 3. A hand-written codec refuses what its rules refuse.
  const std::string price = larder::encode(Money{1999, "EUR"});
  std::cout << "money: " << larder::decode<Money>(price)->cents << " cents; \"eur\" -> "
            << larder::decode<Money>(price.substr(0, 8) + "eur").error().message << "\n";

  // 4. Frames from elsewhere (e.g. a remote tier) are untrusted: damage is an error value, and
  // so are bytes written for another type (the frame's type tag).
  std::string frame = larder::frame_zlib(json, 1);
  frame[frame.size() / 2] ^= 0x40;
  larder::Result<std::string> r = larder::decode_frame(frame, 10 << 20);
  std::cout << "tampered frame: " << (r ? "decoded?!" : r.error().message) << "\n";
  const std::string typed = larder::frame_raw(price, {larder::type_tag<Money>(), 0});
  larder::Result<std::int64_t> wrong = larder::decode_framed<std::int64_t>(typed, 10 << 20);
  std::cout << "Money bytes read as int64: " << (wrong ? "decoded?!" : wrong.error().message)
            << "\n";
  return r || wrong ? 1 : 0;
}
