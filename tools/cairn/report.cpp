#include "report.hpp"

#include <cstdint>
#include <cstdio>

#include "cairn/action_io.hpp"

namespace cairn::cli {

std::string format_cost(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

namespace {

// A level's count added over all levels, e.g. &cairn::LevelCosts::peak_slots.
std::int64_t over_levels(const cairn::ScheduleCosts& costs,
                         std::int64_t cairn::LevelCosts::*count) {
  std::int64_t total = 0;
  for (const auto& level : costs.levels) total += level.*count;
  return total;
}

}  // namespace

void add_costs(nlohmann::ordered_json& j, const cairn::ScheduleCosts& costs) {
  j["actions"] = costs.actions;
  j["advances"] = costs.advances;
  j["forward_steps"] = costs.forward_steps;
  j["max_advances_per_step"] = costs.max_advances_per_step;
  j["reverses"] = costs.reverses;
  j["stores"] = costs.stores();
  j["restores"] = costs.restores();
  j["peak_slots"] = over_levels(costs, &cairn::LevelCosts::peak_slots);
  nlohmann::ordered_json levels = nlohmann::ordered_json::object();
  for (std::size_t k = 0; k < costs.levels.size(); ++k) {
    const auto& level = costs.levels[k];
    levels[cairn::level_name(static_cast<cairn::Level>(k))] = {{"stores", level.stores},
                                                               {"restores", level.restores},
                                                               {"frees", level.frees},
                                                               {"peak_slots", level.peak_slots}};
  }
  j["levels"] = levels;
  // Only for streams that keep adjoint data, so that other outputs stay as they were.
  if (costs.adjoint_stores > 0 || costs.stored_reverses > 0) {
    j["adjoint_stores"] = costs.adjoint_stores;
    j["stored_reverses"] = costs.stored_reverses;
    j["taped_steps"] = costs.taped_steps();
    j["forward_evaluations"] = costs.forward_evaluations();
    j["peak_units"] = over_levels(costs, &cairn::LevelCosts::peak_units);
  }
}

}  // namespace cairn::cli
