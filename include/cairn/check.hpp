// The schedule checker: replays any stream of Actions, proves it legal and counts what it costs.
//
// It is written against the Action contract alone (docs/theory.md, "What the checker verifies"),
// never against a schedule's internals, and is what tests, benchmarks and the CLI use to judge one.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/schedule.hpp"

namespace cairn {

/// Costs on one storage level.
struct LevelCosts {
  std::int64_t stores = 0;
  std::int64_t restores = 0;
  std::int64_t frees = 0;
  std::int64_t peak_slots = 0;      ///< most slots holding a state or adjoint data at the same time
  std::int64_t adjoint_stores = 0;  ///< store_adjoint actions
  /// Most units in use at the same time: a state weighs one unit, adjoint data the checker's
  /// adjoint_data_units (equal to peak_slots when that is 1).
  std::int64_t peak_units = 0;
};

/// What a stream costs. Counts cover the actions accepted before the first illegal one.
struct ScheduleCosts {
  std::int64_t actions = 0;        ///< accepted actions, `end` included
  std::int64_t advances = 0;       ///< advance actions
  std::int64_t forward_steps = 0;  ///< sum of (to - from) over advances; saturates at 2^63 - 1
  /// The repetition number the stream actually used (the most evaluations of one step by
  /// advance and store_adjoint); -1 if the checker was told not to count.
  std::int64_t max_advances_per_step = 0;
  std::int64_t reverses = 0;         ///< reverse and reverse_stored actions
  std::int64_t stored_reverses = 0;  ///< reverse_stored actions (no re-run of the step)
  std::int64_t adjoint_stores = 0;   ///< store_adjoint actions (one taped step each)
  std::vector<LevelCosts> levels;    ///< one entry per level

  /// Taped forward steps: one per store_adjoint and one per plain reverse (which re-runs its
  /// step taped before the adjoint).
  std::int64_t taped_steps() const noexcept;
  /// Every evaluation of a step, taped or not: forward_steps + taped_steps(). For Revolve this
  /// is t(T, c) + T; it is the count Maddison's mixed schedules minimise.
  std::int64_t forward_evaluations() const noexcept;

  std::int64_t stores() const noexcept;    ///< over all levels
  std::int64_t restores() const noexcept;  ///< over all levels
};

/// Prices for what a stream does: the cost model of multilevel checkpointing (multilevel.hpp).
struct CostModel {
  double forward_step = 1;    ///< uf, per forward step advanced
  double backward_step = 0;   ///< ub, per step reversed
  std::vector<double> write;  ///< per level: cost of one store (levels not listed cost 0)
  std::vector<double> read;   ///< per level: cost of one restore (levels not listed cost 0)
  /// ut, per taped forward step (taped_steps()): zero unless set, so that streams without adjoint
  /// data are priced as before, with ub standing for the re-run and the adjoint together.
  double taped_step = 0;
};

/// uf * forward_steps + ut * taped_steps + ub * reverses + sum over levels of (write * stores +
/// read * restores), summed in that order (the ut term is added only when ut != 0). Adjoint data
/// is priced by ut and ub alone: the write and read prices are those of states.
double cost(const ScheduleCosts& costs, const CostModel& model);

/// The verdict on a stream.
struct CheckResult {
  bool legal = false;
  std::int64_t first_illegal_index = -1;  ///< 0-based index of the first illegal action, or -1
  std::string reason;                     ///< why it is illegal; empty when legal
  ScheduleCosts costs;
};

/// Replays a stream one action at a time. The rules (x_0 is the working state at the start):
///  - advance(from, to): the working state is x_from and 0 <= from < to <= T; it becomes x_to.
///  - store(slot, step, level): level and slot exist, 0 <= step <= T, the working state is
///    x_step and the level has room for one more unit (less what the slot held); the slot then
///    holds x_step (overwriting is allowed).
///  - restore(slot, step, level): 0 <= step <= T and the slot holds x_step; the working state
///    becomes x_step.
///  - reverse(step): 0 <= step < T, the working state is x_step and step is the highest step not
///    yet reversed; the working state is then undefined (no step index, -1 included, names it).
///  - free(slot, level): the slot holds a state or adjoint data; it is then empty.
///  - store_adjoint(slot, step, level): level and slot exist, 0 <= step < T, the working state is
///    x_step and the level has room for adjoint_data_units more units (less what the slot held);
///    the slot then holds the adjoint data of step `step` and the working state is x_{step+1}.
///  - reverse_stored(slot, step, level): step is the highest step not yet reversed and the slot
///    holds its adjoint data; the slot is then empty and the working state undefined.
///  - end: every step is reversed. Nothing may follow it, and a stream must finish with it.
/// A stream of several reverse sweeps (`sweeps` > 1: several adjoints from one forward run)
/// reverses T-1..0 that many times; once step 0 is reversed the next sweep starts, with the
/// working state undefined and the slots as they are, and `end` comes after the last sweep.
/// Memory: one counter per state up to the highest the stream reaches (at most 8 (T + 1) bytes)
/// for the per-step advance counts, unless `count_advances_per_step` is false (then
/// max_advances_per_step is -1), plus one integer per slot the stream touches; nothing in
/// proportion to T up front. Time: amortised O(1) per action, O(steps reached) in finish(). If
/// the counts cannot be allocated, feed() throws std::length_error saying how many bytes.
class ScheduleChecker {
 public:
  /// Units: level l has slots_per_level[l] units of storage, a state takes one and the adjoint
  /// data of a step `adjoint_data_units` (the ratio of their sizes, mixed.hpp); slots are
  /// numbered 0..slots_per_level[l] - 1 either way, and at no time may the level hold more
  /// units than it has. With adjoint_data_units = 1 (and for streams without adjoint data) a unit
  /// is a slot. Throws std::invalid_argument unless steps >= 1, at least one level is given,
  /// every level has >= 0 slots, sweeps >= 1 and adjoint_data_units >= 1.
  ScheduleChecker(std::int64_t steps, std::vector<std::int64_t> slots_per_level,
                  bool count_advances_per_step = true, std::int64_t sweeps = 1,
                  std::int64_t adjoint_data_units = 1);

  /// Replays one action; returns false once the stream is illegal (and ignores what follows).
  bool feed(const Action& action);

  /// The verdict so far. A stream that is legal but has not reached `end` is reported illegal
  /// ("the stream ended before ...") with first_illegal_index = the number of actions fed.
  CheckResult finish() const;

  bool failed() const noexcept { return failed_; }
  bool ended() const noexcept { return ended_; }

 private:
  bool reject(const Action& action, const std::string& why);
  // Puts `content` (a state index or a record) into a slot, checking the level's units.
  bool fill(const Action& action, std::int64_t& cell, std::int64_t content);
  void empty(Level level, std::int64_t& cell);
  std::int64_t units_of(std::int64_t cell) const noexcept;  // what a slot's content weighs
  bool state_exists(std::int64_t step) const noexcept;
  std::string no_such_state(std::int64_t step) const;
  bool step_exists(std::int64_t step) const noexcept;  // 0 <= step < T
  std::string no_such_step(std::int64_t step) const;
  void count_advance(std::int64_t from, std::int64_t to);

  std::int64_t steps_;
  std::vector<std::int64_t> slots_per_level_;
  // held_[level][slot]: a state index, -1 if empty, or record(step) = -2 - step for the adjoint
  // data of step `step`.
  std::vector<std::vector<std::int64_t>> held_;
  std::vector<std::int64_t> occupied_;  // slots holding something, per level
  std::vector<std::int64_t> units_;     // units in use, per level
  std::int64_t adjoint_data_units_ = 1;
  std::vector<std::int64_t> advance_delta_;  // difference array of per-step advance counts
  bool counting_advances_ = true;
  ScheduleCosts costs_;
  std::int64_t fed_ = 0;
  std::int64_t working_ = 0;  // index of the working state, -1 if undefined
  std::int64_t unreversed_;   // steps 0..unreversed_-1 are not reversed yet (in this sweep)
  std::int64_t sweeps_left_;  // reverse sweeps after the current one
  bool ended_ = false;
  bool failed_ = false;
  std::int64_t failed_index_ = -1;
  std::string reason_;
};

/// Runs `schedule` (from its current position) through a ScheduleChecker until `end`, the first
/// illegal action, or `max_actions` actions, whichever comes first. It reads the schedule in
/// batches (Schedule::next_actions), so the schedule may be left up to 255 actions further on.
/// The stream has schedule.sweeps() reverse sweeps, and its adjoint data weighs
/// schedule.adjoint_data_units() units.
CheckResult check(Schedule& schedule, std::int64_t steps, std::vector<std::int64_t> slots_per_level,
                  std::int64_t max_actions = std::numeric_limits<std::int64_t>::max());

}  // namespace cairn
