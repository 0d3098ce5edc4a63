// Operation counters shared by the Backend implementations (larder::detail).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "larder/backend.h"

namespace larder::detail {

class BackendCounters {
 public:
  /// One operation that ran (took `latency`) and ended with `error` (nullptr: success).
  void record(Duration latency, const Error* error) noexcept {
    ops_.fetch_add(1, std::memory_order_relaxed);
    latency_count_.fetch_add(1, std::memory_order_relaxed);
    latency_ns_.fetch_add(static_cast<std::uint64_t>(latency.count()), std::memory_order_relaxed);
    std::size_t b = 0;
    while (b < kLatencyBuckets.size() && latency > kLatencyBuckets[b]) ++b;
    buckets_[b].fetch_add(1, std::memory_order_relaxed);
    if (error) count_error(error->code);
  }
  /// One operation refused without running (breaker open, pool exhausted before any I/O).
  void refused(ErrorCode code) noexcept {
    ops_.fetch_add(1, std::memory_order_relaxed);
    count_error(code);
  }
  void retried() noexcept { retries_.fetch_add(1, std::memory_order_relaxed); }
  void connection_opened() noexcept { opened_.fetch_add(1, std::memory_order_relaxed); }
  void connection_broken() noexcept { broken_.fetch_add(1, std::memory_order_relaxed); }

  /// Fills the counter fields of `s` (breaker fields are the breaker's).
  void fill(BackendStats& s) const noexcept {
    s.ops = ops_.load(std::memory_order_relaxed);
    s.errors = errors_.load(std::memory_order_relaxed);
    s.retries = retries_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < kErrorCodeCount; ++i) {
      s.errors_by_kind[i] = by_kind_[i].load(std::memory_order_relaxed);
    }
    s.connections_opened = opened_.load(std::memory_order_relaxed);
    s.connections_broken = broken_.load(std::memory_order_relaxed);
    s.latency_count = latency_count_.load(std::memory_order_relaxed);
    s.latency_sum =
        Duration{static_cast<std::int64_t>(latency_ns_.load(std::memory_order_relaxed))};
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      s.latency_buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    }
  }

 private:
  void count_error(ErrorCode code) noexcept {
    errors_.fetch_add(1, std::memory_order_relaxed);
    by_kind_[static_cast<std::size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  }

  std::atomic<std::uint64_t> ops_{0}, errors_{0}, retries_{0}, opened_{0}, broken_{0},
      latency_count_{0}, latency_ns_{0};
  std::array<std::atomic<std::uint64_t>, kErrorCodeCount> by_kind_{};
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets.size() + 1> buckets_{};
};

}  // namespace larder::detail
