// Helpers the test files share (one place, so that two tests of one thing cannot drift apart).
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <future>
#include <random>
#include <string>
#include <thread>

#include "larder/detail/epoch.h"

// Checks both the exception type and its message (Catch2 v2 matches messages with
// CHECK_THROWS_WITH only); `expr` throws before changing anything, so running it twice is fine.
#define CHECK_THROWS_TYPE_WITH(expr, type, matcher) \
  do {                                              \
    CHECK_THROWS_AS(expr, type);                    \
    CHECK_THROWS_WITH(expr, matcher);               \
  } while (0)

namespace larder_test {

/// Spins (yielding) until pred() holds or 30 s pass; returns whether it held. Not a sleep: it
/// waits for a condition, and the assertions after it do not depend on how long that took.
template <class Pred>
bool wait_until(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

/// `n` pseudo-random bytes (a fixed sequence per seed): data no compressor shrinks, so a value
/// whose weight is its size even in a cache that compresses.
inline std::string random_bytes(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

/// A lock-free reader parked inside its epoch ReadSection on a thread of its own: from
/// construction (which returns once it is inside) until leave() or destruction. While it is
/// there, nothing retired after it entered may be freed (epoch.h).
class HeldReader {
 public:
  HeldReader() {
    std::promise<void> entered;
    thread_ = std::thread([this, &entered] {
      larder::detail::ReadSection section;
      entered.set_value();
      leave_f_.wait();
    });
    entered.get_future().wait();
  }
  ~HeldReader() { leave(); }
  HeldReader(const HeldReader&) = delete;
  HeldReader& operator=(const HeldReader&) = delete;

  /// Lets the reader leave its section, and waits until its thread has ended.
  void leave() {
    if (!thread_.joinable()) return;
    leave_.set_value();
    thread_.join();
  }

 private:
  std::promise<void> leave_;
  std::shared_future<void> leave_f_ = leave_.get_future().share();
  std::thread thread_;
};

}  // namespace larder_test
