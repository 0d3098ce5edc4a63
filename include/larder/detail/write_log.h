// The keys written while a rebuild runs (larder::detail): Cache::rebuild keeps these and drops
// the rest.
//
// IMPLEMENTATION DETAILS
// A hash set under a mutex. It exists only while a rebuild runs: the cache holds a pointer to it
// (null otherwise), and a write adds its key before it stores, so an entry the rebuild's sweep
// finds is either in the log or was stored before the rebuild began. The hash and equality are
// the cache's own (seeded hash, transparent string equality), so a lookup by key_view does not
// allocate.
#pragma once

#include <absl/container/flat_hash_set.h>

#include <cstddef>
#include <utility>

#include "larder/detail/mutex.h"

namespace larder::detail {

template <class K, class Hash, class Eq>
class WriteLog {
 public:
  WriteLog(Hash hash, Eq eq) : keys_(0, std::move(hash), std::move(eq)) {}

  void add(const K& key) {
    MutexLock lock(mu_);
    keys_.insert(key);
  }
  template <class KeyView>
  bool contains(const KeyView& key) const {
    MutexLock lock(mu_);
    return keys_.contains(key);
  }
  /// Forgets every key, and the memory they took.
  void clear() {
    MutexLock lock(mu_);
    absl::flat_hash_set<K, Hash, Eq>(0, keys_.hash_function(), keys_.key_eq()).swap(keys_);
  }
  std::size_t size() const {
    MutexLock lock(mu_);
    return keys_.size();
  }

 private:
  mutable Mutex mu_;
  absl::flat_hash_set<K, Hash, Eq> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace larder::detail
