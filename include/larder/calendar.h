// larder/calendar.h — calendar schedules for Maintenance::at(): "daily at 02:00", "Mondays at
// 07:00", in a time zone you name.
//
//   #include <larder/calendar.h>
//   jobs.at("report", larder::daily("02:00", "Europe/Berlin"), send_report);
//   jobs.rebuild(reg, "tenants", larder::weekly(std::chrono::Monday, "07:00", "America/New_York"),
//                rebuild_tenants);
//
// Time zones are IANA names ("UTC", "Europe/Berlin") read from the system's time-zone database
// (Debian: tzdata), through Howard Hinnant's date library, the reference implementation of C++20's
// <chrono> time zones (Debian: libhowardhinnant-date-dev). This header is optional: only a program
// that includes it needs the library; link it with `date::date-tz` (find_package(date CONFIG)).
//
// DAYLIGHT SAVING. A time that does not exist on a day (02:30 when clocks jump from 02:00 to
// 03:00) is due at the end of the jump (03:00 local). A time that happens twice (02:30 when clocks
// go back from 03:00 to 02:00) is due once, at its first occurrence. A daily job therefore runs
// exactly once every calendar day.
//
// THREAD SAFETY. Schedules are immutable: share them freely.
#pragma once

#include <date/tz.h>

#include <charconv>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "larder/errors.h"
#include "larder/maintenance.h"

namespace larder {

namespace detail {

/// A calendar schedule: a time of day in a zone, every day or on one weekday.
class CalendarSchedule final : public Schedule {
 public:
  CalendarSchedule(const char* what, std::optional<std::chrono::weekday> day,
                   std::string_view time_of_day, std::string_view time_zone)
      : day_(day), label_(time_of_day) {
    if (day && !day->ok()) {
      throw InvalidArgument(std::string("larder: ") + what + "(): the weekday is not valid (" +
                            std::to_string(day->c_encoding()) + ")");
    }
    offset_ = parse_time(what, time_of_day);
    try {
      zone_ = date::locate_zone(std::string(time_zone));
    } catch (const std::exception&) {
      throw InvalidArgument(std::string("larder: ") + what + "(): unknown time zone \"" +
                            std::string(time_zone) +
                            "\" (an IANA name such as \"UTC\" or \"Europe/Berlin\")");
    }
  }

  WallTime next_after(WallTime t) const override {
    using date::days;
    const auto local = zone_->to_local(date::floor<std::chrono::seconds>(t));
    const auto today = date::floor<days>(local);
    // The candidate days: today and the next 8 (a weekly time is at most 7 days away; one more
    // covers a time today that already passed in a zone whose day is shorter around a change).
    for (int i = 0; i <= 8; ++i) {
      const auto day = today + days{i};
      if (day_ && date::weekday(day).c_encoding() != day_->c_encoding()) continue;
      const auto due = zone_->to_sys(day + offset_, date::choose::earliest);
      if (due > t) return std::chrono::time_point_cast<WallTime::duration>(due);
    }
    return WallTime::max();  // unreachable for a valid zone
  }

  std::string describe() const override {
    static constexpr const char* kDays[] = {"Sundays",   "Mondays", "Tuesdays", "Wednesdays",
                                            "Thursdays", "Fridays", "Saturdays"};
    const std::string when = day_ ? kDays[day_->c_encoding()] : "daily";
    return when + " at " + label_ + " (" + std::string(zone_->name()) + ")";
  }

 private:
  static std::chrono::minutes parse_time(const char* what, std::string_view s) {
    auto bad = [&] {
      return InvalidArgument(std::string("larder: ") + what + "(): time of day \"" +
                             std::string(s) + "\" is not HH:MM, from 00:00 to 23:59");
    };
    if (s.size() != 5 || s[2] != ':') throw bad();
    int h = -1, m = -1;
    if (std::from_chars(s.data(), s.data() + 2, h).ptr != s.data() + 2 ||
        std::from_chars(s.data() + 3, s.data() + 5, m).ptr != s.data() + 5) {
      throw bad();
    }
    if (h < 0 || h > 23 || m < 0 || m > 59) throw bad();
    return std::chrono::hours{h} + std::chrono::minutes{m};
  }

  std::optional<std::chrono::weekday> day_;
  std::string label_;
  std::chrono::minutes offset_{};
  const date::time_zone* zone_ = nullptr;
};

}  // namespace detail

/// Due every day at `time_of_day` ("HH:MM", 24-hour) in `time_zone` (IANA name). Throws
/// larder::InvalidArgument for a malformed time or an unknown zone.
inline std::shared_ptr<const Schedule> daily(std::string_view time_of_day,
                                             std::string_view time_zone) {
  return std::make_shared<detail::CalendarSchedule>("daily", std::nullopt, time_of_day, time_zone);
}

/// Due every `day` (std::chrono::Monday, ...) at `time_of_day` in `time_zone`. Throws
/// larder::InvalidArgument as daily() does, and for an invalid weekday.
inline std::shared_ptr<const Schedule> weekly(std::chrono::weekday day,
                                              std::string_view time_of_day,
                                              std::string_view time_zone) {
  return std::make_shared<detail::CalendarSchedule>("weekly", day, time_of_day, time_zone);
}

}  // namespace larder
