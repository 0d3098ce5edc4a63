// A multi-tenant user repository, as a real service caches it, across two processes sharing
// one Redis: profiles, permissions and a "recent documents" feed per user and tenant, every
// entry tagged with its user, each tenant in its own namespace on one connection pool.
//
//   ./tenants redis://127.0.0.1:6379/0   # forks: process A (parent) and B (child) on Redis
//   ./tenants                            # no Redis: both "processes" in this one, MemoryBackend
//
// What it shows, with the database queries each process makes:
//   1. B reads user 42 of tenant acme (3 key families) and of tenant globex: 4 queries.
//   2. A reads the same: 0 queries (Redis has them).
//   3. acme changes user 42's role; A calls invalidate_tag("user:42") in acme's namespace: every
//      acme entry of user 42 goes from Redis and from B's L1 (one message), whatever the key
//      looks like ("profile:42", "perm:42", "feed:recent:42"); globex's user 42 stays cached.
//   4. B reads again: 3 queries (acme, the new role visible), globex from L1 with its age.
//   5. A clears globex (offboarding): acme's entries stay (1 query: globex's profile).
// The "database" is a directory of files both processes read, so a query is a real read of the
// shared source of truth.
#include <larder/memory_backend.h>
#include <larder/redis_backend.h>
#include <larder/tiered.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// What the service caches per user: codable in one line each.
struct Profile {
  std::uint64_t id = 0;
  std::string name;
  std::string role;
};
template <>
struct larder::Fields<Profile> : larder::Members<&Profile::id, &Profile::name, &Profile::role> {};

/// The source of truth: one file per (tenant, record), read on every query.
class Database {
 public:
  explicit Database(fs::path dir) : dir_(std::move(dir)) {}
  void write(const std::string& tenant, const std::string& record, const std::string& text) {
    fs::create_directories(dir_ / tenant);
    std::ofstream(dir_ / tenant / record) << text;
  }
  std::string read(const std::string& tenant, const std::string& record) {
    ++queries;
    std::ifstream in(dir_ / tenant / record);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  int queries = 0;  // this process's

 private:
  fs::path dir_;
};

/// One tenant's cached view of the database: a TieredCache per value type, all in the tenant's
/// namespace on the shared backend (the namespace scopes tags, clear() and messages).
class TenantRepository {
 public:
  TenantRepository(const std::string& tenant, const std::shared_ptr<larder::Backend>& backend,
                   Database& db)
      : tenant_(tenant),
        db_(db),
        profiles_(options<Profile>("profiles"), backend, {.key_namespace = "tenant-" + tenant}),
        perms_(options<Permissions>("perms"), backend, {.key_namespace = "tenant-" + tenant}),
        feeds_(options<Feed>("feeds"), backend, {.key_namespace = "tenant-" + tenant}) {}

  using Permissions = std::vector<std::string>;
  using Feed = std::map<std::string, std::uint32_t>;  // document -> views

  Profile profile(std::uint64_t uid) {
    return profiles_.get_or_load(
        "profile:" + std::to_string(uid),
        [&] {
          std::istringstream in(db_.read(tenant_, "user-" + std::to_string(uid)));
          Profile p{uid, {}, {}};
          in >> p.name >> p.role;
          return p;
        },
        tagged(uid));
  }
  Permissions permissions(std::uint64_t uid) {
    return perms_.get_or_load(
        "perm:" + std::to_string(uid),
        [&] {
          std::istringstream in(db_.read(tenant_, "perm-" + std::to_string(uid)));
          return Permissions(std::istream_iterator<std::string>(in), {});
        },
        tagged(uid));
  }
  Feed recent_documents(std::uint64_t uid) {
    return feeds_.get_or_load(
        "feed:recent:" + std::to_string(uid),
        [&] {
          std::istringstream in(db_.read(tenant_, "feed-" + std::to_string(uid)));
          Feed f;
          std::string doc;
          std::uint32_t views = 0;
          while (in >> doc >> views) f[doc] = views;
          return f;
        },
        tagged(uid));
  }
  /// Everything cached about user `uid` in this tenant, in every process, whatever its key.
  std::size_t invalidate_user(std::uint64_t uid) {
    const std::string tag = "user:" + std::to_string(uid);
    return profiles_.invalidate_tag(tag) + perms_.invalidate_tag(tag) + feeds_.invalidate_tag(tag);
  }
  /// The tenant is gone: its keys, in every process; other tenants keep theirs.
  void clear() {
    profiles_.clear();
    perms_.clear();
    feeds_.clear();
  }
  /// Whether this process's L1 still holds anything of user `uid`.
  /// Waits (bounded) until the invalidation channel of each cache is up.
  bool subscribed() {
    return profiles_.wait_for_channel(true, 10s) && perms_.wait_for_channel(true, 10s) &&
           feeds_.wait_for_channel(true, 10s);
  }
  bool holds_user(std::uint64_t uid) {
    const std::string id = std::to_string(uid);
    return profiles_.l1().contains("profile:" + id) || perms_.l1().contains("perm:" + id) ||
           feeds_.l1().contains("feed:recent:" + id);
  }
  larder::TieredCache<std::string, Profile>& profiles() { return profiles_; }

 private:
  template <class V>
  larder::Options<std::string, V> options(const std::string& what) const {
    return {.name = what + "-" + tenant_, .max_entries = 10'000, .default_ttl = 10min};
  }
  static larder::PutOptions tagged(std::uint64_t uid) {
    return {.tags = {"user:" + std::to_string(uid)}};
  }

  std::string tenant_;
  Database& db_;
  larder::TieredCache<std::string, Profile> profiles_;
  larder::TieredCache<std::string, Permissions> perms_;
  larder::TieredCache<std::string, Feed> feeds_;
};

/// One process of the service: a repository per tenant over one backend (one pool).
struct Process {
  Process(std::shared_ptr<larder::Backend> backend, Database& db)
      : db(db), acme("acme", backend, db), globex("globex", backend, db) {}
  Database& db;
  TenantRepository acme, globex;

  bool subscribed() { return acme.subscribed() && globex.subscribed(); }
  std::string read_user_42() {
    const int before = db.queries;
    const Profile p = acme.profile(42);
    const std::size_t perms = acme.permissions(42).size();
    const std::size_t docs = acme.recent_documents(42).size();
    const Profile g = globex.profile(42);
    return "acme " + p.name + " (" + p.role + ", " + std::to_string(perms) + " permissions, " +
           std::to_string(docs) + " recent docs), globex " + g.name + " (" + g.role +
           "): " + std::to_string(db.queries - before) + " database queries";
  }
};

namespace {

void seed(Database& db) {
  db.write("acme", "user-42", "Ada viewer");
  db.write("acme", "perm-42", "read comment");
  db.write("acme", "feed-42", "q3-plan 12 roadmap 3");
  db.write("globex", "user-42", "Grace admin");
}

// Runs `reply(step)` in process B: in the child through pipes, or right here.
struct PeerB {
  int to_b = -1, from_b = -1;
  Process* local = nullptr;
  std::string ask(const std::string& step);
};

std::string run_step(Process& b, const std::string& step) {
  if (step == "read") return b.read_user_42();
  if (step == "after invalidation") {
    // The message is on its way from A: wait (bounded) until this L1 has dropped user 42.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (b.acme.holds_user(42)) {
      if (std::chrono::steady_clock::now() > deadline) return "the invalidation did not arrive";
      b.acme.profiles().wait_for_invalidations(~std::uint64_t{0}, 10ms);
    }
    const std::string r = b.read_user_42();
    const auto g = b.globex.profiles().lookup("profile:42");
    return r + "; globex profile:42 from " + std::string(larder::to_string(g.tier)) + ", " +
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(g.age).count()) +
           " ms old";
  }
  return "unknown step";
}

std::string read_line(int fd) {
  std::string s;
  char c = 0;
  while (read(fd, &c, 1) == 1 && c != '\n') s += c;
  return s;
}
void write_line(int fd, const std::string& s) {
  const std::string line = s + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::exit(3);
}

std::string PeerB::ask(const std::string& step) {
  if (local) return run_step(*local, step);
  write_line(to_b, step);
  return read_line(from_b);
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path dir = fs::temp_directory_path() / ("larder-tenants-" + std::to_string(getpid()));
  Database db(dir);
  seed(db);
  const bool redis = argc > 1;
  const std::string prefix = "larder-tenants-" + std::to_string(getpid()) + ":";  // this run's
  auto make_backend = [&]() -> std::shared_ptr<larder::Backend> {
    if (!redis) return std::make_shared<larder::MemoryBackend>();
    return std::make_shared<larder::RedisBackend>(
        larder::RedisOptions{.uri = argv[1], .key_prefix = prefix, .command_timeout = 1s});
  };

  PeerB b;                                  // steps run in B
  std::shared_ptr<larder::Backend> shared;  // the one backend, without Redis
  std::unique_ptr<Process> local_b;
  pid_t child = -1;
  int a_to_b[2], b_to_a[2];
  if (redis) {
    if (pipe(a_to_b) != 0 || pipe(b_to_a) != 0) return 2;
    std::fflush(stdout);
    child = fork();
    if (child == 0) {  // process B: its own backend, pool and caches; steps on request
      close(a_to_b[1]);
      close(b_to_a[0]);
      Database own(dir);
      Process p(make_backend(), own);
      if (!p.subscribed()) std::_Exit(4);
      for (std::string step; !(step = read_line(a_to_b[0])).empty();) {
        write_line(b_to_a[1], run_step(p, step));
      }
      std::_Exit(0);
    }
    close(a_to_b[0]);
    close(b_to_a[1]);
    b.to_b = a_to_b[1];
    b.from_b = b_to_a[0];
  } else {
    shared = make_backend();
    local_b = std::make_unique<Process>(shared, db);
    b.local = local_b.get();
  }
  Database a_db(dir);
  Process a(redis ? make_backend() : shared, a_db);
  if (!a.subscribed()) return 4;
  std::printf("processes: %s\n", redis ? "A (pid parent) and B (forked), one Redis"
                                       : "A and B in one process, one MemoryBackend");

  std::printf("1. B reads user 42: %s\n", b.ask("read").c_str());
  std::printf("2. A reads user 42: %s\n", a.read_user_42().c_str());

  db.write("acme", "user-42", "Ada editor");  // the role changes in the database
  db.write("acme", "perm-42", "read comment edit");
  const std::size_t removed = a.acme.invalidate_user(42);
  std::printf("3. A invalidates acme user 42: %zu keys removed from L2\n", removed);
  std::printf("4. B reads user 42 again: %s\n", b.ask("after invalidation").c_str());

  a.globex.clear();
  std::printf("5. A clears tenant globex; A reads user 42: %s\n", a.read_user_42().c_str());

  a.acme.clear();  // this run's keys (its tag sets expire with their members' TTLs)
  if (redis) {
    close(b.to_b);  // B's loop ends
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  fs::remove_all(dir);
  return 0;
}
