// The keys written while a rebuild runs (larder::detail): Cache::rebuild keeps these and drops
// the rest.
//
// IMPLEMENTATION DETAILS
// A hash set under a mutex, a member of the cache for its whole life (so a write that saw the
// cache's "rebuilding" flag never touches a freed log), empty and without memory between
// rebuilds. A write adds its key before it stores, so an entry the rebuild's sweep finds is
// either in the log or was stored before the rebuild began. Hash and equality are the cache's.
#pragma once

#include <absl/container/flat_hash_set.h>

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
  bool contains(const K& key) const {
    MutexLock lock(mu_);
    return keys_.contains(key);
  }
  /// Forgets every key, and the memory they took.
  void clear() {
    MutexLock lock(mu_);
    absl::flat_hash_set<K, Hash, Eq>(0, keys_.hash_function(), keys_.key_eq()).swap(keys_);
  }

 private:
  mutable Mutex mu_;
  absl::flat_hash_set<K, Hash, Eq> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace larder::detail
