// The check every planner with a cost model makes of its prices (MultilevelRevolve, MixedRevolve,
// TwoLevelRevolve): one wording for one rule.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

namespace cairn::schedules_detail {

// Throws std::invalid_argument, naming `schedule` and `what`, unless `value` is finite and >= 0
// (> 0 when `positive`).
inline void require_price(const char* schedule, const char* what, double value,
                          bool positive = false) {
  if (!std::isfinite(value) || value < 0 || (positive && value == 0)) {
    throw std::invalid_argument(std::string(schedule) + ": " + what + " = " +
                                std::to_string(value) + " is not allowed; it must be finite and " +
                                (positive ? "> 0" : ">= 0"));
  }
}

}  // namespace cairn::schedules_detail
