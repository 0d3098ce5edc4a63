// Prometheus and JSON rendering: see include/larder/export.h.

#include "larder/export.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace larder {
namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string number(std::uint64_t v) { return std::to_string(v); }

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

// Appends one metric family: its HELP/TYPE lines, then `samples`. A family with no samples is
// left out entirely.
void emit(std::string& out, const Family& f, const std::string& samples) {
  if (samples.empty()) return;
  out += "# HELP ";
  out += f.name;
  out += ' ';
  out += f.help;
  out += "\n# TYPE ";
  out += f.name;
  out += ' ';
  out += f.type;
  out += '\n';
  out += samples;
}

// A family with one sample per cache for which `sample` writes something.
void family(std::string& out, const Family& f, const std::vector<CacheInfo>& caches,
            const std::function<void(std::string&, const CacheInfo&, const std::string&)>& sample) {
  std::string samples;
  for (const CacheInfo& c : caches) sample(samples, c, "cache=\"" + escape_label(c.name) + "\"");
  emit(out, f, samples);
}

void line(std::string& out, const char* name, const std::string& labels, const std::string& v) {
  out += name;
  out += '{';
  out += labels;
  out += "} ";
  out += v;
  out += '\n';
}

// A family with one sample per cache, `value(cache)`; caches for which it is nullopt have none.
void single(std::string& out, const Family& f, const std::vector<CacheInfo>& caches,
            const std::function<std::optional<std::string>(const CacheInfo&)>& value) {
  family(out, f, caches, [&](std::string& o, const CacheInfo& c, const std::string& l) {
    if (std::optional<std::string> v = value(c)) line(o, f.name, l, *v);
  });
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// A family with samples per backend: sample(out, remote info, `backend="<label>"`) for each of
// `backends` (one cache per backend object).
void backend_family(
    std::string& out, const Family& f, const std::vector<CacheInfo>& backends,
    const std::function<void(std::string&, const RemoteInfo&, const std::string&)>& sample) {
  std::string samples;
  for (const CacheInfo& c : backends) {
    sample(samples, *c.remote, "backend=\"" + escape_label(c.remote->backend_label) + "\"");
  }
  emit(out, f, samples);
}

// A TieredCache's remote tier: L2 results, errors by kind, breaker state, latency histogram.
void remote_families(std::string& out, const std::vector<CacheInfo>& caches) {
  using S = const CacheInfo&;
  using L = const std::string&;
  using Opt = std::optional<std::string>;
  family(out,
         {"larder_remote_gets_total", "counter",
          "L1 misses looked up in the remote tier, by result: hit or miss."},
         caches, [](std::string& o, S c, L l) {
           if (!c.remote) return;
           line(o, "larder_remote_gets_total", l + ",result=\"hit\"", number(c.remote->l2_hits));
           line(o, "larder_remote_gets_total", l + ",result=\"miss\"", number(c.remote->l2_misses));
         });
  single(out,
         {"larder_remote_decode_errors_total", "counter", "Remote values that did not decode."},
         caches, [](S c) -> Opt {
           if (!c.remote) return std::nullopt;
           return number(c.remote->decode_errors);
         });
  single(out, {"larder_remote_channel_up", "gauge", "Invalidation channel live (1) or down (0)."},
         caches, [](S c) -> Opt {
           if (!c.remote) return std::nullopt;
           return number(static_cast<std::uint64_t>(c.remote->channel_up));
         });
  // The backend's own counters: once per backend object (label backend="redis-1"), however many
  // caches share it, so that a sum() over them counts each operation once.
  std::vector<CacheInfo> backends;
  for (const CacheInfo& c : caches) {
    if (!c.remote) continue;
    const bool seen = std::any_of(backends.begin(), backends.end(), [&](const CacheInfo& b) {
      return b.remote->backend_label == c.remote->backend_label;
    });
    if (!seen) backends.push_back(c);
  }
  auto per_backend = [&](const Family& f,
                         const std::function<void(std::string&, const RemoteInfo&, L)>& sample) {
    backend_family(out, f, backends, sample);
  };
  per_backend({"larder_remote_errors_total", "counter",
               "Failed remote-tier operations of the backend, by kind."},
              [](std::string& o, const RemoteInfo& r, L l) {
                for (ErrorCode k : {ErrorCode::kTimeout, ErrorCode::kConnection,
                                    ErrorCode::kPoolTimeout, ErrorCode::kBreakerOpen,
                                    ErrorCode::kAuth, ErrorCode::kProtocol, ErrorCode::kServer}) {
                  std::string kind(to_string(k));
                  for (char& ch : kind) ch = ch == ' ' ? '_' : ch;
                  line(o, "larder_remote_errors_total", l + ",kind=\"" + kind + "\"",
                       number(r.stats.errors_of(k)));
                }
              });
  per_backend({"larder_remote_breaker_state", "gauge",
               "Circuit breaker state: 0 closed, 1 open, 2 half-open."},
              [](std::string& o, const RemoteInfo& r, L l) {
                line(o, "larder_remote_breaker_state", l,
                     number(static_cast<std::uint64_t>(r.stats.breaker_state)));
              });
  per_backend(
      {"larder_remote_breaker_opened_total", "counter", "Times the circuit breaker opened."},
      [](std::string& o, const RemoteInfo& r, L l) {
        line(o, "larder_remote_breaker_opened_total", l, number(r.stats.breaker_opened));
      });
  per_backend({"larder_remote_latency_seconds", "histogram", "Latency of remote-tier operations."},
              [](std::string& o, const RemoteInfo& r, L l) {
                const BackendStats& b = r.stats;
                std::uint64_t cumulative = 0;
                for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
                  cumulative += b.latency_buckets[i];
                  const double le = std::chrono::duration<double>(kLatencyBuckets[i]).count();
                  line(o, "larder_remote_latency_seconds_bucket", l + ",le=\"" + number(le) + "\"",
                       number(cumulative));
                }
                line(o, "larder_remote_latency_seconds_bucket", l + ",le=\"+Inf\"",
                     number(b.latency_count));
                line(o, "larder_remote_latency_seconds_sum", l,
                     number(std::chrono::duration<double>(b.latency_sum).count()));
                line(o, "larder_remote_latency_seconds_count", l, number(b.latency_count));
              });
}

}  // namespace

std::string to_prometheus(const std::vector<CacheInfo>& caches) {
  std::string out;
  using S = const CacheInfo&;
  using L = const std::string&;
  using Opt = std::optional<std::string>;
  family(out, {"cache_gets_total", "counter", "Cache lookups, by result: hit or miss."}, caches,
         [](std::string& o, S c, L l) {
           line(o, "cache_gets_total", l + ",result=\"hit\"", number(c.stats.hits));
           line(o, "cache_gets_total", l + ",result=\"miss\"", number(c.stats.misses));
         });
  single(out, {"cache_puts_total", "counter", "Entries stored (new or replaced)."}, caches,
         [](S c) -> Opt { return number(c.stats.puts); });
  single(out, {"cache_evictions_total", "counter", "Entries evicted to stay within the bounds."},
         caches, [](S c) -> Opt { return number(c.stats.evictions); });
  single(
      out,
      {"cache_eviction_weight_total", "counter", "Sum of the weights (bytes) of evicted entries."},
      caches, [](S c) -> Opt { return number(c.stats.evicted_bytes); });
  single(out, {"cache_size", "gauge", "Entries held."}, caches,
         [](S c) -> Opt { return number(c.stats.size); });
  family(out, {"cache_load_total", "counter", "Loads by memoized functions, by result."}, caches,
         [](std::string& o, S c, L l) {
           if (!c.memo) return;
           line(o, "cache_load_total", l + ",result=\"success\"",
                number(c.memo->loads - c.memo->load_failures));
           line(o, "cache_load_total", l + ",result=\"failure\"", number(c.memo->load_failures));
         });
  family(out, {"cache_load_duration_seconds", "summary", "Time spent in loads."}, caches,
         [](std::string& o, S c, L l) {
           if (!c.memo) return;
           const double secs = std::chrono::duration<double>(c.memo->total_load_time).count();
           line(o, "cache_load_duration_seconds_sum", l, number(secs));
           line(o, "cache_load_duration_seconds_count", l, number(c.memo->loads));
         });
  single(out,
         {"larder_cache_expirations_total", "counter", "Entries removed by TTL or idle expiry."},
         caches, [](S c) -> Opt { return number(c.stats.expirations); });
  single(out,
         {"larder_cache_invalidations_total", "counter",
          "Entries removed explicitly (erase, prefix, tag, clear)."},
         caches, [](S c) -> Opt { return number(c.stats.explicit_removals); });
  single(out, {"larder_cache_bytes", "gauge", "Stored bytes (compressed sizes)."}, caches,
         [](S c) -> Opt { return number(c.stats.bytes); });
  single(out, {"larder_cache_capacity", "gauge", "Maximum entries (0: unbounded)."}, caches,
         [](S c) -> Opt { return number(c.stats.capacity); });
  single(out, {"larder_cache_utilization", "gauge", "Size over capacity (0: unbounded)."}, caches,
         [](S c) -> Opt { return number(c.utilization()); });
  single(out,
         {"larder_cache_compression_ratio", "gauge",
          "Compressed over original bytes of compressed values (1: none)."},
         caches, [](S c) -> Opt { return number(c.stats.compression_ratio()); });
  single(out,
         {"larder_cache_decode_errors_total", "counter", "Stored bytes that failed to decode."},
         caches, [](S c) -> Opt { return number(c.stats.decode_errors); });
  single(out,
         {"larder_cache_uncacheable_total", "counter",
          "Values returned without being stored: too heavy for the cache."},
         caches, [](S c) -> Opt { return number(c.stats.uncacheable); });
  single(out,
         {"larder_cache_admissions_total", "counter",
          "TinyLFU: window entries the frequency filter let into the main area."},
         caches, [](S c) -> Opt { return number(c.stats.admissions); });
  single(out,
         {"larder_cache_rejected_total", "counter",
          "TinyLFU: window entries the frequency filter evicted instead (also in evictions)."},
         caches, [](S c) -> Opt { return number(c.stats.rejected); });
  single(out,
         {"larder_cache_window_fraction", "gauge",
          "TinyLFU: the admission window's share of the capacity (0: LRU)."},
         caches, [](S c) -> Opt { return number(c.stats.window_fraction); });
  single(
      out,
      {"larder_cache_refreshes_total", "counter", "Background refreshes started (refresh-ahead)."},
      caches, [](S c) -> Opt {
        if (!c.memo) return std::nullopt;
        return number(c.memo->refreshes);
      });
  single(out,
         {"larder_cache_stale_served_total", "counter",
          "Expired values served because a load failed (stale-if-error)."},
         caches, [](S c) -> Opt {
           if (!c.memo) return std::nullopt;
           return number(c.memo->stale_served);
         });
  remote_families(out, caches);
  return out;
}

std::string to_prometheus(const Registry& registry) { return to_prometheus(registry.snapshot()); }

std::string to_json(const std::vector<CacheInfo>& caches, const RegistrySummary& summary) {
  std::string out = "{\"caches\":[";
  bool first = true;
  for (const CacheInfo& c : caches) {
    if (!first) out += ',';
    first = false;
    const Stats& s = c.stats;
    out += "{\"name\":" + json_string(c.name) + ",\"kind\":" + json_string(c.kind);
    auto field = [&](const char* k, const std::string& v) {
      out += ",\"";
      out += k;
      out += "\":";
      out += v;
    };
    field("hits", number(s.hits));
    field("misses", number(s.misses));
    field("hit_rate", number(s.hit_rate()));
    field("puts", number(s.puts));
    field("updates", number(s.updates));
    field("evictions", number(s.evictions));
    field("evicted_bytes", number(s.evicted_bytes));
    field("expirations", number(s.expirations));
    field("explicit_removals", number(s.explicit_removals));
    field("size", number(s.size));
    field("bytes", number(s.bytes));
    field("capacity", number(s.capacity));
    field("capacity_bytes", number(s.capacity_bytes));
    field("utilization", number(c.utilization()));
    field("compressed", number(s.compressed));
    field("compression_ratio", number(s.compression_ratio()));
    field("decode_errors", number(s.decode_errors));
    field("uncacheable", number(s.uncacheable));
    field("admissions", number(s.admissions));
    field("rejected", number(s.rejected));
    field("window_fraction", number(s.window_fraction));
    if (c.memo) {
      const MemoizeStats& m = *c.memo;
      out +=
          ",\"memo\":{\"hits\":" + number(m.hits) + ",\"misses\":" + number(m.misses) +
          ",\"loads\":" + number(m.loads) + ",\"load_failures\":" + number(m.load_failures) +
          ",\"load_seconds\":" + number(std::chrono::duration<double>(m.total_load_time).count()) +
          ",\"refreshes\":" + number(m.refreshes) + ",\"stale_served\":" + number(m.stale_served) +
          "}";
    }
    if (c.remote) {
      const RemoteInfo& r = *c.remote;
      out += ",\"remote\":{\"backend\":" + json_string(r.backend) +
             ",\"hits\":" + number(r.l2_hits) + ",\"misses\":" + number(r.l2_misses) +
             ",\"errors\":" + number(r.l2_errors) +
             ",\"decode_errors\":" + number(r.decode_errors) +
             ",\"breaker\":" + json_string(std::string(to_string(r.stats.breaker_state))) +
             ",\"channel_up\":" + (r.channel_up ? "true" : "false") +
             ",\"backend_label\":" + json_string(r.backend_label) + "}";
    }
    out += '}';
  }
  out += "],\"summary\":{\"caches\":" + number(summary.caches) +
         ",\"hits\":" + number(summary.hits) + ",\"misses\":" + number(summary.misses) +
         ",\"hit_rate\":" + number(summary.hit_rate()) + ",\"size\":" + number(summary.size) +
         ",\"bytes\":" + number(summary.bytes) + "}}";
  return out;
}

std::string to_json(const Registry& registry) {
  const std::vector<CacheInfo> caches = registry.snapshot();
  return to_json(caches, summarize(caches));
}

}  // namespace larder
