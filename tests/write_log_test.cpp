// detail/write_log.h: the keys a rebuild saw written, with the hash and equality it is given.
#include "larder/detail/write_log.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {
// Equality that ignores case: the log must use the equality it is given, not operator==.
struct CaseFoldHash {
  std::size_t operator()(const std::string& s) const {
    std::string f;
    for (char c : s) f += static_cast<char>(c | 0x20);
    return std::hash<std::string>{}(f);
  }
};
struct CaseFoldEq {
  bool operator()(const std::string& a, const std::string& b) const {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    }
    return true;
  }
};
using Log = larder::detail::WriteLog<std::string, CaseFoldHash, CaseFoldEq>;
}  // namespace

TEST_CASE("WriteLog: remembers what was added, by the given equality, until cleared",
          "[write_log]") {
  Log log{CaseFoldHash{}, CaseFoldEq{}};
  CHECK_FALSE(log.contains("a"));
  log.add("Key");
  CHECK(log.contains("Key"));
  CHECK(log.contains("KEY"));  // the given equality, not operator==
  CHECK_FALSE(log.contains("other"));
  log.clear();
  CHECK_FALSE(log.contains("Key"));
  log.add("again");
  CHECK(log.contains("again"));
}

TEST_CASE("WriteLog: concurrent adds are all kept", "[write_log][concurrency]") {
  Log log{CaseFoldHash{}, CaseFoldEq{}};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&log, t] {
      for (int i = 0; i < 1000; ++i) log.add(std::to_string(t * 1000 + i));
    });
  }
  for (auto& t : ts) t.join();
  int found = 0;
  for (int i = 0; i < 4000; ++i) found += log.contains(std::to_string(i));
  CHECK(found == 4000);
}
