// larder/memory_backend.h — `larder::MemoryBackend`: a Backend inside this process.
//
//   auto l2 = std::make_shared<larder::MemoryBackend>(
//       larder::Options<std::string, std::string>{.max_bytes = 256 << 20});
//   larder::TieredCache<std::string, User> users({.max_entries = 10'000}, l2);
//
// The embedded default: everything a TieredCache does works with no server. The store is a
// larder::Cache<std::string, std::string> (its options bound it; TTLs are its per-entry TTLs), so
// it never fails: every operation succeeds. Invalidation messages go to the subscribers of this
// same object, delivered synchronously on the publishing thread; two TieredCaches sharing one
// MemoryBackend therefore stay coherent like two processes sharing a Redis.
//
// THREAD SAFETY. Every member may be called concurrently. Handlers run with no lock of the
// backend held, so a handler may call into the backend and into the cache it serves (publish,
// write through its own TieredCache). Destroying a Subscription waits for a delivery to it in
// progress on another thread (not for one on its own thread: a handler may drop its own).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "larder/backend.h"
#include "larder/cache.h"
#include "larder/detail/backend_counters.h"

namespace larder {

class MemoryBackend final : public Backend {
 public:
  /// `options` configure the underlying Cache<std::string, std::string> (bounds, clock, name).
  /// Throws larder::InvalidArgument like that Cache.
  explicit MemoryBackend(Options<std::string, std::string> options = {})
      : subscribers_(std::make_shared<Subscribers>()), store_(std::move(options)) {}

  Result<std::optional<BackendEntry>> get(std::string_view key) override {
    Timer t(counters_);
    return read(key);
  }

  Result<std::vector<std::optional<BackendEntry>>> get_many(
      std::span<const std::string_view> keys) override {
    Timer t(counters_);
    std::vector<std::optional<BackendEntry>> out;
    out.reserve(keys.size());
    for (std::string_view k : keys) out.push_back(read(k));
    return out;
  }

  Result<void> set(std::string_view key, std::string_view value, Duration ttl) override {
    Timer t(counters_);
    std::lock_guard<std::mutex> lock(stripe(key));
    Result<bool> r = write(key, value, ttl, /*only_if_absent=*/false);
    if (!r) return t.check(Result<void>(r.error()));
    return {};
  }

  Result<void> set_many(std::span<const BackendItem> items, Duration ttl) override {
    Timer t(counters_);
    for (const BackendItem& it : items) {
      std::lock_guard<std::mutex> lock(stripe(it.key));
      Result<bool> r = write(it.key, it.value, ttl, /*only_if_absent=*/false);
      if (!r) return t.check(Result<void>(r.error()));
    }
    return {};
  }

  Result<bool> set_if_absent(std::string_view key, std::string_view value, Duration ttl) override {
    Timer t(counters_);
    std::lock_guard<std::mutex> lock(stripe(key));
    return t.check(write(key, value, ttl, /*only_if_absent=*/true));
  }

  Result<std::vector<bool>> set_many_tagged(std::span<const BackendItem> items, Duration ttl,
                                            std::span<const std::string> tags,
                                            bool only_if_absent) override {
    Timer t(counters_);
    std::vector<bool> out;
    out.reserve(items.size());
    for (const BackendItem& it : items) {
      // The write and its tagging under the tags' lock: erase_tagged sees both or neither.
      std::lock_guard<std::mutex> lock(stripe(it.key));
      std::lock_guard<std::mutex> tags_lock(tags_mu_);
      Result<bool> r = write(it.key, it.value, ttl, only_if_absent);
      if (!r) return t.check(Result<std::vector<bool>>(r.error()));
      out.push_back(*r);
      if (!*r) continue;
      const std::int64_t now = now_ns();
      const std::int64_t deadline =
          ttl == kNoExpiry ? detail::kNever : detail::saturating_add(now, ttl.count());
      for (const std::string& tag : tags) {
        TagSet& set = tags_[tag];
        set.members[std::string(it.key)] = deadline;
        if (set.members.size() >= 2 * set.pruned_size + 16) {  // amortized: expired members go
          std::erase_if(set.members, [&](const auto& m) { return m.second <= now; });
          set.pruned_size = set.members.size();
        }
      }
    }
    return out;
  }

  Result<std::vector<std::string>> erase_tagged(std::string_view tag) override {
    Timer t(counters_);
    std::lock_guard<std::mutex> lock(tags_mu_);
    std::vector<std::string> removed;
    auto it = tags_.find(std::string(tag));
    if (it == tags_.end()) return removed;
    const std::int64_t now = now_ns();
    for (const auto& [key, deadline] : it->second.members) {
      // (A member whose tagged write expired no longer names it: a later write stays.)
      if (deadline > now && store_.erase(key)) removed.push_back(key);
    }
    tags_.erase(it);
    return removed;
  }

  Result<bool> erase(std::string_view key) override {
    Timer t(counters_);
    return store_.erase(key);
  }

  Result<bool> erase_if_equal(std::string_view key, std::string_view value) override {
    Timer t(counters_);
    // Under the key's stripe no write can store between the look and the erase; removals
    // (erase, expiry, eviction) may, and then the erase removes nothing, which is right.
    std::lock_guard<std::mutex> lock(stripe(key));
    const std::optional<std::string> v = store_.peek(key);
    return v && *v == value && store_.erase(key);
  }

  Result<std::size_t> erase_prefix(std::string_view prefix) override {
    Timer t(counters_);
    if (prefix.empty()) {  // everything: the tags too
      std::lock_guard<std::mutex> lock(tags_mu_);
      tags_.clear();
    }
    return store_.erase_prefix(prefix);
  }

  Result<std::vector<std::string>> keys(std::string_view glob) override {
    Timer t(counters_);
    return store_.keys(glob);
  }

  Result<std::size_t> erase_matching(std::string_view glob) override {
    Timer t(counters_);
    return store_.erase_matching(glob);
  }

  Result<Duration> ping() override {
    Timer t(counters_);
    return Duration::zero();
  }

  /// kind "memory", version "", keys and used_memory: the store's size() and bytes(), clients:
  /// live subscriptions, uptime: since construction.
  Result<ServerInfo> server_info() override {
    Timer t(counters_);
    ServerInfo info;
    info.kind = "memory";
    info.keys = store_.size();
    info.used_memory = store_.bytes();
    {
      std::lock_guard<std::mutex> lock(subscribers_->mu);
      info.connected_clients = subscribers_->handlers.size();
    }
    info.uptime = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - started_);
    return info;
  }

  BackendStats stats() const override {
    BackendStats s;
    counters_.fill(s);
    return s;
  }

  std::string_view kind() const noexcept override { return "memory"; }

  Result<void> publish(std::string_view message) override {
    Timer t(counters_);
    Subscribers& subs = *subscribers_;
    std::vector<std::shared_ptr<Handler>> to;
    {
      std::lock_guard<std::mutex> lock(subs.mu);
      to = subs.handlers;
      for (const auto& h : to) ++h->busy;
    }
    for (const auto& h : to) {
      t_delivering.push_back(h.get());
      try {
        if (h->handler.on_message) h->handler.on_message(message);
      } catch (...) {
        // A handler's failure is its own; the other subscribers still get the message.
      }
      t_delivering.pop_back();
    }
    {
      std::lock_guard<std::mutex> lock(subs.mu);
      for (const auto& h : to) --h->busy;
    }
    subs.idle.notify_all();
    return {};
  }

  std::unique_ptr<Subscription> subscribe(InvalidationHandler handler) override {
    auto sub = std::make_unique<Sub>(subscribers_);
    sub->handler = std::make_shared<Handler>(handler);
    {
      std::lock_guard<std::mutex> lock(subscribers_->mu);
      subscribers_->handlers.push_back(sub->handler);
    }
    if (handler.on_state) handler.on_state(true);  // in process: always up
    return sub;
  }

  /// The underlying store (for inspection in tests and tools).
  Cache<std::string, std::string>& store() noexcept { return store_; }

 private:
  struct Handler {
    explicit Handler(InvalidationHandler h) : handler(std::move(h)) {}
    InvalidationHandler handler;
    int busy = 0;  // deliveries in progress (guarded by Subscribers::mu)
  };
  struct Subscribers {
    std::mutex mu;
    std::condition_variable idle;  // a delivery ended
    std::vector<std::shared_ptr<Handler>> handlers;
  };
  // The handlers this thread is delivering to now (publish() called from a handler nests).
  static inline thread_local std::vector<const Handler*> t_delivering;
  struct Sub final : Subscription {
    explicit Sub(std::shared_ptr<Subscribers> s) : subs(std::move(s)) {}
    ~Sub() override {
      const auto mine = std::count(t_delivering.begin(), t_delivering.end(), handler.get());
      std::unique_lock<std::mutex> lock(subs->mu);
      std::erase(subs->handlers, handler);
      subs->idle.wait(lock, [&] { return handler->busy == mine; });
    }
    std::shared_ptr<Subscribers> subs;
    std::shared_ptr<Handler> handler;
  };
  /// Records one operation's latency (and its error, if fail() was called) when it ends.
  class Timer {
   public:
    explicit Timer(detail::BackendCounters& c) : c_(c), t0_(std::chrono::steady_clock::now()) {}
    ~Timer() { c_.record(std::chrono::steady_clock::now() - t0_, failed_ ? &error_ : nullptr); }
    /// Returns `r`, noting its error for the record.
    template <class R>
    R check(R r) {
      if (!r) {
        failed_ = true;
        error_ = r.error();
      }
      return r;
    }

   private:
    detail::BackendCounters& c_;
    std::chrono::steady_clock::time_point t0_;
    bool failed_ = false;
    Error error_{};
  };

  std::optional<BackendEntry> read(std::string_view key) {
    LookupResult<std::string> r = store_.lookup(key);
    if (!r.hit) return std::nullopt;
    const Duration left = r.ttl == kNoExpiry ? kNoExpiry : r.ttl - r.age;
    return BackendEntry{std::move(*r.value), left};
  }

  /// Stores (under the key's stripe); false if only_if_absent and a live value is there.
  Result<bool> write(std::string_view key, std::string_view value, Duration ttl,
                     bool only_if_absent) {
    try {
      if (only_if_absent) {
        return store_.put_if_absent(std::string(key), std::string(value), {.ttl = ttl});
      }
      store_.put(std::string(key), std::string(value), {.ttl = ttl});
    } catch (const std::exception& e) {
      return Error{ErrorCode::kServer, e.what()};  // invalid ttl, value above max_bytes
    }
    return true;
  }

  // Writes that store take their key's stripe, so that erase_if_equal is atomic against them.
  static constexpr std::size_t kStripes = 64;
  std::mutex& stripe(std::string_view key) noexcept {
    return stripes_[std::hash<std::string_view>{}(key) % kStripes];
  }

  std::int64_t now_ns() const {
    const Clock* c = store_.options().clock.get();
    return (c ? c->now() : std::chrono::steady_clock::now()).time_since_epoch().count();
  }

  /// A tag's members: key -> its tagged write's deadline (the store's clock; kNever: none).
  /// Expired members are dropped when the set has doubled since the last time that was done.
  struct TagSet {
    std::unordered_map<std::string, std::int64_t> members;
    std::size_t pruned_size = 0;
  };

  std::shared_ptr<Subscribers> subscribers_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::array<std::mutex, kStripes> stripes_;
  std::mutex tags_mu_;  // after a stripe, before the store's locks
  std::unordered_map<std::string, TagSet> tags_;
  Cache<std::string, std::string> store_;
  detail::BackendCounters counters_;
};

}  // namespace larder
