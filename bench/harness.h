// Shared by larder's benchmark binaries: runs Google Benchmark with a reporter that keeps every
// run's counters, then calls the binary's summary (Mops/s tables, ratios, PASS / FALL SHORT).
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace larder_bench {

/// Counters of every finished run, by "function[/args]@threads", e.g. "getput/larder/read100@2".
class Results {
 public:
  /// The counter's final value (rates are per second), or 0 if absent.
  double get(const std::string& run, const std::string& counter) const {
    auto r = runs_.find(run);
    if (r == runs_.end()) return 0;
    auto c = r->second.find(counter);
    return c == r->second.end() ? 0 : c->second;
  }
  /// items_per_second / 1e6.
  double mops(const std::string& run) const { return get(run, "items_per_second") / 1e6; }
  bool has(const std::string& run) const { return runs_.count(run) != 0; }
  void add(const std::string& run, const std::string& counter, double v) {
    runs_[run][counter] = v;
  }

 private:
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
      for (const auto& [name, c] : r.counters) out_.add(key, name, c.value);
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
