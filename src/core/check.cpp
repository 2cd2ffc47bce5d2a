#include "cairn/check.hpp"

#include <algorithm>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "cairn/action_io.hpp"

namespace cairn {

std::int64_t ScheduleCosts::stores() const noexcept {
  std::int64_t total = 0;
  for (const LevelCosts& level : levels) total += level.stores;
  return total;
}

std::int64_t ScheduleCosts::restores() const noexcept {
  std::int64_t total = 0;
  for (const LevelCosts& level : levels) total += level.restores;
  return total;
}

std::int64_t ScheduleCosts::taped_steps() const noexcept {
  return adjoint_stores + (reverses - stored_reverses);
}

std::int64_t ScheduleCosts::forward_evaluations() const noexcept {
  return forward_steps + taped_steps();
}

double cost(const ScheduleCosts& costs, const CostModel& model) {
  double total = model.forward_step * static_cast<double>(costs.forward_steps);
  // Only when priced, so that the sums of streams without adjoint data stay bit for bit those of
  // the model without taped prices.
  if (model.taped_step != 0) total += model.taped_step * static_cast<double>(costs.taped_steps());
  total += model.backward_step * static_cast<double>(costs.reverses);
  for (std::size_t level = 0; level < costs.levels.size(); ++level) {
    if (level < model.write.size()) {
      total += model.write[level] * static_cast<double>(costs.levels[level].stores);
    }
    if (level < model.read.size()) {
      total += model.read[level] * static_cast<double>(costs.levels[level].restores);
    }
  }
  return total;
}

ScheduleChecker::ScheduleChecker(std::int64_t steps, std::vector<std::int64_t> slots_per_level,
                                 bool count_advances_per_step, std::int64_t sweeps,
                                 std::int64_t adjoint_data_units)
    : steps_(steps),
      slots_per_level_(std::move(slots_per_level)),
      counting_advances_(count_advances_per_step),
      unreversed_(steps),
      sweeps_left_(sweeps - 1) {
  if (steps < 1) {
    throw std::invalid_argument("ScheduleChecker: steps = " + std::to_string(steps) +
                                " is not allowed; steps must be >= 1");
  }
  if (sweeps < 1) {
    throw std::invalid_argument("ScheduleChecker: sweeps = " + std::to_string(sweeps) +
                                " is not allowed; a stream has at least one reverse sweep");
  }
  if (adjoint_data_units < 1) {
    throw std::invalid_argument(
        "ScheduleChecker: adjoint_data_units = " + std::to_string(adjoint_data_units) +
        " is not allowed; adjoint data takes at least one unit");
  }
  if (slots_per_level_.empty()) {
    throw std::invalid_argument("ScheduleChecker: no storage level given; give at least one");
  }
  for (std::size_t level = 0; level < slots_per_level_.size(); ++level) {
    if (slots_per_level_[level] < 0) {
      throw std::invalid_argument("ScheduleChecker: level " + std::to_string(level) + " has " +
                                  std::to_string(slots_per_level_[level]) +
                                  " slots; a level needs >= 0 slots");
    }
  }
  // Slot tables are grown on first use: a checker for a huge slot budget costs only what the
  // stream touches.
  held_.resize(slots_per_level_.size());
  occupied_.assign(slots_per_level_.size(), 0);
  units_.assign(slots_per_level_.size(), 0);
  adjoint_data_units_ = adjoint_data_units;
  costs_.levels.resize(slots_per_level_.size());
}

void ScheduleChecker::count_advance(std::int64_t from, std::int64_t to) {
  // The difference array grows with the highest state the stream reaches, not with T, so that a
  // checker for a huge T costs only what the stream uses.
  const auto needed = static_cast<std::size_t>(to) + 1;
  if (needed > advance_delta_.size()) {
    const std::size_t limit = static_cast<std::size_t>(steps_) + 1;
    const std::size_t grown = std::min(limit, std::max(needed, 2 * advance_delta_.size()));
    const auto refuse = [&] {
      throw std::length_error("ScheduleChecker: counting advances per step up to x_" +
                              std::to_string(to) + " needs " + std::to_string(grown) +
                              " counters of 8 bytes, which could not be allocated; construct the "
                              "checker with count_advances_per_step = false to count the rest");
    };
    if (grown > advance_delta_.max_size()) refuse();
    try {
      advance_delta_.resize(grown, 0);
    } catch (const std::bad_alloc&) {
      refuse();
    }
  }
  ++advance_delta_[static_cast<std::size_t>(from)];
  --advance_delta_[static_cast<std::size_t>(to)];
}

bool ScheduleChecker::reject(const Action& action, const std::string& why) {
  failed_ = true;
  failed_index_ = fed_;
  reason_ = "action " + std::to_string(fed_) + " (" + to_json(action) + "): " + why;
  return false;
}

namespace {
std::string state(std::int64_t index) {
  return index < 0 ? std::string("undefined") : "x_" + std::to_string(index);
}

// What a slot holds: a state x_k (k >= 0), nothing (-1) or the adjoint data of step k (-2 - k).
constexpr std::int64_t record_of(std::int64_t step) noexcept {
  return -2 - step;
}
constexpr bool is_record(std::int64_t cell) noexcept {
  return cell <= -2;
}
std::string content(std::int64_t cell) {
  if (cell == -1) return "nothing";
  if (is_record(cell)) return "the adjoint data of step " + std::to_string(-2 - cell);
  return state(cell);
}
}  // namespace

std::int64_t ScheduleChecker::units_of(std::int64_t cell) const noexcept {
  return cell == -1 ? 0 : is_record(cell) ? adjoint_data_units_ : 1;
}

bool ScheduleChecker::fill(const Action& action, std::int64_t& cell, std::int64_t what) {
  const auto level = static_cast<std::size_t>(action.level);
  const std::int64_t units = units_[level] - units_of(cell) + units_of(what);
  if (units > slots_per_level_[level]) {
    return reject(action, "level " + level_name(action.level) + " has " +
                              std::to_string(slots_per_level_[level]) + " units and would hold " +
                              std::to_string(units) + " (a state is one unit, adjoint data " +
                              std::to_string(adjoint_data_units_) + ")");
  }
  auto& costs = costs_.levels[level];
  if (cell == -1) costs.peak_slots = std::max(costs.peak_slots, ++occupied_[level]);
  units_[level] = units;
  costs.peak_units = std::max(costs.peak_units, units);
  cell = what;
  return true;
}

void ScheduleChecker::empty(Level level, std::int64_t& cell) {
  const auto l = static_cast<std::size_t>(level);
  units_[l] -= units_of(cell);
  --occupied_[l];
  cell = -1;
}

bool ScheduleChecker::state_exists(std::int64_t step) const noexcept {
  return 0 <= step && step <= steps_;
}

bool ScheduleChecker::step_exists(std::int64_t step) const noexcept {
  return 0 <= step && step < steps_;
}

std::string ScheduleChecker::no_such_step(std::int64_t step) const {
  return "steps are 0.." + std::to_string(steps_ - 1) + ", not " + std::to_string(step);
}

std::string ScheduleChecker::no_such_state(std::int64_t step) const {
  return "x_" + std::to_string(step) + " does not exist; the states are x_0..x_" +
         std::to_string(steps_);
}

bool ScheduleChecker::feed(const Action& action) {
  if (failed_) return false;
  if (ended_) return reject(action, "no action may follow end");

  const auto slot_of = [&](std::int64_t*& cell) -> std::string {
    if (action.level < 0 || static_cast<std::size_t>(action.level) >= slots_per_level_.size()) {
      return "level " + std::to_string(action.level) + " does not exist; levels are 0.." +
             std::to_string(slots_per_level_.size() - 1);
    }
    const std::int64_t available = slots_per_level_[static_cast<std::size_t>(action.level)];
    if (action.slot < 0 || action.slot >= available) {
      return "slot " + std::to_string(action.slot) + " does not exist on level " +
             level_name(action.level) + ", which has " + std::to_string(available) + " slots (0.." +
             std::to_string(available - 1) + ")";
    }
    auto& table = held_[static_cast<std::size_t>(action.level)];
    if (static_cast<std::size_t>(action.slot) >= table.size()) {
      table.resize(static_cast<std::size_t>(action.slot) + 1, -1);
    }
    cell = &table[static_cast<std::size_t>(action.slot)];
    return {};
  };

  switch (action.kind) {
    case ActionKind::advance: {
      const std::int64_t from = action.from();
      const std::int64_t to = action.to;
      // Ranges first: -1 is how the working state says "undefined", and must never match.
      if (!(0 <= from && from < to && to <= steps_)) {
        return reject(action, "an advance needs 0 <= from < to <= T = " + std::to_string(steps_));
      }
      if (working_ != from) {
        return reject(
            action, "the working state is " + state(working_) + ", not x_" + std::to_string(from));
      }
      // First, so that a failure to count leaves the checker as it was.
      if (counting_advances_) count_advance(from, to);
      working_ = to;
      ++costs_.advances;
      // Saturate: a prefix of a stream for T near 2^63 can advance more steps than int64 holds.
      const std::int64_t room = std::numeric_limits<std::int64_t>::max() - costs_.forward_steps;
      costs_.forward_steps = to - from > room ? std::numeric_limits<std::int64_t>::max()
                                              : costs_.forward_steps + (to - from);
      break;
    }
    case ActionKind::store:
    case ActionKind::store_adjoint: {
      // store keeps x_step (0 <= step <= T); store_adjoint runs step `step` (0 <= step < T).
      const bool record = action.kind == ActionKind::store_adjoint;
      if (record && !step_exists(action.step)) return reject(action, no_such_step(action.step));
      if (!record && !state_exists(action.step)) return reject(action, no_such_state(action.step));
      std::int64_t* cell = nullptr;
      const std::string problem = slot_of(cell);
      if (!problem.empty()) return reject(action, problem);
      if (working_ != action.step) {
        return reject(action, "the working state is " + state(working_) + ", not x_" +
                                  std::to_string(action.step));
      }
      auto& level = costs_.levels[static_cast<std::size_t>(action.level)];
      if (!record) {
        if (!fill(action, *cell, action.step)) return false;
        ++level.stores;
        break;
      }
      if (counting_advances_) count_advance(action.step, action.step + 1);
      if (!fill(action, *cell, record_of(action.step))) return false;
      working_ = action.step + 1;
      ++costs_.adjoint_stores;
      ++level.adjoint_stores;
      break;
    }
    case ActionKind::restore: {
      if (!state_exists(action.step)) return reject(action, no_such_state(action.step));
      std::int64_t* cell = nullptr;
      const std::string problem = slot_of(cell);
      if (!problem.empty()) return reject(action, problem);
      if (*cell != action.step) {
        return reject(action, "slot " + std::to_string(action.slot) + " on level " +
                                  level_name(action.level) + " holds " + content(*cell) +
                                  ", not x_" + std::to_string(action.step));
      }
      working_ = action.step;
      ++costs_.levels[static_cast<std::size_t>(action.level)].restores;
      break;
    }
    case ActionKind::reverse:
    case ActionKind::reverse_stored: {
      if (!step_exists(action.step)) return reject(action, no_such_step(action.step));
      if (action.step != unreversed_ - 1) {
        return reject(action, unreversed_ == 0 ? std::string("every step is already reversed")
                                               : "the next step to reverse is " +
                                                     std::to_string(unreversed_ - 1) + ", not " +
                                                     std::to_string(action.step));
      }
      if (action.kind == ActionKind::reverse) {
        if (working_ != action.step) {
          return reject(action, "the working state is " + state(working_) + ", not x_" +
                                    std::to_string(action.step));
        }
      } else {
        std::int64_t* cell = nullptr;
        const std::string problem = slot_of(cell);
        if (!problem.empty()) return reject(action, problem);
        if (*cell != record_of(action.step)) {
          return reject(action, "slot " + std::to_string(action.slot) + " on level " +
                                    level_name(action.level) + " holds " + content(*cell) +
                                    ", not the adjoint data of step " +
                                    std::to_string(action.step));
        }
        empty(action.level, *cell);
        ++costs_.stored_reverses;
      }
      --unreversed_;
      working_ = -1;
      ++costs_.reverses;
      if (unreversed_ == 0 && sweeps_left_ > 0) {  // the next sweep reverses all steps again
        --sweeps_left_;
        unreversed_ = steps_;
      }
      break;
    }
    case ActionKind::free: {
      std::int64_t* cell = nullptr;
      const std::string problem = slot_of(cell);
      if (!problem.empty()) return reject(action, problem);
      if (*cell == -1) {
        return reject(action, "slot " + std::to_string(action.slot) + " on level " +
                                  level_name(action.level) + " is already empty");
      }
      empty(action.level, *cell);
      ++costs_.levels[static_cast<std::size_t>(action.level)].frees;
      break;
    }
    case ActionKind::end: {
      if (unreversed_ != 0) {
        return reject(action,
                      "steps 0.." + std::to_string(unreversed_ - 1) + " are not reversed yet");
      }
      ended_ = true;
      break;
    }
    default:
      return reject(action, "unknown action kind");
  }
  ++fed_;
  ++costs_.actions;
  return true;
}

CheckResult ScheduleChecker::finish() const {
  CheckResult result;
  result.costs = costs_;
  if (!counting_advances_) {
    result.costs.max_advances_per_step = -1;
  } else {
    std::int64_t count = 0;
    const auto reached = std::min(advance_delta_.size(), static_cast<std::size_t>(steps_));
    for (std::size_t step = 0; step < reached; ++step) {
      count += advance_delta_[step];
      result.costs.max_advances_per_step = std::max(result.costs.max_advances_per_step, count);
    }
  }
  if (failed_) {
    result.first_illegal_index = failed_index_;
    result.reason = reason_;
  } else if (!ended_) {
    result.first_illegal_index = fed_;
    result.reason = "the stream ended before its end action (" + std::to_string(unreversed_) +
                    " steps not reversed" +
                    (sweeps_left_ > 0 ? ", and " + std::to_string(sweeps_left_) + " more sweeps"
                                      : std::string()) +
                    ")";
  } else {
    result.legal = true;
  }
  return result;
}

CheckResult check(Schedule& schedule, std::int64_t steps, std::vector<std::int64_t> slots_per_level,
                  std::int64_t max_actions) {
  ScheduleChecker checker(steps, std::move(slots_per_level), true, schedule.sweeps(),
                          schedule.adjoint_data_units());
  Action batch[256];
  std::int64_t remaining = max_actions;
  while (remaining > 0 && !checker.ended() && !checker.failed()) {
    const std::size_t wanted = static_cast<std::size_t>(std::min<std::int64_t>(remaining, 256));
    const std::size_t got = schedule.next_actions(batch, wanted);
    for (std::size_t i = 0; i < got; ++i) {
      if (!checker.feed(batch[i])) break;
    }
    remaining -= static_cast<std::int64_t>(got);
  }
  return checker.finish();
}

}  // namespace cairn
