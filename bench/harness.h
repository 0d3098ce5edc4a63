// Shared by larder's benchmark binaries: runs Google Benchmark with a reporter that keeps every
// run's counters, then calls the binary's summary (Mops/s tables, ratios, PASS / FALL SHORT).
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace larder_bench {

/// Counters of every finished run, by "function[/args]@threads", e.g. "getput/larder/read100@2".
/// With --benchmark_repetitions=N a run keeps the counters of its fastest repetition (highest
/// items_per_second), the same rule for every peer: on a shared machine, interference from
/// other tenants only ever slows a repetition down.
class Results {
 public:
  /// The counter's final value (rates are per second), or 0 if absent.
  double get(const std::string& run, const std::string& counter) const {
    auto r = runs_.find(run);
    return r == runs_.end() ? 0 : value(r->second, counter);
  }
  /// items_per_second / 1e6.
  double mops(const std::string& run) const { return get(run, "items_per_second") / 1e6; }
  bool has(const std::string& run) const { return runs_.count(run) != 0; }
  /// Records one repetition's counters for `run`, unless an earlier one was faster.
  void offer(const std::string& run, std::map<std::string, double> counters) {
    auto it = runs_.find(run);
    if (it != runs_.end() &&
        value(it->second, "items_per_second") >= value(counters, "items_per_second")) {
      return;
    }
    runs_[run] = std::move(counters);
  }

 private:
  static double value(const std::map<std::string, double>& counters, const std::string& name) {
    auto c = counters.find(name);
    return c == counters.end() ? 0 : c->second;
  }
  std::map<std::string, std::map<std::string, double>> runs_;
};

namespace detail {
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  explicit CollectingReporter(Results& out) : out_(out) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      // Appended piece by piece: GCC 12 warns falsely on "literal" + std::string (bug 105651).
      std::string key = r.run_name.function_name;
      if (!r.run_name.args.empty()) key.append("/").append(r.run_name.args);
      key.append("@").append(std::to_string(r.threads));
      std::map<std::string, double> counters;
      for (const auto& [name, c] : r.counters) counters[name] = c.value;
      out_.offer(key, std::move(counters));
    }
    ConsoleReporter::ReportRuns(runs);
  }

 private:
  Results& out_;
};
}  // namespace detail

/// Runs the registered benchmarks (command-line flags as usual), then `summary(results)`.
template <class Summary>
int run_benchmarks(int argc, char** argv, Summary&& summary) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Results results;
  detail::CollectingReporter reporter(results);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  summary(results);
  return 0;
}

}  // namespace larder_bench
