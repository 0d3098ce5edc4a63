// libFuzzer target for larder::decode_frame (larder/compression.h): bytes from a remote tier are
// untrusted. Properties checked on every input:
//   * no crash, no UB, no allocation above the cap (ASan/UBSan, -rss_limit_mb);
//   * anything that decodes is at most the cap, and re-framing it (raw and zlib) decodes back to
//     the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "larder/compression.h"

namespace {
constexpr std::size_t kCap = 1 << 20;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  larder::Result<std::string> r = larder::decode_frame(in, kCap);
  if (!r.ok()) return 0;
  if (r->size() > kCap) __builtin_trap();
  for (const std::string& again : {larder::frame_raw(*r), larder::frame_zlib(*r, 1)}) {
    larder::Result<std::string> back = larder::decode_frame(again, kCap);
    if (!back.ok() || *back != *r) __builtin_trap();
  }
  return 0;
}
