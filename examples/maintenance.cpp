// Scheduled jobs around caches: a leaderboard rebuilt every 20 ms while a reader keeps reading
// it, a report due daily at 02:00 Berlin time, and an admin "run it now". rebuild() writes the
// new contents while readers still see the old ones, then drops what it did not write, so a
// reader never misses; clearing first and refilling (shown for comparison) leaves a window of
// misses on every rebuild.
#include <larder/cache.h>
#include <larder/calendar.h>
#include <larder/maintenance.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {
constexpr int kPlayers = 200;

// The expensive query a rebuild runs: every player's score for this round.
void compute_scores(larder::Cache<std::string, int>& board, int round) {
  for (int p = 0; p < kPlayers; ++p) {
    std::this_thread::sleep_for(5us);  // a query's worth of work per row
    board.put("player:" + std::to_string(p), round * 1000 + p);
  }
}

struct Reads {
  long total = 0;
  long misses = 0;
};

// Reads every player, over and over, until `stop`.
Reads read_until(larder::Cache<std::string, int>& board, const std::atomic<bool>& stop) {
  Reads r;
  while (!stop.load()) {
    for (int p = 0; p < kPlayers; ++p) {
      ++r.total;
      if (!board.get("player:" + std::to_string(p))) ++r.misses;
    }
  }
  return r;
}

// Runs `jobs` until the job named `name` has run `n` times, with `board` read meanwhile.
Reads during_runs(larder::Maintenance& jobs, larder::Cache<std::string, int>& board,
                  const std::string& name, std::uint64_t n) {
  std::atomic<bool> stop{false};
  Reads r;
  std::thread reader([&] { r = read_until(board, stop); });
  jobs.start();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  auto runs = [&] {
    for (const auto& j : jobs.jobs()) {
      if (j.name == name) return j.runs;
    }
    return std::uint64_t{0};
  };
  while (runs() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);  // polling the job's counter, with a deadline
  }
  stop = true;
  reader.join();
  jobs.shutdown();
  return r;
}
}  // namespace

int main() {
  larder::Registry registry;
  larder::Cache<std::string, int> board({.name = "leaderboard", .registry = &registry});
  compute_scores(board, 0);

  // The old way, for comparison: clear the cache, then refill it.
  {
    larder::Maintenance jobs;
    int round = 0;
    jobs.every("clear and refill", 20ms, [&] {
      board.clear();
      compute_scores(board, ++round);
    });
    const Reads r = during_runs(jobs, board, "clear and refill", 10);
    std::cout << "clear + refill, 10 times: " << r.misses << " misses in " << r.total << " reads\n";
  }

  // rebuild(): the new contents replace the old ones with no window of misses.
  larder::Maintenance jobs({.log = [](std::string_view job, std::string_view error) {
    std::cerr << "job " << job << " failed: " << error << "\n";
  }});
  int round = 100;
  jobs.rebuild(registry, "leaderboard", 20ms, [&] { compute_scores(board, ++round); });
  int reports = 0;
  const auto nightly = larder::daily("02:00", "Europe/Berlin");
  jobs.at("report", nightly, [&] { ++reports; });
  const Reads r = during_runs(jobs, board, "rebuild leaderboard", 10);
  std::cout << "rebuild(), 10 times: " << r.misses << " misses in " << r.total << " reads\n";

  // An admin endpoint's "send the report now": runs it at once, keeps its schedule.
  jobs.run_now("report");
  std::cout << "report: " << nightly->describe() << ", run now: " << reports << " time(s), next "
            << date::format("%F %H:%M UTC", date::floor<std::chrono::minutes>(nightly->next_after(
                                                std::chrono::system_clock::now())))
            << "\n";
  for (const auto& j : jobs.jobs()) {
    std::cout << "job " << j.name << ": runs=" << j.runs << " failures=" << j.failures
              << " skipped=" << j.skipped << "\n";
  }
  return r.misses == 0 ? 0 : 1;
}
