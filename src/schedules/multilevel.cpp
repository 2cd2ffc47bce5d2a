#include "cairn/multilevel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

#include "schedules/multilevel_table.hpp"
#include "schedules/price_check.hpp"

namespace cairn {

namespace {

using multilevel_detail::Free;
using multilevel_detail::max_levels;
using multilevel_detail::MultilevelTable;

// The stream that achieves the table's optimum: the recursion replayed with an explicit stack,
// choosing at each subproblem the first option whose value equals the table's (exactly).
class StreamEmitter {
 public:
  explicit StreamEmitter(const MultilevelTable& table) : t_(table) {}

  std::vector<Action> emit() {
    actions_.clear();
    for (int k = 0; k < max_levels; ++k) {
      free_slots_[k].clear();
      next_fresh_[k] = 0;
      if (k < t_.level_count() && !t_.unlimited(k)) {
        for (std::int64_t slot = t_.slots(k) - 1; slot >= 0; --slot) free_slots_[k].push_back(slot);
      }
    }
    const std::int64_t steps = t_.steps();
    if (steps == 1) {
      actions_.push_back(Action::make_reverse(0));
    } else {
      const double best = t_.optimum();
      const Free top = t_.top_free();
      int chosen = -1;
      for (int pass = 0; pass < 2 && chosen < 0; ++pass) {
        for (int k = 0; k < t_.level_count() && chosen < 0; ++k) {
          if (t_.can_take(k, top) && t_.top_option(k) == best &&
              (pass == 1 || t_.stays(k, t_.take(k, top), steps))) {
            chosen = k;
          }
        }
      }
      if (chosen < 0) internal_error("no first store matches the optimum");
      const std::int64_t slot = allocate(chosen);
      actions_.push_back(Action::make_store(slot, 0, chosen));
      tasks_.push_back(Task{Task::solve, steps, 0, t_.take(chosen, top), chosen, slot, {}});
      run_tasks();
    }
    actions_.push_back(Action::make_end());
    return std::move(actions_);
  }

 private:
  struct Task {
    enum Kind { solve, solve_without_move, action } kind;
    std::int64_t length;
    std::int64_t start;
    Free free;
    int level;
    std::int64_t slot;
    Action act;
  };

  std::int64_t allocate(int k) {
    auto& pool = free_slots_[k];
    if (!pool.empty()) {
      const std::int64_t slot = pool.back();
      pool.pop_back();
      return slot;
    }
    if (!t_.unlimited(k)) internal_error("a level ran out of slots");
    return next_fresh_[k]++;
  }
  void release(int k, std::int64_t slot) {
    actions_.push_back(Action::make_free(slot, k));
    free_slots_[k].push_back(slot);
  }

  [[noreturn]] static void internal_error(const char* what) {
    throw std::logic_error(std::string("MultilevelRevolve: internal error: ") + what);
  }

  void run_tasks() {
    while (!tasks_.empty()) {
      const Task task = tasks_.back();
      tasks_.pop_back();
      if (task.kind == Task::action) {
        if (task.act.kind == ActionKind::free) {
          release(task.act.level, task.act.slot);
        } else {
          actions_.push_back(task.act);
        }
        continue;
      }
      solve(task);
    }
  }

  void solve(const Task& task) {
    const std::int64_t l = task.length;
    const std::int64_t s = task.start;
    const int level = task.level;
    const double v = t_.v(level, task.free, l);
    if (task.kind == Task::solve && t_.p(level, task.free, l) != v) {
      const double target = t_.p(level, task.free, l);
      for (int k = 0; k < t_.level_count(); ++k) {
        double moved = 0;
        Free after{};
        if (k != level && t_.move_option(level, k, l, task.free, moved, after) && moved == target) {
          const std::int64_t slot = allocate(k);
          actions_.push_back(Action::make_store(slot, s, k));
          release(level, task.slot);
          tasks_.push_back(Task{Task::solve_without_move, l, s, after, k, slot, {}});
          return;
        }
      }
      internal_error("no move matches the optimum");
    }
    if (l == 1) {
      actions_.push_back(Action::make_reverse(s));
      release(level, task.slot);
      return;
    }
    if (t_.without_store(l, level, task.free) == v) {
      actions_.push_back(Action::make_advance(s, s + l - 1));
      actions_.push_back(Action::make_reverse(s + l - 1));
      actions_.push_back(Action::make_restore(task.slot, s, level));
      tasks_.push_back(Task{Task::solve, l - 1, s, task.free, level, task.slot, {}});
      return;
    }
    for (std::int64_t j = 1; j < l; ++j) {
      if (t_.split_option(l, level, task.free, j) != v) continue;
      // Prefer a level the stored state will stay on (no store-then-move at equal cost).
      const double stored = t_.h(task.free, l - j);
      int chosen = -1;
      for (int pass = 0; pass < 2 && chosen < 0; ++pass) {
        for (int k = 0; k < t_.level_count() && chosen < 0; ++k) {
          if (t_.can_take(k, task.free) && t_.store_on(k, l - j, task.free) == stored &&
              (pass == 1 || t_.stays(k, t_.take(k, task.free), l - j))) {
            chosen = k;
          }
        }
      }
      if (chosen < 0) internal_error("no level matches the stored part's optimum");
      const int k = chosen;
      const std::int64_t slot = allocate(k);
      actions_.push_back(Action::make_advance(s, s + j));
      actions_.push_back(Action::make_store(slot, s + j, k));
      // Right part first (top of the stack), then restore x_s, then the left part.
      tasks_.push_back(Task{Task::solve, j, s, task.free, level, task.slot, {}});
      tasks_.push_back(
          Task{Task::action, 0, 0, {}, 0, 0, Action::make_restore(task.slot, s, level)});
      tasks_.push_back(Task{Task::solve, l - j, s + j, t_.take(k, task.free), k, slot, {}});
      return;
    }
    internal_error("no option matches the optimum");
  }

  const MultilevelTable& t_;
  std::vector<Action> actions_;
  std::vector<Task> tasks_;
  std::vector<std::int64_t> free_slots_[max_levels];
  std::int64_t next_fresh_[max_levels] = {};
};

// The most slots of `level` a stream holds at once (the planner frees a slot before reusing it).
std::int64_t peak_slots(const std::vector<Action>& actions, Level level) {
  std::int64_t held = 0;
  std::int64_t peak = 0;
  for (const Action& a : actions) {
    if (a.level != level) continue;
    if (a.kind == ActionKind::store) peak = std::max(peak, ++held);
    if (a.kind == ActionKind::free) --held;
  }
  return peak;
}

void check_cost(const char* what, double value, bool positive = false) {
  schedules_detail::require_price("MultilevelRevolve", what, value, positive);
}

}  // namespace

MultilevelRevolve::MultilevelRevolve(std::int64_t steps, std::vector<StorageLevel> levels,
                                     StepCosts step_costs, std::size_t max_table_bytes)
    : steps_(steps), levels_(std::move(levels)), step_costs_(step_costs) {
  if (steps < 1) {
    throw std::invalid_argument("MultilevelRevolve: steps = " + std::to_string(steps) +
                                " is not allowed; steps must be >= 1");
  }
  if (levels_.empty() || levels_.size() > static_cast<std::size_t>(max_levels)) {
    throw std::invalid_argument(
        "MultilevelRevolve: " + std::to_string(levels_.size()) +
        " storage levels given; give one, two or three, the fastest first (e.g. device memory, "
        "pinned host memory, disk)");
  }
  check_cost("forward step cost", step_costs_.forward, true);
  check_cost("backward step cost", step_costs_.backward);
  std::int64_t total_slots = 0;
  for (std::size_t k = 0; k < levels_.size(); ++k) {
    const StorageLevel& level = levels_[k];
    const std::string name = "level " + std::to_string(k);
    if (level.slots < 0) {
      throw std::invalid_argument("MultilevelRevolve: " + name + " has " +
                                  std::to_string(level.slots) +
                                  " slots; a level needs >= 0 slots (or unlimited_slots)");
    }
    if (level.slots == unlimited_slots && k + 1 < levels_.size()) {
      throw std::invalid_argument("MultilevelRevolve: only the last level may be unlimited");
    }
    check_cost((name + " write cost").c_str(), level.write_cost);
    check_cost((name + " read cost").c_str(), level.read_cost);
    // Saturating at T, which no sum of two counts near 2^63 may overflow on the way to.
    total_slots += std::min(steps - total_slots, level.slots);
  }
  if (steps >= 2 && total_slots == 0) {
    throw std::invalid_argument("MultilevelRevolve: " + std::to_string(steps) +
                                " steps need at least one slot to hold x_0; all levels have 0");
  }
  // A finite last level that the plan with an unlimited one never overfills changes nothing:
  // that plan is then feasible, hence optimal, and far cheaper to find (an unlimited level adds
  // no table dimension). So try it first; only if it needs more slots than there are, plan with
  // the count.
  const std::size_t last = levels_.size() - 1;
  if (last > 0 && levels_[last].slots < steps) {
    std::vector<StorageLevel> relaxed = levels_;
    relaxed[last].slots = unlimited_slots;
    const MultilevelTable table(steps, relaxed, step_costs_, max_table_bytes);
    table_bytes_ = table.table_bytes();
    std::vector<Action> actions = StreamEmitter(table).emit();
    if (peak_slots(actions, static_cast<Level>(last)) <= levels_[last].slots) {
      optimal_cost_ = finite_optimum(table.optimum());
      actions_ = std::move(actions);
      return;
    }
  }
  const MultilevelTable table(steps, levels_, step_costs_, max_table_bytes);
  optimal_cost_ = finite_optimum(table.optimum());
  table_bytes_ = std::max(table_bytes_, table.table_bytes());
  actions_ = StreamEmitter(table).emit();
}

double MultilevelRevolve::finite_optimum(double cost) const {
  // Costs near the largest double make sums overflow to infinity; the plan is then no cheaper
  // than any other, and its cost is no number a caller can use. Plans that avoid the dear
  // choices stay finite, and those are kept.
  if (!std::isfinite(cost)) {
    throw std::invalid_argument(
        "MultilevelRevolve: the cheapest plan's cost exceeds the largest double (the step and "
        "storage costs are too large for T = " +
        std::to_string(steps_) + "); scale the costs down");
  }
  return cost;
}

Action MultilevelRevolve::next() {
  const Action action = actions_[position_];
  if (position_ + 1 < actions_.size()) ++position_;
  return action;
}

std::size_t MultilevelRevolve::next_actions(Action* out, std::size_t capacity) {
  const std::size_t available = actions_.size() - position_;
  const std::size_t count = std::min(capacity, available);
  std::copy_n(actions_.begin() + static_cast<std::ptrdiff_t>(position_), count, out);
  position_ += count;
  if (position_ == actions_.size()) --position_;  // keep returning `end`
  return count;
}

CostModel MultilevelRevolve::cost_model() const {
  CostModel model;
  model.forward_step = step_costs_.forward;
  model.backward_step = step_costs_.backward;
  for (const StorageLevel& level : levels_) {
    model.write.push_back(level.write_cost);
    model.read.push_back(level.read_cost);
  }
  return model;
}

std::vector<std::int64_t> MultilevelRevolve::slots_per_level() const {
  std::vector<std::int64_t> slots;
  for (const StorageLevel& level : levels_) {
    slots.push_back(level.slots == unlimited_slots ? steps_ : level.slots);
  }
  return slots;
}

}  // namespace cairn
