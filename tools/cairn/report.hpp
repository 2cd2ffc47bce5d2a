// How the cairn subcommands write numbers and counts: costs with every digit, the checker's counts
// as JSON fields.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "cairn/check.hpp"

namespace cairn::cli {

/// %.17g: a double printed so that reading it back gives the same double.
std::string format_cost(double value);

/// Adds the checker's counts to `j`, after whatever fields it already has: actions, advances,
/// forward_steps, max_advances_per_step, reverses, stores, restores, peak_slots, and per level
/// (named as in the JSON-lines format) its stores, restores, frees and peak_slots.
void add_costs(nlohmann::ordered_json& j, const cairn::ScheduleCosts& costs);

}  // namespace cairn::cli
