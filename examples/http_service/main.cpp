// A small HTTP service on 127.0.0.1 using larder the way the services it replaces do:
//   GET  /expensive?n=N[&use_cache=false]  an "expensive" computation served through
//                                          larder::cached; X-Cache: HIT|MISS, X-Cache-Age: s
//   GET  /cache/stats                      JSON snapshot of every named cache
//   GET  /metrics                          Prometheus text
//   POST /cache/invalidate[?name=NAME]     clear one cache by name, or all of them
//   GET  /session?id=ID                    a session through a TieredCache (L1 + the remote
//                                          tier); X-Cache: HIT-L1|HIT-L2|MISS, X-Cache-Age: s
//   GET  /health                           JSON: the remote tier's server (keys, memory,
//                                          clients, uptime) and its ping
// plus named caches with their own TTL and size (task status 2 s/500, worker status 5 s/100,
// health 10 s/50, sessions 30 min/1,000 in two tiers) and a maintenance thread running the
// expiry cleanup every 60 s. examples/http_service/grafana-dashboard.json charts its /metrics
// (prometheus_test.sh has a real Prometheus scrape it and checks every query's metric).
//
// Usage: http_service [PORT]   (PORT 0 or absent: any free port). Prints
// "listening on 127.0.0.1:PORT" once ready. Stop it with SIGTERM/SIGINT.
#include <httplib.h>
#include <larder/cache.h>
#include <larder/export.h>
#include <larder/maintenance.h>
#include <larder/memoize.h>
#include <larder/memory_backend.h>
#include <larder/registry.h>
#include <larder/tiered.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <utility>

using namespace std::chrono_literals;

namespace {

httplib::Server* g_server = nullptr;

extern "C" void on_signal(int) {
  if (g_server) g_server->stop();
}

// Stands in for a slow database query or computation: the n-th Fibonacci number (mod 2^64),
// after 20 ms of "I/O".
std::uint64_t expensive(std::uint64_t n) {
  std::this_thread::sleep_for(20ms);
  std::uint64_t a = 0, b = 1;
  for (std::uint64_t i = 0; i < n; ++i) a = std::exchange(b, a + b);
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const int port_arg = argc > 1 ? std::stoi(argv[1]) : 0;
  larder::Registry& registry = larder::Registry::global();

  // The services' named caches, each with its own TTL and bound.
  larder::Cache<std::string, std::string> task_status(
      {.name = "task_status", .max_entries = 500, .default_ttl = 2s, .registry = &registry});
  larder::Cache<std::string, std::string> worker_status(
      {.name = "worker_status", .max_entries = 100, .default_ttl = 5s, .registry = &registry});
  larder::Cache<std::string, std::string> health(
      {.name = "health", .max_entries = 50, .default_ttl = 10s, .registry = &registry});
  auto compute = larder::cached(
      [](std::uint64_t n) { return expensive(n); },
      {.name = "expensive", .max_entries = 10'000, .ttl = 5min, .registry = &registry});

  // The remote tier the service's health endpoint reports on (a RedisBackend in production; the
  // in-process MemoryBackend here, so the example needs no server).
  auto backend = std::make_shared<larder::MemoryBackend>();
  if (!backend->set("service:started", "1", larder::kNoExpiry)) return 1;

  // Sessions in two tiers: this process's L1 in front of the shared remote tier.
  larder::TieredCache<std::string, std::string> sessions(
      {.name = "sessions", .max_entries = 1000, .default_ttl = 30min}, backend,
      {.registry = &registry, .key_namespace = "sessions"});

  larder::Maintenance maintenance({.log = [](std::string_view job, std::string_view error) {
    std::cerr << "maintenance job " << job << " failed: " << error << "\n";
  }});
  maintenance.cleanup(registry, 60s);
  maintenance.start();

  httplib::Server server;
  server.Get("/expensive", [&](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("n")) {
      res.status = 400;
      res.set_content("missing ?n=\n", "text/plain");
      return;
    }
    const std::uint64_t n = std::stoull(req.get_param_value("n"));
    const bool use_cache = req.get_param_value("use_cache") != "false";
    larder::MemoResult<std::uint64_t> r =
        use_cache ? compute.call_with_info(n)
                  : larder::MemoResult<std::uint64_t>{compute.fresh(n), false, {}};
    res.set_header("X-Cache", r.hit ? "HIT" : "MISS");
    res.set_header("X-Cache-Age",
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(r.age).count()));
    res.set_content(std::to_string(r.value) + "\n", "text/plain");
  });
  server.Get("/session", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.get_param_value("id");
    larder::TieredLookupResult<std::string> r = sessions.lookup(id);
    if (!r.hit()) {
      r.value = "{\"session\":\"" + id + "\"}";  // a new session (a database read, in life)
      sessions.put(id, *r.value);
    }
    res.set_header("X-Cache", r.tier == larder::Tier::kL1   ? "HIT-L1"
                              : r.tier == larder::Tier::kL2 ? "HIT-L2"
                                                            : "MISS");
    res.set_header("X-Cache-Age",
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(r.age).count()));
    res.set_content(*r.value + "\n", "application/json");
  });
  server.Get("/cache/stats", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(larder::to_json(registry), "application/json");
  });
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(larder::to_prometheus(registry), "text/plain; version=0.0.4");
  });
  server.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
    const larder::Result<larder::ServerInfo> info = backend->server_info();
    const larder::Result<larder::Duration> ping = backend->ping();
    if (!info || !ping) {
      res.status = 503;
      res.set_content("{\"status\":\"degraded\",\"error\":\"" +
                          (info ? ping.error().message : info.error().message) + "\"}",
                      "application/json");
      return;
    }
    res.set_content(
        "{\"status\":\"ok\",\"backend\":{\"kind\":\"" + info->kind + "\",\"version\":\"" +
            info->version + "\",\"keys\":" + std::to_string(info->keys) +
            ",\"used_memory\":" + std::to_string(info->used_memory) +
            ",\"connected_clients\":" + std::to_string(info->connected_clients) +
            ",\"uptime_s\":" + std::to_string(info->uptime.count()) + ",\"ping_us\":" +
            std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(*ping).count()) +
            "}}",
        "application/json");
  });
  server.Post("/cache/invalidate", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("name")) {
      const std::string name = req.get_param_value("name");
      if (!registry.invalidate(name)) {
        res.status = 404;
        res.set_content("{\"error\":\"no cache named " + name + "\"}", "application/json");
        return;
      }
      res.set_content("{\"invalidated\":1}", "application/json");
      return;
    }
    res.set_content("{\"invalidated\":" + std::to_string(registry.invalidate_all()) + "}",
                    "application/json");
  });

  g_server = &server;
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  const int port = port_arg > 0 ? (server.bind_to_port("127.0.0.1", port_arg) ? port_arg : -1)
                                : server.bind_to_any_port("127.0.0.1");
  if (port < 0) {
    std::cerr << "cannot bind 127.0.0.1:" << port_arg << "\n";
    return 1;
  }
  std::cout << "listening on 127.0.0.1:" << port << std::endl;
  server.listen_after_bind();
  maintenance.shutdown();
  return 0;
}
