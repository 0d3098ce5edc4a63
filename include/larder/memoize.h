// larder/memoize.h — `larder::cached(fn)`: memoize an expensive function behind a cache.
//
//   auto load_user = larder::cached([&](const std::string& id) { return db.load(id); },
//                                   {.max_entries = 10'000, .ttl = 1min});
//   User u = load_user("u:1");   // one db.load per key, even under 64 concurrent misses
//
//   // Several functions sharing one bounded cache (or a registry-named one):
//   larder::Cache<std::string, User> users({.max_entries = 100'000});
//   auto by_id = larder::cached(users, load_by_id, [](int id) { return "id:" + std::to_string(id);
//   },
//                               {.ttl = 5min});
//
// The returned callable has fn's signature (arguments must be hashable and copyable; the key of
// the owned cache is the tuple of the arguments) and also offers fresh(args...) (bypass: call fn,
// store the result), peek(args...), invalidate(args...) and stats(). Copies share one state.
//
// BEHAVIOUR
// * Single-flight: concurrent misses for one key call fn once; the others wait for that result,
//   or that exception (rethrown to every waiter, never cached). Different keys load in parallel;
//   no cache lock is held while fn runs.
// * Freshness: an entry is fresh while its age (time since stored) is below `ttl` (or
//   `negative_ttl` for an absent result). ttl zero: fresh until the cache itself drops it.
//   Without refresh_after and stale_if_error, results are stored with exactly that TTL and the
//   hit path is a plain Cache::get (no age computed); a value someone else put in a shared cache
//   then counts as fresh for as long as that cache holds it.
// * Negative caching: a result the `is_absent` predicate calls absent (default: an empty
//   std::optional) is cached for `negative_ttl`; with negative_ttl zero (default) it is not cached.
// * Refresh-ahead: with 0 < refresh_after < ttl, a hit on an entry at least refresh_after old
//   returns that value at once and reloads it on `executor`, one reload per key at a time. A
//   failed reload leaves the old value in place (counted in load_failures).
// * Stale-if-error: entries are kept `stale_if_error` past their ttl; a call that finds such an
//   expired entry loads synchronously and, if fn throws, returns the expired value instead of
//   throwing (counted in stale_served).
// * Re-entrancy: fn calling the same memoized function for the same key, directly or through
//   other keys (even on other threads), throws larder::LoaderCycle instead of deadlocking.
//
// LIFETIME. Copies share one state. When the last copy goes, refreshes it queued that have not
// started are cancelled (a caller waiting for one gets larder::Cancelled), the destructor waits
// for a refresh that is running (bounded by fn), and then the state (and the owned cache) is
// destroyed on that thread: nothing of the memoizer runs after its last copy, so what fn
// captured by reference may go right after it. fn must not destroy the last copy of its own
// memoized function. A Cache passed in by reference must outlive the callable.
//
// THREAD SAFETY. Every member may be called concurrently.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "larder/cache.h"
#include "larder/detail/striped_counter.h"
#include "larder/executor.h"

namespace larder {

/// Options of a memoized function. Every field says its default. Field order is API.
template <class V>
struct MemoizeOptions {
  /// Name of the owned cache (stats, errors). Default "".
  std::string name{};
  /// Bound of the owned cache (ignored with an existing cache). Default 0: unbounded.
  std::size_t max_entries = 0;
  /// How long a result stays fresh. Default zero: until the cache drops it (never, for the owned
  /// cache; the cache's own default_ttl for an existing one).
  Ttl ttl = Duration::zero();
  /// How long an absent result (see is_absent) stays cached. Default zero: absent results are
  /// not cached.
  Duration negative_ttl = Duration::zero();
  /// Says whether a result means "absent". Default: an empty std::optional is absent, for other
  /// result types nothing is.
  std::function<bool(const V&)> is_absent{};
  /// Reload in the background a hit at least this old (must be below ttl). Default zero: off.
  Duration refresh_after = Duration::zero();
  /// Serve an expired value this long past its ttl when reloading it throws. Default zero: off.
  Duration stale_if_error = Duration::zero();
  /// Where refreshes run. Default nullptr: larder::default_executor() (2 shared threads).
  std::shared_ptr<Executor> executor{};
  /// Time source of the owned cache. Default nullptr: steady clock; larder::CoarseClock is
  /// cheaper per read (a hit on an entry with a TTL reads the clock to check its deadline).
  std::shared_ptr<Clock> clock{};
  /// Shards of the owned cache. Default 0: auto.
  std::size_t shards = 0;
  /// Background expiry sweep of the owned cache. Default 1s; zero: off.
  Duration background_cleanup = std::chrono::seconds(1);
  /// Register this function under `name` in this registry (larder/registry.h) while it exists;
  /// invalidate(name) there clears its cache (the whole cache, if it is a shared one).
  /// Default nullptr: not registered.
  Registry* registry = nullptr;
  /// The cache's eviction policy (Options::policy): Policy::kLru (default) or Policy::kTinyLfu,
  /// which keeps frequently requested results through scans of one-off arguments.
  Policy policy = Policy::kLru;

  /// Throws larder::InvalidArgument naming the first field out of range.
  void validate() const {
    auto non_negative = [](const char* field, Duration d) {
      if (d.count() < 0) {
        throw InvalidArgument(std::string("larder: MemoizeOptions.") + field +
                              " must not be negative (got " + detail::format_duration(d) + ")");
      }
    };
    non_negative("ttl", ttl);
    non_negative("negative_ttl", negative_ttl);
    non_negative("refresh_after", refresh_after);
    non_negative("stale_if_error", stale_if_error);
    non_negative("background_cleanup", background_cleanup);
    // Results are stored with TTL ttl (or negative_ttl) + stale_if_error.
    auto stored = [&](const char* field, Duration d) {
      if (d > kMaxTtl || stale_if_error > kMaxTtl || d + stale_if_error > kMaxTtl) {
        throw InvalidArgument(std::string("larder: MemoizeOptions.") + field +
                              " + stale_if_error must be " + detail::ttl_limit_text() + " (got " +
                              detail::format_duration(d) + " + " +
                              detail::format_duration(stale_if_error) + ")");
      }
    };
    stored("ttl", ttl);
    stored("negative_ttl", negative_ttl);
    if (refresh_after.count() > 0 && ttl.count() > 0 && refresh_after >= ttl) {
      throw InvalidArgument("larder: MemoizeOptions.refresh_after (" +
                            detail::format_duration(refresh_after) +
                            ") must be shorter than ttl (" + detail::format_duration(ttl) + ")");
    }
  }
};

/// A memoized call's result plus where it came from (Memoized::call_with_info): what a service
/// puts in X-Cache: HIT|MISS and X-Cache-Age.
template <class V>
struct MemoResult {
  V value;
  bool hit = false;  ///< served from the cache (fresh); false: fn ran (or a load was joined)
  Duration age{};    ///< age of the cached entry on a hit; zero otherwise
};

namespace detail {

template <class... Ts>
struct TypeList {};

/// R and Args of a callable with one non-template call operator (or a function pointer).
template <class F, class = void>
struct FnTraits {
  static constexpr bool known = false;
};
template <class R, class... A>
struct FnTraits<R (*)(A...)> {
  static constexpr bool known = true;
  using result = R;
  using args = TypeList<A...>;
};
template <class R, class... A>
struct FnTraits<R (*)(A...) noexcept> : FnTraits<R (*)(A...)> {};
template <class R, class... A>
struct FnTraits<R(A...)> : FnTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct FnTraits<R (C::*)(A...) const> : FnTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct FnTraits<R (C::*)(A...) const noexcept> : FnTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct FnTraits<R (C::*)(A...)> : FnTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct FnTraits<R (C::*)(A...) noexcept> : FnTraits<R (*)(A...)> {};
template <class F>
struct FnTraits<F, std::void_t<decltype(&F::operator())>> : FnTraits<decltype(&F::operator())> {};

template <class F>
using Fn = std::decay_t<F>;

template <class F>
concept Memoizable = FnTraits<Fn<F>>::known;
/// fn's signature cannot be read (cached() then explains why).
template <class F>
concept NotMemoizable = !Memoizable<F>;

template <class F>
using memo_result_t = std::decay_t<typename FnTraits<Fn<F>>::result>;

/// Whether KeyFn takes the arguments of the list `Args` and returns something convertible to K.
template <class KeyFn, class K, class Args>
inline constexpr bool kKeyFnFits = false;
template <class KeyFn, class K, class... A>
inline constexpr bool kKeyFnFits<KeyFn, K, TypeList<A...>> = std::is_invocable_r_v<K, KeyFn&, A...>;
/// A key function for memoizing F in CacheT: callable with F's arguments, returning its key.
template <class KeyFn, class CacheT, class F>
concept KeyFnFor = kKeyFnFits<KeyFn, typename CacheT::key_type, typename FnTraits<Fn<F>>::args>;
/// Not one (cached() then explains why).
template <class KeyFn, class CacheT, class F>
concept NotKeyFnFor = !KeyFnFor<KeyFn, CacheT, F>;

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

inline Duration saturating_sum(Duration a, Duration b) noexcept {
  return b >= Duration::max() - a ? kNoExpiry : a + b;
}

// A memoizer looks in the cache's in-process tier first; for a TieredCache (larder/tiered.h) the
// remote tier is read by the flight's leader only, inside load_single_flight.
template <class C, class Key>
auto local_get(C& c, const Key& k) {
  if constexpr (requires { c.get_local(k); }) {
    return c.get_local(k);
  } else {
    return c.get(k);
  }
}
template <class C, class Key>
auto local_lookup(C& c, const Key& k) {
  if constexpr (requires { c.lookup_local(k); }) {
    return c.lookup_local(k);
  } else {
    return c.lookup(k);
  }
}
template <class C>
Stats local_stats(const C& c) {
  if constexpr (requires { c.stats().l1; }) {
    return c.stats().l1;
  } else {
    return c.stats();
  }
}

/// The state shared by the copies of one memoized function.
template <class CacheT, class... Args>
class MemoState {
 public:
  using K = typename CacheT::key_type;
  using V = typename CacheT::mapped_type;

  MemoState(std::unique_ptr<CacheT> owned, CacheT* cache, std::function<V(Args...)> fn,
            std::function<K(Args...)> key_fn, MemoizeOptions<V> opts)
      : owned_(std::move(owned)),
        cache_(owned_ ? owned_.get() : cache),
        fn_(std::move(fn)),
        key_fn_(std::move(key_fn)),
        opts_(std::move(opts)),
        executor_(opts_.executor ? opts_.executor : default_executor()),
        needs_age_(opts_.refresh_after.count() > 0 || opts_.stale_if_error.count() > 0) {
    if (opts_.registry) {
      registry_id_ =
          opts_.registry->add(opts_.name, "memoizer",
                              {.info =
                                   [this] {
                                     return CacheInfo{opts_.name, "memoizer", local_stats(*cache_),
                                                      stats(), std::nullopt};
                                   },
                               .clear = [this] { cache_->clear(); },
                               .cleanup = [this] { return cache_->cleanup(); }});
    }
  }
  ~MemoState() {
    if (registry_id_) opts_.registry->remove(registry_id_);
  }
  MemoState(const MemoState&) = delete;
  MemoState& operator=(const MemoState&) = delete;

  /// What the last copy of the memoized function runs before the state goes (the shared_ptr's
  /// deleter, see make()): cancels the refreshes still queued and waits for a running one.
  void close() {
    std::vector<std::shared_ptr<Pending>> cancelled;
    {
      std::unique_lock<std::mutex> lock(tasks_->mu);
      cancelled.swap(tasks_->queued);
      tasks_->idle.wait(lock, [&] { return tasks_->running == 0; });
    }
    for (const auto& p : cancelled) {
      cache_->retire_flight(LoadingKey{}, p->key, p->flight.get());
      p->flight->set_exception(std::make_exception_ptr(
          Cancelled("larder: a refresh-ahead reload was cancelled: its memoized function was "
                    "destroyed before it ran")));
    }
  }

  /// A state owned by the copies of one memoized function: the last one to go runs close().
  template <class... A>
  static std::shared_ptr<MemoState> make(A&&... a) {
    return std::shared_ptr<MemoState>(new MemoState(std::forward<A>(a)...), [](MemoState* s) {
      s->close();
      delete s;
    });
  }

  V call(Args... args) {
    const K key = key_fn_(args...);
    std::optional<V> stale;
    if (!needs_age_) {
      // Stored TTL == freshness limit, so "the cache still holds it" means fresh, and the
      // cache's own expiry check decides; no clock read for the age.
      if (std::optional<V> v = local_get(*cache_, key)) {
        hits_.add();
        return *std::move(v);
      }
      return miss(key, stale, args...);
    }
    return std::move(call_with_info(args...).value);
  }

  /// call() that also says whether the result came from the cache, and how old it was.
  MemoResult<V> call_with_info(Args... args) {
    const K key = key_fn_(args...);
    std::optional<V> stale;
    LookupResult<V> r = local_lookup(*cache_, key);
    if (r.hit) {
      if (fresh(r.age, r.ttl)) {
        hits_.add();
        if (opts_.refresh_after.count() > 0 && !absent(*r.value) && r.age >= opts_.refresh_after) {
          refresh(key, args...);
        }
        return {*std::move(r.value), true, r.age};
      }
      stale = std::move(r.value);  // past ttl, within stale_if_error
    }
    return {miss(key, stale, args...), false, Duration{}};
  }

  V miss(const K& key, std::optional<V>& stale, Args... args) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    auto accept = [this](Duration age, Duration ttl) { return fresh(age, ttl); };
    auto load = [&] { return timed_load(args...); };
    auto options_for = [this](const V& v) { return put_options(v); };
    try {
      return cache_->load_single_flight(LoadingKey{}, key, accept, load, options_for);
    } catch (const LoaderCycle&) {
      throw;
    } catch (...) {
      if (!stale) throw;
      stale_served_.fetch_add(1, std::memory_order_relaxed);
      return *std::move(stale);
    }
  }

  V fresh_call(Args... args) {
    V v = timed_load(args...);
    if (std::optional<PutOptions> o = put_options(v)) cache_->put(key_fn_(args...), v, *o);
    return v;
  }

  std::optional<V> peek(Args... args) const {
    auto e = cache_->peek_with_age(LoadingKey{}, key_fn_(args...));
    if (!e || !fresh(std::get<1>(*e), std::get<2>(*e))) return std::nullopt;
    return std::move(std::get<0>(*e));
  }

  bool invalidate(Args... args) { return cache_->erase(key_fn_(args...)); }

  MemoizeStats stats() const {
    MemoizeStats s;
    s.hits = hits_.sum();
    s.misses = misses_.load(std::memory_order_relaxed);
    s.loads = loads_.load(std::memory_order_relaxed);
    s.load_failures = load_failures_.load(std::memory_order_relaxed);
    s.total_load_time = Duration{load_ns_.load(std::memory_order_relaxed)};
    s.refreshes = refreshes_.load(std::memory_order_relaxed);
    s.stale_served = stale_served_.load(std::memory_order_relaxed);
    return s;
  }

  CacheT& cache() const noexcept { return *cache_; }

 private:
  bool absent(const V& v) const {
    if (opts_.is_absent) return opts_.is_absent(v);
    if constexpr (IsOptional<V>::value) {
      return !v.has_value();
    } else {
      return false;
    }
  }
  /// Whether an entry of this age, stored with this TTL, is fresh. Results are stored with TTL
  /// = limit + stale_if_error (limit: ttl, or negative_ttl when absent), so the stored TTL tells
  /// the limit without looking at the value (which may be compressed, and is not decoded under a
  /// lock). With no stale window, an entry the cache still holds is fresh.
  bool fresh(Duration age, Duration stored_ttl) const {
    if (opts_.stale_if_error.count() == 0 || stored_ttl == kNoExpiry) return true;
    return age + opts_.stale_if_error < stored_ttl;
  }
  /// How to store a result: nullopt = do not store.
  std::optional<PutOptions> put_options(const V& v) const {
    if (absent(v)) {
      if (opts_.negative_ttl.count() == 0) return std::nullopt;
      return PutOptions{.ttl = saturating_sum(opts_.negative_ttl, opts_.stale_if_error)};
    }
    if (opts_.ttl.count() == 0) return PutOptions{};
    return PutOptions{.ttl = saturating_sum(opts_.ttl, opts_.stale_if_error)};
  }

  V timed_load(Args... args) {
    loads_.fetch_add(1, std::memory_order_relaxed);
    const auto t0 = std::chrono::steady_clock::now();
    auto account = [&] {
      load_ns_.fetch_add((std::chrono::steady_clock::now() - t0).count(),
                         std::memory_order_relaxed);
    };
    try {
      V v = fn_(args...);
      account();
      return v;
    } catch (...) {
      account();
      load_failures_.fetch_add(1, std::memory_order_relaxed);
      throw;
    }
  }

  void refresh(const K& key, Args... args) {
    // Skip if the entry was refreshed meanwhile or a load for it is already running.
    auto young = [this](Duration age, Duration) { return age < opts_.refresh_after; };
    typename CacheT::Acquired a =
        cache_->acquire(LoadingKey{}, key, young, /*led_by_caller=*/false);
    if (!a.lead) return;
    refreshes_.fetch_add(1, std::memory_order_relaxed);
    auto pending = std::make_shared<Pending>(Pending{key, a.flight});
    {
      std::lock_guard<std::mutex> lock(tasks_->mu);
      tasks_->queued.push_back(pending);
    }
    // The task holds no reference to the state: close() waits for a running task, and a queued
    // one finds itself cancelled, so `self` is alive whenever the task uses it.
    auto task = [self = this, refreshes = tasks_, pending,
                 saved = std::tuple<std::decay_t<Args>...>(args...)]() mutable {
      if (!refreshes->take(pending, /*run=*/true)) return;  // cancelled by close()
      pending->flight->lead_here();
      auto load = [&] {
        return std::apply([&](auto&... a) { return self->timed_load(a...); }, saved);
      };
      auto options_for = [&](const V& v) { return self->put_options(v); };
      try {
        self->cache_->lead_flight(LoadingKey{}, pending->key, pending->flight, load, options_for);
      } catch (...) {
        // Counted in load_failures; the old value stays until its ttl.
      }
      {
        std::lock_guard<std::mutex> lock(refreshes->mu);
        --refreshes->running;
      }
      refreshes->idle.notify_all();
    };
    try {
      executor_->execute(std::move(task));
    } catch (...) {
      // The executor refused the task: release the flight so the key is not blocked.
      if (tasks_->take(pending, /*run=*/false)) {
        cache_->retire_flight(LoadingKey{}, key, a.flight.get());
        a.flight->set_exception(std::current_exception());
      }
    }
  }

  using FlightPtr = decltype(CacheT::Acquired::flight);
  /// A refresh on the executor's queue, not started yet.
  struct Pending {
    K key;
    FlightPtr flight;
  };
  /// The refreshes of this state, shared with their tasks (which may outlive it, queued).
  struct Refreshes {
    std::mutex mu;
    std::condition_variable idle;                  // a refresh ended
    std::vector<std::shared_ptr<Pending>> queued;  // not started yet
    int running = 0;

    /// Takes `p` off the queue (and counts it running if `run`); false if it is no longer
    /// there (cancelled by close()).
    bool take(const std::shared_ptr<Pending>& p, bool run) {
      std::lock_guard<std::mutex> lock(mu);
      auto it = std::find(queued.begin(), queued.end(), p);
      if (it == queued.end()) return false;
      queued.erase(it);
      if (run) ++running;
      return true;
    }
  };

  std::unique_ptr<CacheT> owned_;
  CacheT* cache_;
  std::function<V(Args...)> fn_;
  std::function<K(Args...)> key_fn_;
  MemoizeOptions<V> opts_;
  std::shared_ptr<Executor> executor_;
  const bool needs_age_;  // freshness needs the entry's age (refresh-ahead, stale-if-error)
  Registry::Id registry_id_ = 0;
  StripedCounter hits_;
  std::atomic<std::uint64_t> misses_{0}, loads_{0}, load_failures_{0}, refreshes_{0},
      stale_served_{0};
  std::atomic<std::int64_t> load_ns_{0};
  std::shared_ptr<Refreshes> tasks_ = std::make_shared<Refreshes>();
};

template <class CacheT, class ArgList>
struct MemoizedFor;

}  // namespace detail

/// A memoized function: callable like fn, plus fresh / peek / invalidate / stats. Cheap to copy
/// (copies share the cache and the counters). See the file comment for the behaviour.
template <class CacheT, class... Args>
class Memoized {
 public:
  using key_type = typename CacheT::key_type;
  using result_type = typename CacheT::mapped_type;

  /// fn(args...) through the cache (single-flight on a miss). Rethrows fn's exception;
  /// throws larder::LoaderCycle on re-entrant loads.
  result_type operator()(Args... args) const { return state_->call(args...); }
  /// operator() plus whether it was a cache hit and the entry's age (X-Cache, X-Cache-Age).
  MemoResult<result_type> call_with_info(Args... args) const {
    return state_->call_with_info(args...);
  }
  /// Bypasses the cache: calls fn and stores the result (the services' use_cache=false).
  result_type fresh(Args... args) const { return state_->fresh_call(args...); }
  /// The cached result if fresh; never calls fn; no stats, no recency change.
  std::optional<result_type> peek(Args... args) const { return state_->peek(args...); }
  /// Drops the cached result for these arguments; returns whether one was cached.
  bool invalidate(Args... args) const { return state_->invalidate(args...); }
  /// This function's counters (the cache's own are in cache().stats()).
  MemoizeStats stats() const { return state_->stats(); }
  /// The cache behind it (owned, or the one passed to cached()).
  CacheT& cache() const noexcept { return state_->cache(); }

  explicit Memoized(std::shared_ptr<detail::MemoState<CacheT, Args...>> s) : state_(std::move(s)) {}

 private:
  std::shared_ptr<detail::MemoState<CacheT, Args...>> state_;
};

namespace detail {
template <class CacheT, class... A>
struct MemoizedFor<CacheT, TypeList<A...>> {
  using type = Memoized<CacheT, A...>;
  using key = std::tuple<std::decay_t<A>...>;
};

template <class F>
struct OwnedMemo {
  using traits = FnTraits<Fn<F>>;
  using V = memo_result_t<F>;
  using Key = typename MemoizedFor<void, typename traits::args>::key;
  using CacheT = Cache<Key, V>;
  using type = typename MemoizedFor<CacheT, typename traits::args>::type;
};

template <class>
inline constexpr bool kAlwaysFalse = false;
}  // namespace detail

/// Memoizes `fn` behind a cache of its own, keyed by the tuple of its arguments.
template <detail::Memoizable F>
auto cached(F fn, MemoizeOptions<detail::memo_result_t<F>> opts = {}) {
  using M = detail::OwnedMemo<F>;
  return [&]<class... A>(detail::TypeList<A...>) {
    using CacheT = typename M::CacheT;
    using V = typename M::V;
    opts.validate();
    auto cache = std::make_unique<CacheT>(
        typename CacheT::Options{.name = opts.name,
                                 .max_entries = opts.max_entries,
                                 .shards = opts.shards,
                                 .clock = opts.clock,
                                 .background_cleanup = opts.background_cleanup,
                                 .policy = opts.policy});
    auto state = detail::MemoState<CacheT, A...>::make(
        std::move(cache), nullptr, std::function<V(A...)>(std::move(fn)),
        std::function<typename M::Key(A...)>(
            [](A... a) { return typename M::Key(std::forward<A>(a)...); }),
        std::move(opts));
    return Memoized<CacheT, A...>(std::move(state));
  }(typename M::traits::args{});
}

/// (Reached only when fn's signature cannot be read: explains why.)
template <detail::NotMemoizable F>
void cached(F, const MemoizeOptions<int>& = {}) {
  static_assert(detail::kAlwaysFalse<F>,
                "larder::cached: cannot read fn's signature (a generic lambda, or an overloaded "
                "call operator?). Give the lambda explicit parameter types.");
}

/// Memoizes `fn` in an existing cache, under the key `key_fn(args...)`: several functions can
/// share one bounded (or registry-named) cache. `cache` must outlive the result.
///
/// `cache` may be a larder::Cache or a larder::TieredCache (larder/tiered.h). With a TieredCache,
/// an L1 hit returns at once; on a miss one caller per key reads L2 and, if L2 has nothing (or
/// fails), calls fn and writes the result through to both tiers.
template <detail::LoadingCache CacheT, detail::Memoizable F, detail::KeyFnFor<CacheT, F> KeyFn>
auto cached(CacheT& cache, F fn, KeyFn key_fn,
            MemoizeOptions<typename CacheT::mapped_type> opts = {}) {
  using K = typename CacheT::key_type;
  using V = typename CacheT::mapped_type;
  using traits = detail::FnTraits<detail::Fn<F>>;
  static_assert(std::is_convertible_v<detail::memo_result_t<F>, V>,
                "larder::cached: fn's result must convert to the cache's value type");
  return [&]<class... A>(detail::TypeList<A...>) {
    opts.validate();
    auto state = detail::MemoState<CacheT, A...>::make(
        nullptr, &cache, std::function<V(A...)>(std::move(fn)),
        std::function<K(A...)>(std::move(key_fn)), std::move(opts));
    return Memoized<CacheT, A...>(std::move(state));
  }(typename traits::args{});
}

/// (Reached only when key_fn does not fit fn and the cache: explains why.)
template <detail::LoadingCache CacheT, detail::Memoizable F, detail::NotKeyFnFor<CacheT, F> KeyFn>
void cached(CacheT&, F, KeyFn, const MemoizeOptions<typename CacheT::mapped_type>& = {}) {
  static_assert(detail::kAlwaysFalse<KeyFn>,
                "larder::cached(cache, fn, key_fn): key_fn must take fn's arguments and return "
                "the cache's key type, e.g. for fn(int id) and a Cache<std::string, V>: "
                "[](int id) { return \"user:\" + std::to_string(id); }");
}

}  // namespace larder
