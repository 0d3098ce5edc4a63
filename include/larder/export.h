// larder/export.h — a registry's caches as Prometheus text or JSON, for a metrics or stats
// endpoint.
//
//   res.set_content(larder::to_prometheus(larder::Registry::global()),
//                   "text/plain; version=0.0.4");
//   res.set_content(larder::to_json(larder::Registry::global()), "application/json");
//
// Prometheus text exposition format 0.0.4, Micrometer's cache metric names with a `cache` label:
//   cache_gets_total{result="hit"|"miss"}   cache_puts_total   cache_evictions_total
//   cache_eviction_weight_total             cache_size
//   cache_load_total{result="success"|"failure"}, cache_load_duration_seconds_{sum,count}
//                                           (memoized functions)
// and larder's own: larder_cache_expirations_total, larder_cache_invalidations_total (explicit
// removals), larder_cache_bytes, larder_cache_capacity, larder_cache_utilization,
// larder_cache_compression_ratio, larder_cache_decode_errors_total, and for memoized functions
// larder_cache_refreshes_total and larder_cache_stale_served_total. Label values are escaped as
// the format requires (backslash, double quote, newline). Output is checked with
// `promtool check metrics` in the test suite.
#pragma once

#include <string>
#include <vector>

#include "larder/registry.h"

namespace larder {

/// Prometheus text (0.0.4) for these caches.
std::string to_prometheus(const std::vector<CacheInfo>& caches);
/// Prometheus text (0.0.4) for every cache in `registry`.
std::string to_prometheus(const Registry& registry);

/// {"caches": [ {name, kind, hits, ..., "memo": {...}} ], "summary": {...}}
std::string to_json(const std::vector<CacheInfo>& caches, const RegistrySummary& summary);
/// The same for every cache in `registry`.
std::string to_json(const Registry& registry);

}  // namespace larder
