#include "cairn/mixed.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "schedules/price_check.hpp"
#include "schedules/two_level_tables.hpp"

namespace cairn {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

}  // namespace

MixedRevolve::MixedRevolve(std::int64_t steps, std::int64_t units, std::int64_t adjoint_units,
                           MixedPrices prices, std::size_t max_table_bytes)
    : steps_(steps), units_(units), adjoint_units_(adjoint_units), prices_(prices) {
  if (steps < 1) {
    throw std::invalid_argument("MixedRevolve: steps = " + std::to_string(steps) +
                                " is not allowed; give steps >= 1");
  }
  if (units < 0 || (units == 0 && steps >= 2)) {
    throw std::invalid_argument(
        "MixedRevolve: units = " + std::to_string(units) + " is not allowed for " +
        std::to_string(steps) + " steps; give units >= 1 (one unit holds x_0 to restart from)" +
        (steps == 1 ? std::string() : std::string(", or units = 0 for steps = 1")));
  }
  if (adjoint_units < 1) {
    throw std::invalid_argument("MixedRevolve: adjoint_units = " + std::to_string(adjoint_units) +
                                " is not allowed; the adjoint data of a step takes >= 1 unit");
  }
  schedules_detail::require_price("MixedRevolve", "the forward price uf", prices.forward);
  schedules_detail::require_price("MixedRevolve", "the taped price ut", prices.taped, true);
  schedules_detail::require_price("MixedRevolve", "the backward price ub", prices.backward);
  // A taped step does what an untaped one does and records: were it cheaper, recording and
  // discarding would be the cheapest advance, a case the dynamic program does not model.
  if (prices.taped < prices.forward) {
    throw std::invalid_argument(
        "MixedRevolve: the taped price ut = " + std::to_string(prices.taped) +
        " is below uf = " + std::to_string(prices.forward) + "; give ut at least uf");
  }

  // Rows beyond (T - 1) w units change nothing: every step's adjoint data fits.
  const std::int64_t useful =
      steps <= 1 ? 0
      : adjoint_units > std::numeric_limits<std::int64_t>::max() / (steps - 1)
          ? units
          : std::min(units, (steps - 1) * adjoint_units);
  rows_ = useful + 1;
  const double bytes = static_cast<double>(rows_) * static_cast<double>(steps + 1) *
                       static_cast<double>(sizeof(double) + sizeof(std::int64_t));
  if (bytes > static_cast<double>(max_table_bytes)) {
    throw std::length_error(
        "MixedRevolve: the planning table for " + std::to_string(steps) + " steps and " +
        std::to_string(rows_ - 1) + " useful units needs " + std::to_string(bytes) +
        " bytes, more than max_table_bytes = " + std::to_string(max_table_bytes));
  }
  const auto width = static_cast<std::size_t>(steps + 1);
  table_.assign(static_cast<std::size_t>(rows_) * width, infinity);
  split_.assign(table_.size(), 0);
  std::vector<double> advance(width);
  for (std::size_t i = 0; i < width; ++i) advance[i] = static_cast<double>(i) * prices.forward;
  for (std::int64_t s = 0; s < rows_; ++s) {
    double* row = &table_[static_cast<std::size_t>(s) * width];
    std::int64_t* splits = &split_[static_cast<std::size_t>(s) * width];
    row[1] = prices.taped;
    if (s == 0) continue;  // nothing longer than one step can be reversed without a unit
    const double* fewer = row - width;  // s - 1
    const double* keep =
        s >= adjoint_units ? &table_[static_cast<std::size_t>(s - adjoint_units) * width] : nullptr;
    for (std::int64_t n = 2; n <= steps; ++n) {
      const auto un = static_cast<std::size_t>(n);
      // Store the start, advance i steps, reverse the rest, then [0, i) from the start again.
      const double split = two_level_detail::best_split(advance.data(), fewer, row, n);
      double best = split;
      std::int64_t choice = 0;
      if (split < infinity) {
        for (std::int64_t i = 1; i < n; ++i) {  // the first split that reaches the minimum
          const auto ui = static_cast<std::size_t>(i);
          if (advance[ui] + fewer[un - ui] + row[ui] == split) {
            choice = i;
            break;
          }
        }
      }
      // Keep the first step's adjoint data and go on (preferred on a tie: fewer stores).
      if (keep != nullptr && prices.taped + keep[un - 1] <= best) {
        best = prices.taped + keep[un - 1];
        choice = 0;
      }
      row[un] = best;
      splits[un] = choice;
    }
  }
  optimal_cost_ = m(steps, units) + static_cast<double>(steps) * prices.backward;
  reset();
  expected_ = count_stream();
  reset();
}

double MixedRevolve::m(std::int64_t n, std::int64_t s) const {
  const std::int64_t row = std::min(s, rows_ - 1);
  return table_[static_cast<std::size_t>(row) * static_cast<std::size_t>(steps_ + 1) +
                static_cast<std::size_t>(n)];
}

MixedRevolve::Decision MixedRevolve::decide(std::int64_t n, std::int64_t s) const {
  if (n == 1) return {Choice::reverse_one, 0};
  const std::int64_t row = std::min(s, rows_ - 1);
  const std::int64_t split =
      split_[static_cast<std::size_t>(row) * static_cast<std::size_t>(steps_ + 1) +
             static_cast<std::size_t>(n)];
  return split == 0 ? Decision{Choice::keep_adjoint_data, 0} : Decision{Choice::split, split};
}

CostModel MixedRevolve::cost_model() const {
  CostModel model;
  model.forward_step = prices_.forward;
  model.backward_step = prices_.backward;
  model.taped_step = prices_.taped;
  return model;
}

std::size_t MixedRevolve::table_bytes() const noexcept {
  return table_.size() * sizeof(double) + split_.size() * sizeof(std::int64_t);
}

void MixedRevolve::reset() {
  tasks_.clear();
  tasks_.push_back(Task{Task::Kind::segment, 0, steps_, units_, -1});
  free_slots_.clear();
  next_fresh_slot_ = 0;
  pending_.clear();
  pending_next_ = 0;
  ended_ = false;
}

std::int64_t MixedRevolve::take_slot() {
  if (free_slots_.empty()) return next_fresh_slot_++;
  const std::int64_t slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

// Turns tasks into actions until a few are pending (every task emits at least one).
void MixedRevolve::refill() {
  pending_.clear();
  pending_next_ = 0;
  while (pending_.size() < 64) {
    if (tasks_.empty()) {
      pending_.push_back(Action::make_end());
      ended_ = true;
      return;
    }
    Task task = tasks_.back();
    tasks_.pop_back();
    if (task.kind == Task::Kind::reverse_stored) {
      pending_.push_back(Action::make_reverse_stored(task.slot, task.start));
      free_slots_.push_back(task.slot);
      continue;
    }
    if (task.kind == Task::Kind::restore_then_segment) {
      pending_.push_back(Action::make_restore(task.slot, task.start));
    }
    const Decision d = decide(task.length, task.units);
    if (d.choice != Choice::split && task.slot >= 0) {  // the start is not needed again
      pending_.push_back(Action::make_free(task.slot));
      free_slots_.push_back(task.slot);
    }
    if (d.choice == Choice::reverse_one) {
      pending_.push_back(Action::make_reverse(task.start));
    } else if (d.choice == Choice::keep_adjoint_data) {
      const std::int64_t slot = take_slot();
      pending_.push_back(Action::make_store_adjoint(slot, task.start));
      tasks_.push_back(Task{Task::Kind::reverse_stored, task.start, 1, 0, slot});
      tasks_.push_back(Task{Task::Kind::segment, task.start + 1, task.length - 1,
                            task.units - adjoint_units_, -1});
    } else {
      std::int64_t slot = task.slot;
      if (slot < 0) {
        slot = take_slot();
        pending_.push_back(Action::make_store(slot, task.start));
      }
      pending_.push_back(Action::make_advance(task.start, task.start + d.split));
      tasks_.push_back(
          Task{Task::Kind::restore_then_segment, task.start, d.split, task.units, slot});
      tasks_.push_back(Task{Task::Kind::segment, task.start + d.split, task.length - d.split,
                            task.units - 1, -1});
    }
  }
}

Action MixedRevolve::next() {
  Action a;
  next_actions(&a, 1);
  return a;
}

std::size_t MixedRevolve::next_actions(Action* out, std::size_t capacity) {
  std::size_t written = 0;
  while (written < capacity) {
    if (pending_next_ == pending_.size()) {
      if (ended_) {  // after end, end again
        out[written++] = Action::make_end();
        return written;
      }
      refill();
    }
    const Action a = pending_[pending_next_++];
    out[written++] = a;
    if (a.kind == ActionKind::end) return written;
  }
  return written;
}

ScheduleCosts MixedRevolve::count_stream() {
  ScheduleChecker checker(steps_, slots_per_level(), false, 1, adjoint_units_);
  Action batch[256];
  while (!checker.ended() && !checker.failed()) {
    const std::size_t got = next_actions(batch, 256);
    for (std::size_t i = 0; i < got && checker.feed(batch[i]); ++i) {
    }
  }
  const CheckResult result = checker.finish();
  if (!result.legal) {
    throw std::logic_error("MixedRevolve: the stream is illegal (" + result.reason + ")");
  }
  return result.costs;
}

}  // namespace cairn
