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
  std::int64_t peak_slots = 0;  ///< most slots holding a state at the same time
};

/// What a stream costs. Counts cover the actions accepted before the first illegal one.
struct ScheduleCosts {
  std::int64_t actions = 0;        ///< accepted actions, `end` included
  std::int64_t advances = 0;       ///< advance actions
  std::int64_t forward_steps = 0;  ///< sum of (to - from) over advances; saturates at 2^63 - 1
  /// The repetition number the stream actually used; -1 if the checker was told not to count.
  std::int64_t max_advances_per_step = 0;
  std::int64_t reverses = 0;
  std::vector<LevelCosts> levels;  ///< one entry per level

  std::int64_t stores() const noexcept;    ///< over all levels
  std::int64_t restores() const noexcept;  ///< over all levels
};

/// Prices for what a stream does: the cost model of multilevel checkpointing (multilevel.hpp).
struct CostModel {
  double forward_step = 1;    ///< uf, per forward step advanced
  double backward_step = 0;   ///< ub, per step reversed
  std::vector<double> write;  ///< per level: cost of one store (levels not listed cost 0)
  std::vector<double> read;   ///< per level: cost of one restore (levels not listed cost 0)
};

/// uf * forward_steps + ub * reverses + sum over levels of (write * stores + read * restores),
/// summed in that order.
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
///    x_step; the slot then holds x_step (overwriting is allowed).
///  - restore(slot, step, level): 0 <= step <= T and the slot holds x_step; the working state
///    becomes x_step.
///  - reverse(step): 0 <= step < T, the working state is x_step and step is the highest step not
///    yet reversed; the working state is then undefined (no step index, -1 included, names it).
///  - free(slot, level): the slot holds a state; it is then empty.
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
  /// Throws std::invalid_argument unless steps >= 1, at least one level is given, every level
  /// has >= 0 slots and sweeps >= 1.
  ScheduleChecker(std::int64_t steps, std::vector<std::int64_t> slots_per_level,
                  bool count_advances_per_step = true, std::int64_t sweeps = 1);

  /// Replays one action; returns false once the stream is illegal (and ignores what follows).
  bool feed(const Action& action);

  /// The verdict so far. A stream that is legal but has not reached `end` is reported illegal
  /// ("the stream ended before ...") with first_illegal_index = the number of actions fed.
  CheckResult finish() const;

  bool failed() const noexcept { return failed_; }
  bool ended() const noexcept { return ended_; }

 private:
  bool reject(const Action& action, const std::string& why);
  bool state_exists(std::int64_t step) const noexcept;
  std::string no_such_state(std::int64_t step) const;
  void count_advance(std::int64_t from, std::int64_t to);

  std::int64_t steps_;
  std::vector<std::int64_t> slots_per_level_;
  std::vector<std::vector<std::int64_t>> held_;  // held_[level][slot]: state index, -1 if empty
  std::vector<std::int64_t> occupied_;           // slots holding a state, per level
  std::vector<std::int64_t> advance_delta_;      // difference array of per-step advance counts
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
/// The stream has schedule.sweeps() reverse sweeps.
CheckResult check(Schedule& schedule, std::int64_t steps, std::vector<std::int64_t> slots_per_level,
                  std::int64_t max_actions = std::numeric_limits<std::int64_t>::max());

}  // namespace cairn
