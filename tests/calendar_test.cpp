// larder/calendar.h: calendar schedules, on their own (next_after) and driven through
// Maintenance with a ManualClock and a fixed wall-clock date, daylight-saving days included.
#include "larder/calendar.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "larder/cache.h"

using namespace std::chrono_literals;
using WallTime = larder::Schedule::WallTime;

namespace {
// A UTC instant, "2026-03-29 01:00".
WallTime utc(int y, unsigned m, unsigned d, int hh, int mm) {
  return date::sys_days{date::year{y} / date::month{m} / date::day{d}} + std::chrono::hours{hh} +
         std::chrono::minutes{mm};
}

// A Maintenance whose wall clock starts at `start` and moves with its ManualClock.
struct Calendar {
  explicit Calendar(WallTime start) : start_wall(start) {}
  WallTime wall() const {
    return start_wall + std::chrono::duration_cast<WallTime::duration>(clock->now() - t0);
  }
  std::shared_ptr<larder::ManualClock> clock = std::make_shared<larder::ManualClock>();
  larder::TimePoint t0 = clock->now();
  WallTime start_wall;
  larder::Maintenance jobs{{.clock = clock, .wall_clock = [this] { return wall(); }}};
};
}  // namespace

TEST_CASE("daily(): the next time of day in the zone", "[calendar]") {
  auto s = larder::daily("02:00", "Europe/Berlin");
  CHECK(s->describe() == "daily at 02:00 (Europe/Berlin)");
  // Winter (UTC+1): 02:00 is 01:00 UTC.
  CHECK(s->next_after(utc(2026, 1, 15, 0, 0)) == utc(2026, 1, 15, 1, 0));
  CHECK(s->next_after(utc(2026, 1, 15, 1, 0)) == utc(2026, 1, 16, 1, 0));  // strictly after
  // Summer (UTC+2): 00:00 UTC.
  CHECK(s->next_after(utc(2026, 7, 1, 12, 0)) == utc(2026, 7, 2, 0, 0));
  auto utc_noon = larder::daily("12:30", "UTC");
  CHECK(utc_noon->next_after(utc(2026, 12, 31, 13, 0)) == utc(2027, 1, 1, 12, 30));
}

TEST_CASE("daily(): a time the clocks skip is due when the jump ends", "[calendar]") {
  // 2026-03-29, Europe/Berlin: at 01:00 UTC local time jumps from 02:00 to 03:00.
  auto s = larder::daily("02:30", "Europe/Berlin");
  CHECK(s->next_after(utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 1, 0));  // 03:00 CEST
  CHECK(s->next_after(utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 30, 0, 30));  // 02:30 CEST
}

TEST_CASE("daily(): a time that happens twice is due once", "[calendar]") {
  // 2026-10-25, Europe/Berlin: at 01:00 UTC local time goes back from 03:00 to 02:00, so 02:30
  // is 00:30 UTC (CEST) and again 01:30 UTC (CET).
  auto s = larder::daily("02:30", "Europe/Berlin");
  CHECK(s->next_after(utc(2026, 10, 24, 12, 0)) == utc(2026, 10, 25, 0, 30));
  CHECK(s->next_after(utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 26, 1, 30));
}

TEST_CASE("weekly(): the next such weekday", "[calendar]") {
  auto s = larder::weekly(std::chrono::Monday, "07:00", "America/New_York");
  CHECK(s->describe() == "Mondays at 07:00 (America/New_York)");
  // 2026-12-02 is a Wednesday; the next Monday is 2026-12-07, 07:00 EST = 12:00 UTC.
  CHECK(s->next_after(utc(2026, 12, 2, 9, 0)) == utc(2026, 12, 7, 12, 0));
  CHECK(s->next_after(utc(2026, 12, 7, 12, 0)) == utc(2026, 12, 14, 12, 0));
  // Monday 2026-12-07 at 06:59 local (11:59 UTC): due the same morning.
  CHECK(s->next_after(utc(2026, 12, 7, 11, 59)) == utc(2026, 12, 7, 12, 0));
  // Summer time (EDT, UTC-4): Monday 2026-07-06 07:00 is 11:00 UTC.
  CHECK(s->next_after(utc(2026, 7, 4, 0, 0)) == utc(2026, 7, 6, 11, 0));
}

TEST_CASE("calendar schedules refuse bad input with a sentence", "[calendar]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(larder::daily("25:00", "UTC"),
                    Contains("daily(): time of day \"25:00\" is not HH:MM, from 00:00 to 23:59"));
  CHECK_THROWS_WITH(larder::daily("2:00", "UTC"), Contains("time of day \"2:00\" is not HH:MM"));
  CHECK_THROWS_WITH(larder::daily("02:60", "UTC"), Contains("is not HH:MM"));
  CHECK_THROWS_WITH(larder::daily("0x:00", "UTC"), Contains("is not HH:MM"));
  CHECK_THROWS_WITH(larder::weekly(std::chrono::Monday, "07:00", "Mars/Olympus"),
                    Contains("weekly(): unknown time zone \"Mars/Olympus\""));
  CHECK_THROWS_WITH(larder::weekly(std::chrono::weekday{9}, "07:00", "UTC"),
                    Contains("weekly(): the weekday is not valid (9)"));
}

TEST_CASE("Maintenance::at(): a daily job runs once a day, across a DST change", "[calendar]") {
  Calendar c(utc(2026, 3, 27, 12, 0));  // Friday noon UTC; Berlin changes to summer time Sunday
  std::vector<WallTime> ran;
  c.jobs.at("report", larder::daily("02:30", "Europe/Berlin"), [&] { ran.push_back(c.wall()); });
  c.jobs.at("weekly", larder::weekly(std::chrono::Monday, "07:00", "Europe/Berlin"), [] {});
  for (int minute = 0; minute < 4 * 24 * 60; minute += 10) {  // four days, every 10 minutes
    c.clock->advance(10min);
    c.jobs.run_due();
  }
  CHECK(ran == std::vector<WallTime>{utc(2026, 3, 28, 1, 30),    // 02:30 CET
                                     utc(2026, 3, 29, 1, 0),     // 02:30 skipped: 03:00 CEST
                                     utc(2026, 3, 30, 0, 30),    // 02:30 CEST
                                     utc(2026, 3, 31, 0, 30)});  //
  const auto stats = c.jobs.jobs();
  CHECK(stats[0].runs == 4);
  CHECK(stats[0].skipped == 0);
  CHECK(stats[1].runs == 1);  // Monday 2026-03-30 07:00 CEST
}

TEST_CASE("Maintenance::at(): a run past the next due time skips it", "[calendar]") {
  Calendar c(utc(2026, 1, 1, 0, 0));
  int runs = 0;
  c.jobs.at("slow", larder::daily("00:30", "UTC"), [&] {
    if (++runs == 1) c.clock->advance(49h);  // overruns two days' due times
  });
  c.clock->advance(30min);
  CHECK(c.jobs.run_due() == 1);
  CHECK(c.jobs.jobs()[0].skipped == 2);
  CHECK(c.jobs.run_due() == 0);  // now Jan 3, 01:30: next due Jan 4, 00:30
  c.clock->advance(23h);
  CHECK(c.jobs.run_due() == 1);
  CHECK(runs == 2);
}

TEST_CASE("Maintenance::rebuild() on a calendar schedule", "[calendar]") {
  Calendar c(utc(2026, 1, 1, 0, 0));
  larder::Registry reg;
  larder::Cache<std::string, int> tenants(
      {.name = "tenants", .clock = c.clock, .background_cleanup = 0s, .registry = &reg});
  int builds = 0;
  c.jobs.rebuild(reg, "tenants", larder::daily("02:00", "UTC"),
                 [&] { tenants.put("acme", ++builds); });
  CHECK(c.jobs.jobs()[0].name == "rebuild tenants");
  c.clock->advance(2h);
  CHECK(c.jobs.run_due() == 1);
  CHECK(tenants.get("acme") == 1);
}
