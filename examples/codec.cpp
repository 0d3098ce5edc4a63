// A larder::Codec for your own type, and compressed values: a cache of user profiles stored
// encoded + zlib-compressed (Options::compression.encode), a string cache compressing big JSON
// on its own, and what happens to bytes that were tampered with.
#include <larder/cache.h>
#include <larder/codec.h>
#include <larder/compression.h>

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

struct Profile {
  std::string name;
  std::vector<std::string> interests;
  std::uint32_t visits = 0;
};

// Format: visits (u32), count (u32), then each string as length (u32) + bytes; name last.
// decode() gets untrusted bytes: check every length against what is left, never read past it.
template <>
struct larder::Codec<Profile> {
  static void encode(const Profile& p, std::string& out) {
    larder::encode_to(p.visits, out);
    larder::encode_to(static_cast<std::uint32_t>(p.interests.size()), out);
    for (const std::string& s : p.interests) put_string(s, out);
    put_string(p.name, out);
  }
  static larder::Result<Profile> decode(std::string_view in) {
    Profile p;
    std::uint32_t count = 0;
    if (!take(in, p.visits) || !take(in, count)) return bad("header");
    if (count > in.size() / 4) return bad("interest count");
    p.interests.resize(count);
    for (std::string& s : p.interests) {
      if (!take_string(in, s)) return bad("interest");
    }
    if (!take_string(in, p.name) || !in.empty()) return bad("name");
    return p;
  }

 private:
  static void put_string(const std::string& s, std::string& out) {
    larder::encode_to(static_cast<std::uint32_t>(s.size()), out);
    out += s;
  }
  static bool take(std::string_view& in, std::uint32_t& v) {
    if (in.size() < 4) return false;
    auto r = larder::decode<std::uint32_t>(in.substr(0, 4));
    in.remove_prefix(4);
    v = *r;
    return true;
  }
  static bool take_string(std::string_view& in, std::string& s) {
    std::uint32_t n = 0;
    if (!take(in, n) || n > in.size()) return false;
    s.assign(in.substr(0, n));
    in.remove_prefix(n);
    return true;
  }
  static larder::Error bad(const char* what) {
    return {larder::ErrorCode::kInvalidValue, std::string("Profile: bad ") + what};
  }
};

int main() {
  // 1. Profiles kept encoded and compressed (opt-in for non-byte types).
  larder::Cache<std::string, Profile> profiles(
      {.name = "profiles", .compression = {.min_size = 512, .encode = true}});
  Profile ada{"Ada", {}, 42};
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

  // 3. Frames from elsewhere (e.g. a remote tier) are untrusted: damage is an error value.
  std::string frame = larder::frame_zlib(json, 1);
  frame[frame.size() / 2] ^= 0x40;
  larder::Result<std::string> r = larder::decode_frame(frame, 10 << 20);
  std::cout << "tampered frame: " << (r ? "decoded?!" : r.error().message) << "\n";
  return r ? 1 : 0;
}
