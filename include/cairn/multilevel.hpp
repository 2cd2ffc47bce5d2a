// Optimal checkpointing over a hierarchy of up to three storage levels (device memory, pinned host
// memory, disk; or RAM, then disk) with costs per level.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "cairn/check.hpp"
#include "cairn/schedule.hpp"

namespace cairn {

/// A slot count meaning "as many as the schedule wants" (an unlimited disk).
inline constexpr std::int64_t unlimited_slots = std::numeric_limits<std::int64_t>::max();

/// One storage level of a hierarchy: how many slots it has and what one store (write) and one
/// restore (read) of a checkpoint cost, in the same unit as a forward step.
struct StorageLevel {
  std::int64_t slots = 0;  ///< >= 0, or unlimited_slots (last level only)
  double write_cost = 0;   ///< >= 0
  double read_cost = 0;    ///< >= 0
};

/// Cost of one forward step (uf) and of one adjoint step (ub).
struct StepCosts {
  double forward = 1;   ///< uf, > 0
  double backward = 0;  ///< ub, >= 0
};

/// The cheapest schedule for T steps over one, two or three storage levels with costs (e.g. device
/// memory, pinned host memory, disk), found by dynamic programming over the multilevel recursion
/// of H-Revolve (Herrmann & Pallez, ACM TOMS 46(2), 2020) and Disk-Revolve (Aupy, Herrmann,
/// Hovland & Robert, SIAM J. Sci. Comput. 38(3), 2016).
///
/// Cost of a stream (what ScheduleChecker + cost() measure):
///   uf * forward steps + ub * T + sum over levels of (write_cost * stores + read_cost * restores).
///
/// The schedules searched are the nested ones (docs/multilevel.md): reversing steps [s, s + l)
/// from a stored x_s either (1) reverses step s if l = 1, (2) advances to x_{s+l-1}, reverses it,
/// restores x_s and continues with l - 1 steps, (3) advances j steps, stores x_{s+j} on any level
/// with a free slot, reverses [s + j, s + l) recursively, frees that slot, restores x_s and
/// reverses [s, s + j), or (4) first moves x_s to a slot on another level (store there, free
/// the old slot) and then does (1)-(3). This class contains Revolve, Disk-Revolve and the
/// H-Revolve schedules for two and three levels; the tests show by exhaustive search over all
/// legal streams that it contains an optimal one on every small instance tried (two levels up to
/// T = 9, three levels up to T = 7; docs/multilevel.md lists them).
///
/// Guarantees: the stream is legal under ScheduleChecker with slots_per_level(); its cost equals
/// optimal_cost() exactly when all costs are integers or dyadic fractions (no rounding in the
/// sums); with write and read costs all zero it makes exactly forward_cost(T, c0 + c1 + c2)
/// forward steps, i.e. it is Revolve with all the levels' slots. Slots are freed with `free`
/// actions as soon as their checkpoint will not be read again.
///
/// Cost of planning: the constructor fills tables of
///   (2 n + 1)(c0' + 1)(c1' + 1)(c2' + 1)(T + 1) + T + 1
/// doubles, n the number of levels, where a level with at least T slots (or unlimited, or absent)
/// counts as c' = 0 and otherwise c' is its slot count (table_bytes() tells; it throws
/// std::length_error above `max_table_bytes`), in O(n T^2 (c0' + 1)(c1' + 1)(c2' + 1)) time:
/// T = 10^4 with 10 RAM slots and an unlimited disk plans in 0.4 s (docs/benchmarks.md). A finite
/// last level is first planned as unlimited, and that plan is kept when it fits. The tables are
/// freed before the constructor returns; the stream is kept as a vector of actions (32 bytes
/// each) and next() copies one.
class MultilevelRevolve final : public Schedule {
 public:
  static constexpr std::size_t default_max_table_bytes = std::size_t{1} << 30;

  /// `levels` has one, two or three entries, the fastest first. Throws std::invalid_argument for
  /// steps < 1, no slot at all when steps >= 2, negative or non-finite costs, forward cost <= 0,
  /// more than three levels, unlimited_slots on a level other than the last, or costs so large
  /// that the cheapest plan's cost is not a finite double; std::length_error when the tables
  /// would exceed max_table_bytes.
  MultilevelRevolve(std::int64_t steps, std::vector<StorageLevel> levels, StepCosts step_costs = {},
                    std::size_t max_table_bytes = default_max_table_bytes);

  Action next() override;
  std::size_t next_actions(Action* out, std::size_t capacity) override;
  void reset() override { position_ = 0; }
  const char* name() const noexcept override { return "multilevel"; }

  std::int64_t steps() const noexcept { return steps_; }
  const std::vector<StorageLevel>& levels() const noexcept { return levels_; }
  const StepCosts& step_costs() const noexcept { return step_costs_; }
  /// The optimum of the dynamic program: what the stream costs.
  double optimal_cost() const noexcept { return optimal_cost_; }
  /// The cost model to give cost() together with a checker's counts.
  CostModel cost_model() const;
  /// Slot counts to give ScheduleChecker (an unlimited level counts as T slots, more than any
  /// stream of T steps can hold at once).
  std::vector<std::int64_t> slots_per_level() const;
  /// Number of actions in the stream, `end` included.
  std::size_t action_count() const noexcept { return actions_.size(); }
  /// Bytes the planning tables took (freed when the constructor returns).
  std::size_t table_bytes() const noexcept { return table_bytes_; }

 private:
  double finite_optimum(double cost) const;

  std::int64_t steps_;
  std::vector<StorageLevel> levels_;
  StepCosts step_costs_;
  double optimal_cost_ = 0;
  std::size_t table_bytes_ = 0;
  std::vector<Action> actions_;
  std::size_t position_ = 0;
};

}  // namespace cairn
