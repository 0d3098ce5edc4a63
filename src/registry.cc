// The cache registry: see include/larder/registry.h.
//
// Entries live in shared_ptrs: an operation copies the ones it needs under the registry mutex,
// releases it, and calls each entry's hooks under that entry's shared lock. remove() unlinks the
// entry, then takes its exclusive lock, which waits for hook calls in progress; after that the
// entry is dead and its hooks are never called again (the cache may be destroyed).

#include "larder/registry.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "larder/errors.h"

namespace larder {

struct Registry::Impl {
  struct Entry {
    Id id;
    std::string name;
    std::string kind;
    Hooks hooks;
    mutable std::shared_mutex use;
    bool alive = true;  // guarded by `use`
  };

  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> by_name;
  Id next_id = 1;

  std::vector<std::shared_ptr<Entry>> entries() const {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::shared_ptr<Entry>> out;
    out.reserve(by_name.size());
    for (const auto& [name, e] : by_name) out.push_back(e);
    return out;
  }
  std::shared_ptr<Entry> entry(std::string_view name) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  }
  // Calls f(entry) under the entry's shared lock if it is still alive.
  template <class F>
  static bool with(const Entry& e, F&& f) {
    std::shared_lock<std::shared_mutex> lock(e.use);
    if (!e.alive) return false;
    f(e);
    return true;
  }
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

Registry& Registry::global() {
  static Registry* r = new Registry;  // never destroyed: static caches may unregister at exit
  return *r;
}

Registry::Id Registry::add(std::string name, std::string kind, Hooks hooks) {
  if (name.empty()) {
    throw InvalidArgument("larder: a registered " + kind + " needs a name (Options.name is empty)");
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->by_name.count(name)) {
    throw InvalidArgument("larder: a cache named \"" + name + "\" is already registered");
  }
  auto e = std::make_shared<Impl::Entry>();
  e->id = impl_->next_id++;
  e->name = name;
  e->kind = std::move(kind);
  e->hooks = std::move(hooks);
  const Id id = e->id;
  impl_->by_name.emplace(std::move(name), std::move(e));
  return id;
}

void Registry::remove(Id id) noexcept {
  std::shared_ptr<Impl::Entry> e;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto it = impl_->by_name.begin(); it != impl_->by_name.end(); ++it) {
      if (it->second->id == id) {
        e = it->second;
        impl_->by_name.erase(it);
        break;
      }
    }
  }
  if (!e) return;
  std::unique_lock<std::shared_mutex> lock(e->use);  // waits for hook calls in progress
  e->alive = false;
}

std::vector<std::string> Registry::names() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<std::string> out;
  for (const auto& [name, e] : impl_->by_name) out.push_back(name);
  return out;
}

std::optional<CacheInfo> Registry::find(std::string_view name) const {
  std::optional<CacheInfo> out;
  if (auto e = impl_->entry(name)) {
    Impl::with(*e, [&](const Impl::Entry& x) { out = x.hooks.info(); });
  }
  return out;
}

std::vector<CacheInfo> Registry::snapshot() const {
  std::vector<CacheInfo> out;
  for (const auto& e : impl_->entries()) {
    Impl::with(*e, [&](const Impl::Entry& x) { out.push_back(x.hooks.info()); });
  }
  return out;
}

RegistrySummary summarize(const std::vector<CacheInfo>& caches) {
  RegistrySummary s;
  for (const CacheInfo& c : caches) {
    ++s.caches;
    s.hits += c.stats.hits;
    s.misses += c.stats.misses;
    s.size += c.stats.size;
    s.bytes += c.stats.bytes;
  }
  return s;
}

RegistrySummary Registry::summary() const { return summarize(snapshot()); }

bool Registry::invalidate(std::string_view name) {
  auto e = impl_->entry(name);
  return e && Impl::with(*e, [](const Impl::Entry& x) { x.hooks.clear(); });
}

bool Registry::rebuild(std::string_view name, const std::function<void()>& fill) {
  auto e = impl_->entry(name);
  return e && Impl::with(*e, [&](const Impl::Entry& x) {
           if (x.hooks.rebuild) {
             x.hooks.rebuild(fill);
           } else {
             x.hooks.clear();
             fill();
           }
         });
}

std::size_t Registry::invalidate_all() {
  std::size_t n = 0;
  for (const auto& e : impl_->entries()) {
    n += Impl::with(*e, [](const Impl::Entry& x) { x.hooks.clear(); });
  }
  return n;
}

std::size_t Registry::cleanup_all() {
  std::size_t n = 0;
  for (const auto& e : impl_->entries()) {
    Impl::with(*e, [&](const Impl::Entry& x) { n += x.hooks.cleanup(); });
  }
  return n;
}

}  // namespace larder
