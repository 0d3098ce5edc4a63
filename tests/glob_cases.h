// Glob patterns with the answer Redis gives (checked against a real redis-server by
// redis_test.cpp), shared by glob_test.cpp.
#pragma once

namespace larder_test {

struct GlobCase {
  const char* pattern;
  const char* text;
  bool match;
};

inline constexpr GlobCase kGlobCases[] = {
    {"*", "", true},
    {"*", "anything", true},
    {"user:*", "user:42", true},
    {"user:*", "user:", true},
    {"user:*", "users:1", false},
    {"*:42", "user:42", true},
    {"*:42", "user:420", false},
    {"user:*:profile", "user:42:profile", true},
    {"user:*:profile", "user:42:feed", false},
    {"h?llo", "hello", true},
    {"h?llo", "hllo", false},
    {"h[ae]llo", "hallo", true},
    {"h[ae]llo", "hillo", false},
    {"h[^e]llo", "hallo", true},
    {"h[^e]llo", "hello", false},
    {"h[a-c]llo", "hbllo", true},
    {"h[c-a]llo", "hbllo", true},  // a reversed range reads as the same range
    {"h[a-c]llo", "hdllo", false},
    {"100\\%", "100%", true},
    {"a\\*b", "a*b", true},
    {"a\\*b", "axb", false},
    {"[\\]]", "]", true},
    {"*a*b*", "xxaxxbxx", true},
    {"*a*b*", "xxbxxaxx", false},
    {"a**b", "ab", true},
    {"abc", "abc", true},
    {"abc", "abcd", false},
    {"", "", true},
    {"", "x", false},
};

}  // namespace larder_test
