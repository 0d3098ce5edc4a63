// Bulk reads: a repository that asks its database once for everything a page needs.
// get_all() answers what the cache has, and loads the rest with ONE bulk query; concurrent
// callers share loads key by key. The same calls work on a TieredCache (here over the
// in-process MemoryBackend), where the misses also cost ONE L2 round trip.
#include <larder/cache.h>
#include <larder/memory_backend.h>
#include <larder/tiered.h>

#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace {
struct Database {
  int queries = 0;
  std::size_t rows = 0;
  // SELECT id, name FROM users WHERE id IN (...): ids it does not know are left out.
  std::vector<std::pair<std::string, std::string>> users(const std::vector<std::string>& ids) {
    ++queries;
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& id : ids) {
      if (id != "u:404") out.emplace_back(id, "name of " + id);
    }
    rows += out.size();
    return out;
  }
};
}  // namespace

int main() {
  Database db;
  larder::Cache<std::string, std::string> users({.name = "users", .max_entries = 10'000});
  users.put_many(
      std::vector<std::pair<std::string, std::string>>{{"u:1", "Ada"}, {"u:2", "Grace"}});

  auto load = [&](const std::vector<std::string>& missing) { return db.users(missing); };
  const std::vector<std::string> page{"u:1", "u:2", "u:3", "u:4", "u:404"};
  const auto found = users.get_all(page, load);
  std::cout << "get_all of " << page.size() << " users (2 cached) -> " << db.queries
            << " query for " << db.rows << " rows\n";
  for (std::size_t i = 0; i < page.size(); ++i) {
    std::cout << "  " << page[i] << ": " << found[i].value_or("(absent)") << "\n";
  }
  const auto again = users.get_many(page);  // all from the cache now; u:404 stays absent
  std::cout << "get_many of the same page -> " << (again[2] ? "hit" : "miss") << ", " << db.queries
            << " query in all\n";

  // Two services' caches on one remote tier: what one loads, the other reads from L2.
  auto l2 = std::make_shared<larder::MemoryBackend>();
  larder::TieredCache<std::string, std::string> web({.max_entries = 1000}, l2);
  larder::TieredCache<std::string, std::string> api({.max_entries = 1000}, l2);
  web.get_all(std::vector<std::string>{"u:7", "u:8"}, load);
  const auto from_l2 = api.get_many({"u:7", "u:8"});
  std::cout << "api read " << (from_l2[0] && from_l2[1] ? 2 : 0)
            << " users web loaded, from L2, database queries: " << db.queries << "\n";
  return 0;
}
