// The textbook baseline: a checkpoint every k steps, each segment recomputed once.
#pragma once

#include <cstdint>

#include "cairn/schedule.hpp"

namespace cairn {

/// Uniform checkpointing with interval k over T steps: the forward sweep stores x_0, x_k, x_2k,
/// ... (m = ceil(T / k) checkpoints, slots 0..m-1); the reverse sweep takes the segments
/// [jk, min((j + 1) k, T)) last first: restore x_jk, advance through the segment once keeping its
/// states x_{jk+1} .. x_{e-2} in a buffer (slots m .. m + k - 3), reverse step e - 1 from the
/// working state, then every other step of the segment from the buffer or the checkpoint.
///
/// Memory: slots_needed(T, k) = m + max(min(k, T) - 2, 0) slots, i.e. the textbook's "T/k
/// checkpoints plus a segment buffer of k - 1 states" with the working state counted in the buffer.
///
/// Cost, in the counts of the Action stream (forward_steps(T, k)): T - 1 advances in the forward
/// sweep (to x_{T-1}) and e - s - 1 in the reverse sweep for every segment [s, e): for T = N k,
///     advances = (N - 1) + N (1 - 1/k),
/// and every reverse action is one taped step plus the adjoint. The textbook total
///     C_total = N C_f + N C_b + N (1 - 1/k) C_f
/// is the same bill: its N C_f forward sweep is our N - 1 advances plus the step x_{N-1} -> x_N
/// that the Driver makes for the terminal adjoint (its step calls are advances + 1), its N C_b are
/// the N reverse actions (C_b = what one reverse costs, taped step included), and its N (1 - 1/k)
/// C_f are the reverse-sweep advances. The tests check these counts for every T, k <= 60.
///
/// The textbook schedule recomputes the last segment although the forward sweep just passed
/// through it. Near its best memory (about 2 sqrt(T) slots) it is close to Revolve (T = 100, 18
/// slots: 189 advances against 180); with less it cannot run at all (`cairn plan` compares them).
class Uniform final : public Schedule {
 public:
  /// Throws std::invalid_argument unless steps >= 1 and interval >= 1. Any T and k up to 2^63 - 1:
  /// the schedule holds a few integers, not a segment's actions.
  Uniform(std::int64_t steps, std::int64_t interval);

  Action next() override;
  void reset() override;
  const char* name() const noexcept override { return "uniform"; }

  std::int64_t steps() const noexcept { return steps_; }
  std::int64_t interval() const noexcept { return interval_; }
  /// Slots the stream uses: slots_needed(steps(), interval()).
  std::int64_t slots() const noexcept { return slots_needed(steps_, interval_); }

  /// ceil(T / k) checkpoints plus a buffer of max(min(k, T) - 2, 0) slots.
  static std::int64_t slots_needed(std::int64_t steps, std::int64_t interval);
  /// Advances of the stream: 2 T - 1 - ceil(T / k). Throws std::overflow_error when that exceeds
  /// 2^63 - 1 (T above 2^62).
  static std::int64_t forward_steps(std::int64_t steps, std::int64_t interval);

  /// The interval that minimises J(k) = alpha M(k) + beta R(k) with M(k) = a / k (checkpoints per
  /// unit length) and R(k) = k / 2 (mean recomputation): k* = sqrt(2 alpha a / beta), rounded to
  /// whichever integer neighbour (>= 1) gives the smaller J. Throws std::invalid_argument unless
  /// alpha, a and beta are finite and > 0.
  static std::int64_t optimal_interval(double alpha, double a, double beta);
  /// J(k) = alpha a / k + beta k / 2.
  static double interval_objective(double alpha, double a, double beta, std::int64_t interval);
  /// The interval with the fewest forward steps whose slots_needed fits in `slots`: the smallest
  /// such k, as forward_steps grows with k. Throws std::invalid_argument when no k fits, naming
  /// the least number of slots that would (about 2 sqrt(T) - 2). O(log T) time.
  static std::int64_t best_interval_for_slots(std::int64_t steps, std::int64_t slots);

 private:
  enum class Phase {
    forward_store,
    forward_advance,
    segment_restore,
    segment_advance,
    segment_store,
    segment_reverse_last,
    back_restore,
    back_reverse,
    ended
  };
  std::int64_t segment_start() const noexcept;
  std::int64_t segment_end() const noexcept;

  std::int64_t steps_;
  std::int64_t interval_;
  std::int64_t segments_;
  // Where the stream stands: O(1) memory whatever T and k.
  Phase phase_ = Phase::forward_store;
  std::int64_t segment_ = 0;   // forward: the next segment; reverse: the one being reversed
  std::int64_t position_ = 0;  // reverse: the state the segment's sweep is at
};

}  // namespace cairn
