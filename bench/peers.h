// The caches larder is measured beside, each behind the same tiny interface:
//   std::optional<uint64_t> get(uint64_t)   bool/void put(uint64_t, uint64_t)
//
//   MutexLru     the hand-written baseline: std::mutex + std::unordered_map + std::list (exact LRU)
//   TbbLru       tbb::concurrent_lru_cache: a loading cache (operator[] runs the loader on a miss);
//                it has no put, so "put" is a lookup that loads.
//   Cuckoo       libcuckoo's cuckoohash_map: a concurrent map, no eviction (GetPut only)
//   FlatMap      absl::flat_hash_map, unsynchronized: the single-thread limit
#pragma once

#define TBB_PREVIEW_CONCURRENT_LRU_CACHE 1
#include <absl/container/flat_hash_map.h>
#include <tbb/concurrent_lru_cache.h>

#include <cstdint>
#include <functional>
#include <libcuckoo/cuckoohash_map.hh>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace larder_bench {

class MutexLru {
 public:
  explicit MutexLru(std::size_t capacity) : capacity_(capacity) { map_.reserve(capacity * 2); }
  std::optional<std::uint64_t> get(std::uint64_t k) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(k);
    if (it == map_.end()) return std::nullopt;
    list_.splice(list_.begin(), list_, it->second);
    return it->second->second;
  }
  void put(std::uint64_t k, std::uint64_t v) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(k);
    if (it != map_.end()) {
      it->second->second = v;
      list_.splice(list_.begin(), list_, it->second);
      return;
    }
    list_.emplace_front(k, v);
    map_.emplace(k, list_.begin());
    if (map_.size() > capacity_) {
      map_.erase(list_.back().first);
      list_.pop_back();
    }
  }

 private:
  std::mutex mu_;
  std::size_t capacity_;
  std::list<std::pair<std::uint64_t, std::uint64_t>> list_;
  std::unordered_map<std::uint64_t, std::list<std::pair<std::uint64_t, std::uint64_t>>::iterator>
      map_;
};

class TbbLru {
 public:
  explicit TbbLru(std::size_t capacity) : cache_(&load, capacity) {}
  std::optional<std::uint64_t> get(std::uint64_t k) { return cache_[k].value(); }
  void put(std::uint64_t k, std::uint64_t) { (void)cache_[k].value(); }

 private:
  static std::uint64_t load(std::uint64_t k) { return k; }
  tbb::concurrent_lru_cache<std::uint64_t, std::uint64_t, std::uint64_t (*)(std::uint64_t)> cache_;
};

class Cuckoo {
 public:
  explicit Cuckoo(std::size_t capacity) : map_(capacity) {}
  std::optional<std::uint64_t> get(std::uint64_t k) {
    std::uint64_t v;
    if (map_.find(k, v)) return v;
    return std::nullopt;
  }
  void put(std::uint64_t k, std::uint64_t v) { map_.insert_or_assign(k, v); }

 private:
  libcuckoo::cuckoohash_map<std::uint64_t, std::uint64_t> map_;
};

class FlatMap {
 public:
  explicit FlatMap(std::size_t capacity) { map_.reserve(capacity); }
  std::optional<std::uint64_t> get(std::uint64_t k) {
    auto it = map_.find(k);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  void put(std::uint64_t k, std::uint64_t v) { map_.insert_or_assign(k, v); }

 private:
  absl::flat_hash_map<std::uint64_t, std::uint64_t> map_;
};

}  // namespace larder_bench
