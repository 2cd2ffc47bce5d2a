#include "cairn/multilevel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

namespace cairn {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

// Free slots on each level, as DP coordinates. A level with at least T slots never runs out
// (no stream of T steps holds more than T states), so it is "unlimited" and its coordinate
// stays 0: that collapses its table dimension.
struct Free {
  std::int64_t count[2];
};

// The dynamic program and the stream it describes. Subproblem P(l, free, L): the working state
// is x_s, held in a slot on level L (not counted in `free`); reverse steps [s, s + l) and free
// x_s's slot. V is the same without the option of first moving x_s to the other level; H(m, free)
// is the cost of storing a fresh state on the best level and solving P(m, ...) from it.
//
// Every value is a sum of the same terms in the same order wherever it is computed (in the table
// and again when the stream is emitted), so "which option achieved the minimum" is an exact
// floating-point comparison.
class Planner {
 public:
  Planner(std::int64_t steps, const std::vector<StorageLevel>& levels, const StepCosts& step,
          std::size_t max_table_bytes)
      : steps_(steps), level_count_(static_cast<int>(levels.size())), step_(step) {
    std::size_t cells_per_length = 1;
    for (int k = 0; k < 2; ++k) {
      const bool present = k < level_count_;
      const StorageLevel level = present ? levels[static_cast<std::size_t>(k)] : StorageLevel{};
      unlimited_[k] = present && level.slots >= steps;
      slots_[k] = present ? std::min(level.slots, steps) : 0;
      write_[k] = level.write_cost;
      read_[k] = level.read_cost;
      extent_[k] = unlimited_[k] ? 1 : static_cast<std::size_t>(slots_[k]) + 1;
      cells_per_length *= extent_[k];
    }
    // P and V for each level, H, and the forward-cost row, each (T + 1) long.
    const std::size_t length = static_cast<std::size_t>(steps) + 1;
    const std::size_t rows =
        (2 * static_cast<std::size_t>(level_count_) + 1) * cells_per_length + 1;
    const std::size_t limit_cells = max_table_bytes / sizeof(double);
    if (rows > limit_cells / length) {
      // rows * length may not fit in size_t; as a double it only has to be printed.
      const double bytes = static_cast<double>(rows) * static_cast<double>(length) *
                           static_cast<double>(sizeof(double));
      char needed[32];
      std::snprintf(needed, sizeof needed, "%.0f", bytes);
      throw std::length_error(
          "MultilevelRevolve: the planning tables for T = " + std::to_string(steps) +
          " would take " + needed + " bytes (" + std::to_string(rows) + " x " +
          std::to_string(length) + " doubles), more than the " + std::to_string(max_table_bytes) +
          " bytes allowed; give fewer steps or slots, or a max_table_bytes "
          "of at least " +
          needed);
    }
    length_ = length;
    cells_ = cells_per_length;
    table_bytes_ = rows * length * sizeof(double);
    forward_.resize(length);
    for (std::size_t j = 0; j < length; ++j) forward_[j] = step_.forward * static_cast<double>(j);
    p_.assign(static_cast<std::size_t>(level_count_) * cells_ * length, infinity);
    v_.assign(p_.size(), infinity);
    h_.assign(cells_ * length, infinity);
    fill();
  }

  std::size_t table_bytes() const noexcept { return table_bytes_; }

  Free top_free() const {
    Free f{};
    for (int k = 0; k < 2; ++k) f.count[k] = unlimited_[k] ? 0 : slots_[k];
    return f;
  }

  // Cost of the whole stream: store x_0 on the best level, or just reverse when T = 1.
  double optimum() const {
    if (steps_ == 1) return step_.backward;
    double best = infinity;
    for (int k = 0; k < level_count_; ++k) {
      if (can_take(k, top_free())) best = std::min(best, top_option(k));
    }
    return best;
  }

  std::vector<Action> emit() {
    actions_.clear();
    free_slots_[0].clear();
    free_slots_[1].clear();
    next_fresh_[0] = next_fresh_[1] = 0;
    for (int k = 0; k < level_count_; ++k) {
      if (!unlimited_[k]) {
        for (std::int64_t slot = slots_[k] - 1; slot >= 0; --slot) free_slots_[k].push_back(slot);
      }
    }
    if (steps_ == 1) {
      actions_.push_back(Action::make_reverse(0));
    } else {
      const double best = optimum();
      int chosen = -1;
      for (int pass = 0; pass < 2 && chosen < 0; ++pass) {
        for (int k = 0; k < level_count_ && chosen < 0; ++k) {
          if (can_take(k, top_free()) && top_option(k) == best &&
              (pass == 1 || stays(k, take(k, top_free()), steps_))) {
            chosen = k;
          }
        }
      }
      if (chosen < 0) internal_error("no first store matches the optimum");
      const std::int64_t slot = allocate(chosen);
      actions_.push_back(Action::make_store(slot, 0, chosen));
      tasks_.push_back(Task{Task::solve, steps_, 0, take(chosen, top_free()), chosen, slot, {}});
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

  bool can_take(int k, const Free& f) const {
    return k < level_count_ && (unlimited_[k] || f.count[k] > 0);
  }
  Free take(int k, Free f) const {
    if (!unlimited_[k]) --f.count[k];
    return f;
  }
  // Returns false when giving back would exceed the level's slots (an unreachable coordinate).
  bool give(int k, Free& f) const {
    if (unlimited_[k]) return true;
    if (f.count[k] >= slots_[k]) return false;
    ++f.count[k];
    return true;
  }

  std::size_t cell(const Free& f) const {
    return static_cast<std::size_t>(f.count[0]) + extent_[0] * static_cast<std::size_t>(f.count[1]);
  }
  const double* row(const std::vector<double>& table, int level, const Free& f) const {
    return table.data() + (static_cast<std::size_t>(level) * cells_ + cell(f)) * length_;
  }
  double* row(std::vector<double>& table, int level, const Free& f) {
    return table.data() + (static_cast<std::size_t>(level) * cells_ + cell(f)) * length_;
  }

  // Whether solving P(l, f, k) starts without moving its state to the other level.
  bool stays(int k, const Free& f, std::int64_t l) const {
    return row(p_, k, f)[l] == row(v_, k, f)[l];
  }

  // The options, each written once and used both to fill the tables and to emit the stream.
  double top_option(int k) const { return write_[k] + row(p_, k, take(k, top_free()))[steps_]; }
  // (2): advance to x_{s+l-1}, reverse it, restore x_s, continue with l - 1 steps.
  double without_store(std::int64_t l, int level, const Free& f) const {
    return forward_[static_cast<std::size_t>(l - 1)] + step_.backward + read_[level] +
           row(p_, level, f)[l - 1];
  }
  // (3) for one split j, before adding the restore of x_s.
  static double split_sum(const double* forward, const double* h, const double* p, std::int64_t l,
                          std::int64_t j) {
    return forward[j] + h[l - j] + p[j];
  }
  // Store the state on level k, then solve from it.
  double store_on(int k, std::int64_t m, const Free& f) const {
    return write_[k] + row(p_, k, take(k, f))[m];
  }
  // (4): move x_s from `level` to the other level k, then solve without moving again.
  bool move_option(int level, int k, std::int64_t l, Free f, double& value, Free& after) const {
    if (!can_take(k, f)) return false;
    f = take(k, f);
    if (!give(level, f)) return false;
    value = write_[k] + row(v_, k, f)[l];
    after = f;
    return true;
  }

  template <typename Visit>
  void for_each_cell(Visit&& visit) const {
    for (std::int64_t b = 0; b < static_cast<std::int64_t>(extent_[1]); ++b) {
      for (std::int64_t a = 0; a < static_cast<std::int64_t>(extent_[0]); ++a) visit(Free{{a, b}});
    }
  }

  void fill() {
    const double* forward = forward_.data();
    for (std::int64_t l = 1; l <= steps_; ++l) {
      for_each_cell([&](const Free& f) {
        const double* h = row(h_, 0, f);
        const bool can_store = can_take(0, f) || can_take(1, f);
        for (int level = 0; level < level_count_; ++level) {
          double best = step_.backward;
          if (l >= 2) {
            best = without_store(l, level, f);
            if (can_store) {
              const double* p = row(p_, level, f);
              double split = infinity;
#pragma omp simd reduction(min : split)
              for (std::int64_t j = 1; j < l; ++j) {
                const double candidate = split_sum(forward, h, p, l, j);
                split = candidate < split ? candidate : split;
              }
              best = std::min(best, read_[level] + split);
            }
          }
          row(v_, level, f)[l] = best;
        }
      });
      for_each_cell([&](const Free& f) {
        for (int level = 0; level < level_count_; ++level) {
          double best = row(v_, level, f)[l];
          for (int k = 0; k < level_count_; ++k) {
            double moved = 0;
            Free after{};
            if (k != level && move_option(level, k, l, f, moved, after))
              best = std::min(best, moved);
          }
          row(p_, level, f)[l] = best;
        }
        double store = infinity;
        for (int k = 0; k < level_count_; ++k) {
          if (can_take(k, f)) store = std::min(store, store_on(k, l, f));
        }
        row(h_, 0, f)[l] = store;
      });
    }
  }

  std::int64_t allocate(int k) {
    auto& pool = free_slots_[k];
    if (!pool.empty()) {
      const std::int64_t slot = pool.back();
      pool.pop_back();
      return slot;
    }
    if (!unlimited_[k]) internal_error("a level ran out of slots");
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

  void solve(const Task& t) {
    const std::int64_t l = t.length;
    const std::int64_t s = t.start;
    const int level = t.level;
    const double v = row(v_, level, t.free)[l];
    if (t.kind == Task::solve && row(p_, level, t.free)[l] != v) {
      const double target = row(p_, level, t.free)[l];
      for (int k = 0; k < level_count_; ++k) {
        double moved = 0;
        Free after{};
        if (k != level && move_option(level, k, l, t.free, moved, after) && moved == target) {
          const std::int64_t slot = allocate(k);
          actions_.push_back(Action::make_store(slot, s, k));
          release(level, t.slot);
          tasks_.push_back(Task{Task::solve_without_move, l, s, after, k, slot, {}});
          return;
        }
      }
      internal_error("no move matches the optimum");
    }
    if (l == 1) {
      actions_.push_back(Action::make_reverse(s));
      release(level, t.slot);
      return;
    }
    if (without_store(l, level, t.free) == v) {
      actions_.push_back(Action::make_advance(s, s + l - 1));
      actions_.push_back(Action::make_reverse(s + l - 1));
      actions_.push_back(Action::make_restore(t.slot, s, level));
      tasks_.push_back(Task{Task::solve, l - 1, s, t.free, level, t.slot, {}});
      return;
    }
    const double* h = row(h_, 0, t.free);
    const double* p = row(p_, level, t.free);
    for (std::int64_t j = 1; j < l; ++j) {
      if (read_[level] + split_sum(forward_.data(), h, p, l, j) != v) continue;
      // Prefer a level the stored state will stay on (no store-then-move at equal cost).
      int chosen = -1;
      for (int pass = 0; pass < 2 && chosen < 0; ++pass) {
        for (int k = 0; k < level_count_ && chosen < 0; ++k) {
          if (can_take(k, t.free) && store_on(k, l - j, t.free) == h[l - j] &&
              (pass == 1 || stays(k, take(k, t.free), l - j))) {
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
      tasks_.push_back(Task{Task::solve, j, s, t.free, level, t.slot, {}});
      tasks_.push_back(Task{Task::action, 0, 0, {}, 0, 0, Action::make_restore(t.slot, s, level)});
      tasks_.push_back(Task{Task::solve, l - j, s + j, take(k, t.free), k, slot, {}});
      return;
    }
    internal_error("no option matches the optimum");
  }

  std::int64_t steps_;
  int level_count_;
  StepCosts step_;
  bool unlimited_[2] = {false, false};
  std::int64_t slots_[2] = {0, 0};
  double write_[2] = {0, 0};
  double read_[2] = {0, 0};
  std::size_t extent_[2] = {1, 1};
  std::size_t cells_ = 1;
  std::size_t length_ = 0;
  std::size_t table_bytes_ = 0;
  std::vector<double> forward_;
  std::vector<double> p_, v_, h_;

  std::vector<Action> actions_;
  std::vector<Task> tasks_;
  std::vector<std::int64_t> free_slots_[2];
  std::int64_t next_fresh_[2] = {0, 0};
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
  if (!std::isfinite(value) || value < 0 || (positive && value == 0)) {
    throw std::invalid_argument(std::string("MultilevelRevolve: ") + what + " = " +
                                std::to_string(value) + " is not allowed; it must be finite and " +
                                (positive ? "> 0" : ">= 0"));
  }
}

}  // namespace

MultilevelRevolve::MultilevelRevolve(std::int64_t steps, std::vector<StorageLevel> levels,
                                     StepCosts step_costs, std::size_t max_table_bytes)
    : steps_(steps), levels_(std::move(levels)), step_costs_(step_costs) {
  if (steps < 1) {
    throw std::invalid_argument("MultilevelRevolve: steps = " + std::to_string(steps) +
                                " is not allowed; steps must be >= 1");
  }
  if (levels_.empty() || levels_.size() > 2) {
    throw std::invalid_argument("MultilevelRevolve: " + std::to_string(levels_.size()) +
                                " storage levels given; give one or two (RAM, then disk)");
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
  // A finite second level that the unlimited plan never overfills changes nothing: that plan is
  // then feasible, hence optimal, and far cheaper to find (an unlimited level adds no table
  // dimension). So try it first; only if it needs more slots than there are, plan with the count.
  if (levels_.size() == 2 && levels_[1].slots < steps) {
    std::vector<StorageLevel> relaxed = levels_;
    relaxed[1].slots = unlimited_slots;
    Planner planner(steps, relaxed, step_costs_, max_table_bytes);
    table_bytes_ = planner.table_bytes();
    std::vector<Action> actions = planner.emit();
    if (peak_slots(actions, 1) <= levels_[1].slots) {
      optimal_cost_ = finite_optimum(planner.optimum());
      actions_ = std::move(actions);
      return;
    }
  }
  Planner planner(steps, levels_, step_costs_, max_table_bytes);
  optimal_cost_ = finite_optimum(planner.optimum());
  table_bytes_ = std::max(table_bytes_, planner.table_bytes());
  actions_ = planner.emit();
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
