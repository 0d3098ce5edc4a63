// Formatting helpers for error messages (larder::detail).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace larder::detail {

/// "1500ms", "-5s", "0ns": the largest unit that represents `d` exactly.
inline std::string format_duration(std::chrono::nanoseconds d) {
  const std::int64_t ns = d.count();
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {3'600'000'000'000, "h"}, {60'000'000'000, "min"}, {1'000'000'000, "s"},
      {1'000'000, "ms"},        {1'000, "us"},           {1, "ns"}};
  for (const Unit& u : kUnits) {
    if (ns != 0 && ns % u.ns == 0) return std::to_string(ns / u.ns) + u.name;
  }
  return "0ns";
}

}  // namespace larder::detail
