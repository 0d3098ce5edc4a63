// larder/glob.h — `larder::glob_match`: Redis glob patterns, as KEYS, SCAN MATCH and PSUBSCRIBE
// read them, for the key listings and pattern deletes of both tiers (Cache::keys,
// Cache::erase_matching, Backend::keys, TieredCache::keys ...), so that one pattern means the
// same thing in this process and in Redis.
//
//   larder::glob_match("user:*:profile", "user:42:profile")   // true
//   larder::glob_match("h?llo", "hallo")                       // true
//   larder::glob_match("h[^e]llo", "hello")                    // false
//   larder::glob_match("100\\%", "100%")                       // true: \ escapes
//
// SYNTAX (Redis's stringmatchlen): `*` any run of bytes, empty included; `?` one byte; `[abc]`
// one of the bytes listed, `[a-z]` a range (either order), `[^...]` (or `[!...]`) none of them,
// `\x` inside or outside brackets the byte x itself; everything else matches itself. Bytes, not
// characters: a UTF-8 letter is several bytes for `?`. An unclosed `[` reads as the bracket to the
// end of the pattern, as Redis does.
//
// COST. O(pattern x text) at worst (one backtrack point, the last `*`), no allocation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace larder {

namespace detail {
/// Whether byte `c` is in the bracket expression starting at pattern[i] (just past the `[`);
/// `i` is left just past its `]` (or at the end).
inline bool glob_class(std::string_view p, std::size_t& i, unsigned char c) noexcept {
  bool negate = false;
  if (i < p.size() && (p[i] == '^' || p[i] == '!')) {
    negate = true;
    ++i;
  }
  bool match = false;
  while (i < p.size() && p[i] != ']') {
    if (p[i] == '\\' && i + 1 < p.size()) {
      ++i;
      if (static_cast<unsigned char>(p[i]) == c) match = true;
      ++i;
    } else if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      unsigned char lo = static_cast<unsigned char>(p[i]);
      unsigned char hi = static_cast<unsigned char>(p[i + 2]);
      if (lo > hi) {
        const unsigned char t = lo;
        lo = hi;
        hi = t;
      }
      if (c >= lo && c <= hi) match = true;
      i += 3;
    } else {
      if (static_cast<unsigned char>(p[i]) == c) match = true;
      ++i;
    }
  }
  if (i < p.size()) ++i;  // the ]
  return match != negate;
}
}  // namespace detail

/// Whether `text` matches the Redis glob `pattern` (see the file comment).
inline bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;  // the last `*` and where it began
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char c = pattern[p];
      if (c == '*') {
        while (p < pattern.size() && pattern[p] == '*') ++p;  // a run of stars is one
        if (p == pattern.size()) return true;
        star_p = p;
        star_t = t;
        continue;
      }
      const unsigned char ch = static_cast<unsigned char>(text[t]);
      if (c == '?') {
        ++p;
        ++t;
        continue;
      }
      if (c == '[') {
        std::size_t q = p + 1;
        if (detail::glob_class(pattern, q, ch)) {
          p = q;
          ++t;
          continue;
        }
      } else if (c == '\\' && p + 1 < pattern.size()) {
        if (static_cast<unsigned char>(pattern[p + 1]) == ch) {
          p += 2;
          ++t;
          continue;
        }
      } else if (static_cast<unsigned char>(c) == ch) {
        ++p;
        ++t;
        continue;
      }
    }
    // A mismatch: let the last star take one more byte, or fail.
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

/// `text` with the glob metacharacters `* ? [ ] \` escaped by a backslash: a pattern matching
/// exactly `text` (glob_escape(prefix) + "*": every string starting with it).
inline std::string glob_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

/// Whether `pattern` has no glob syntax at all (then it matches only itself).
inline bool glob_is_literal(std::string_view pattern) noexcept {
  return pattern.find_first_of("*?[\\") == std::string_view::npos;
}

}  // namespace larder
