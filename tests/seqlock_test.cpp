// detail/seqlock.h on its own: the version protocol. A reader never accepts a copy a write
// overlapped; writers exclude each other through the version; readers and writers racing on two
// threads only ever see whole values.
#include "larder/detail/seqlock.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <thread>

namespace {
struct alignas(8) Pair {
  std::uint64_t a = 0, b = ~std::uint64_t{0};  // every writer keeps b == ~a
};
}  // namespace

TEST_CASE("seqlock: an odd version is a writer, and a read that saw one change retries or fails",
          "[seqlock]") {
  std::atomic<std::uint32_t> version{0};
  std::uint32_t start = 0;
  REQUIRE(larder::detail::try_lock_version(version, start));
  CHECK(start == 0);
  CHECK(version.load() == 1);  // held: odd
  std::uint32_t other = 0;
  CHECK(!larder::detail::try_lock_version(version, other));  // a second writer is refused
  int copies = 0;
  CHECK(!larder::detail::seq_read(version, [&] { ++copies; }));  // still odd: give up
  CHECK(copies == 0);
  version.store(start + 2, std::memory_order_release);  // the write ends
  CHECK(larder::detail::seq_read(version, [&] { ++copies; }));
  CHECK(copies == 1);

  // A copy during which a write happened is not accepted: it is taken again.
  int tries = 0;
  CHECK(larder::detail::seq_read(version, [&] {
    if (++tries == 1) version.fetch_add(2);  // a whole write between the two version loads
  }));
  CHECK(tries == 2);

  {
    larder::detail::SeqWrite w(version);  // the locked writer's side
    CHECK((version.load() & 1) == 1);
  }
  CHECK((version.load() & 1) == 0);
}

TEST_CASE("seqlock: racing writers and readers see only whole values", "[seqlock]") {
  std::atomic<std::uint32_t> version{0};
  Pair shared;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> torn{0}, reads{0};
  std::thread reader([&] {
    do {
      Pair copy;
      larder::detail::seq_read_wait(version, [&] {
        larder::detail::load_words<alignof(Pair), sizeof(Pair)>(&copy, &shared);
      });
      if (copy.b != ~copy.a) torn.fetch_add(1);
      reads.fetch_add(1);
    } while (!stop.load(std::memory_order_relaxed));
  });
  std::thread writer([&] {
    for (std::uint64_t n = 1; n <= 200'000; ++n) {
      std::uint32_t start = 0;
      if (!larder::detail::try_lock_version_briefly(version, start)) continue;
      const Pair next{n, ~n};
      larder::detail::store_words<alignof(Pair), sizeof(Pair)>(&shared, &next);
      version.store(start + 2, std::memory_order_release);
    }
  });
  for (int n = 0; n < 50'000; ++n) {  // a second writer, the locked kind
    larder::detail::SeqWrite w(version);
    const Pair next{n + 1'000'000ull, ~(n + 1'000'000ull)};
    larder::detail::store_words<alignof(Pair), sizeof(Pair)>(&shared, &next);
  }
  writer.join();
  stop = true;
  reader.join();
  CHECK(torn.load() == 0);
  CHECK(reads.load() > 0);
  CHECK((version.load() & 1) == 0);
  CHECK(shared.b == ~shared.a);
}
