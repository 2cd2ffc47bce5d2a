// Mixed checkpointing: every storage unit holds either a restart state or the adjoint data of
// one step, whichever the optimal schedule wants there (docs/mixed.md).
//
// Revolve's checkpoints can only restart the forward run, and every reverse step re-runs its step
// taped. Many solvers can instead keep what the adjoint of a step needs (the stage values of a
// Runge-Kutta step, PETSc's state plus stages, the converged iterate of an implicit step, the
// tensors autograd saved): such a step is reversed without being run again. Choosing per unit
// between the two is what Maddison's mixed schedule does (J. R. Maddison, "Step-based
// checkpointing with high-level algorithmic differentiation", 2024); with the adjoint data of a
// Runge-Kutta step as large as 1 + stages states it is the stage-aware setting of CAMS (Zhang &
// Constantinescu).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/check.hpp"
#include "cairn/schedule.hpp"

namespace cairn {

/// Prices of the mixed model, in any unit (e.g. seconds or forward evaluations).
struct MixedPrices {
  double forward = 1;   ///< uf: one untaped forward step (advance)
  double taped = 1;     ///< ut: one taped forward step (store_adjoint, or the re-run of a reverse)
  double backward = 0;  ///< ub: the adjoint of one step, either kind of reverse
};

/// The optimal reversal of T steps with `units` units of storage where a state takes one unit and
/// the adjoint data of a step `adjoint_units` (an integer, e.g. 1 + stages for a Runge-Kutta step
/// whose adjoint data are x_i and its stages).
///
/// The class searched: every schedule in Cairn's Action vocabulary that stores states (store,
/// restore) and adjoint data (store_adjoint, then reverse_stored consumes it) within the units,
/// the working state and the step being reversed held outside them (as in Revolve, where x_0
/// takes one of the c slots). Prices: uf per advanced step, ut per taped step, ub per reverse.
/// The dynamic program over (steps, free units) is
///
///     m(1, s)  = ut
///     m(n, s)  = min( ut + m(n-1, s-w)                                   if s >= w
///                     min_{1<=i<n} i uf + m(n-i, s-1) + m(i, s)            if s >= 1 )
///
/// (keep the adjoint data of the first step and go on, or store the start, advance i steps and
/// reverse the rest first; Maddison's recursion for w = 1, where i = 1 never pays). Exhaustive
/// search over every legal stream on small instances finds nothing cheaper (tests/test_mixed.cpp,
/// tests/mixed_exhaustive.hpp). The total cost is m(T, units) + T ub.
///
/// Costs: the planning table is O(T min(units, (T-1) w)) doubles and takes O(T^2 units) time
/// (T = 10^4 with 50 units: about a second on the development machine, docs/benchmarks.md); the
/// stream is generated as read, O(1) per action, with a stack of at most T tasks. Units at or
/// beyond (T - 1) w store every step's adjoint data: T taped steps, nothing recomputed.
///
/// Slots: states and adjoint data share the slot numbers 0..units-1 of level 0 (one slot per
/// item, whatever its size): the driver's state storage and its adjoint-data storage are indexed
/// by the same numbers, and at no time do they hold more than `units` units together.
class MixedRevolve final : public Schedule {
 public:
  static constexpr std::size_t default_max_table_bytes = std::size_t{1} << 30;

  /// Throws std::invalid_argument for steps < 1, units < 0, units = 0 when steps >= 2 (one unit
  /// is needed to restart; with adjoint_units > units a unit still holds a state),
  /// adjoint_units < 1, prices that are negative or not finite, ut < uf (a taped step does all an
  /// untaped one does) or ut = 0; std::length_error
  /// when the table would exceed max_table_bytes (its size is said in the message).
  MixedRevolve(std::int64_t steps, std::int64_t units, std::int64_t adjoint_units = 1,
               MixedPrices prices = {}, std::size_t max_table_bytes = default_max_table_bytes);

  Action next() override;
  std::size_t next_actions(Action* out, std::size_t capacity) override;
  void reset() override;
  const char* name() const noexcept override { return "mixed"; }
  std::int64_t adjoint_data_units() const noexcept override { return adjoint_units_; }

  std::int64_t steps() const noexcept { return steps_; }
  std::int64_t units() const noexcept { return units_; }
  const MixedPrices& prices() const noexcept { return prices_; }
  /// m(T, units) + T ub: what the stream costs under cost_model(), the optimum of the class.
  double optimal_cost() const noexcept { return optimal_cost_; }
  /// The counts of the whole stream (what the checker will count), without replaying it.
  const ScheduleCosts& expected_costs() const noexcept { return expected_; }
  /// uf, ub and ut as a CostModel for the checker's cost().
  CostModel cost_model() const;
  /// Slot counts to give ScheduleChecker: {units}.
  std::vector<std::int64_t> slots_per_level() const { return {units_}; }
  std::size_t table_bytes() const noexcept;

 private:
  // What reversing n steps from a working start with s free units does first.
  enum class Choice : std::uint8_t { reverse_one, keep_adjoint_data, split };
  struct Decision {
    Choice choice;
    std::int64_t split;  // for Choice::split: the steps advanced before the rest is reversed
  };
  Decision decide(std::int64_t n, std::int64_t s) const;
  double m(std::int64_t n, std::int64_t s) const;
  void refill();
  std::int64_t take_slot();
  ScheduleCosts count_stream();

  // A task of the stream generator: reverse steps [start, start + length) with `units` units,
  // the working state being x_start (held in `slot` too when slot >= 0, that slot's unit counted
  // in `units`); the same after restoring x_start from `slot`; or reverse step `start` from the
  // adjoint data in `slot`.
  struct Task {
    enum class Kind : std::uint8_t { segment, restore_then_segment, reverse_stored } kind;
    std::int64_t start, length, units, slot;
  };

  std::int64_t steps_;
  std::int64_t units_;
  std::int64_t adjoint_units_;
  MixedPrices prices_;
  std::int64_t rows_ = 0;            // s = 0..rows_-1 are tabulated; larger s behave as rows_ - 1
  std::vector<double> table_;        // m(n, s) at s * (steps_ + 1) + n
  std::vector<std::int64_t> split_;  // the best split there, or 0 for keep_adjoint_data
  double optimal_cost_ = 0;
  ScheduleCosts expected_;

  std::vector<Task> tasks_;
  std::vector<std::int64_t> free_slots_;  // slots freed and not taken again
  std::int64_t next_fresh_slot_ = 0;      // the lowest slot never taken
  std::vector<Action> pending_;
  std::size_t pending_next_ = 0;
  bool ended_ = false;
};

}  // namespace cairn
