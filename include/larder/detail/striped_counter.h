// A counter that many threads increment without sharing a cache line (larder::detail).
//
// Each thread adds to one of 16 padded cells, picked round-robin when the thread first counts;
// reading sums the cells. Used where a hit would otherwise write to a line all threads share.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace larder::detail {

class StripedCounter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    cells_[my_cell()].value.fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t sum() const noexcept {
    std::uint64_t s = 0;
    for (const Cell& c : cells_) s += c.value.load(std::memory_order_relaxed);
    return s;
  }

 private:
  static constexpr std::size_t kCells = 16;
  struct alignas(64) Cell {
    std::atomic<std::uint64_t> value{0};
  };
  static std::size_t my_cell() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t cell = next.fetch_add(1, std::memory_order_relaxed) % kCells;
    return cell;
  }

  Cell cells_[kCells];
};

}  // namespace larder::detail
