// Online checkpointing: checkpoints placed while the number of steps is still unknown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/revolve.hpp"
#include "cairn/schedule.hpp"

namespace cairn {

/// Checkpointing for a run whose length T is learnt only when it ends (adaptive time stepping, a
/// run until a condition holds). The user's loop computes x_1, ..., x_T; then the steps
/// T-1, ..., 0 are reversed.
///
/// Such a run is, offline, Revolve on T + 1 steps (reach x_T, then reverse), whose repetition
/// number is r(T + 1, c). Reversing with checkpoints x_0 = x_{s_0}, x_{s_1}, ..., x_{s_m}, each
/// segment k by Revolve with the c - k slots the earlier checkpoints leave, advances no step more
/// than r(T + 1, c) times when every segment k is at most beta(c - k, r(T + 1, c) - 1) long (the
/// layout is "valid at T"). Since beta(c, r) = 1 + sum_k beta(c - k, r - 1), the targets
/// p_0 = 0, p_{k+1} = p_k + beta(c - k, r - 1) give a layout valid for every T of the band
/// beta(c, r - 1) < T + 1 <= beta(c, r) when each p_k is a checkpoint from the step it is
/// reached. The forward rule:
///  - store x_i when i is a target of the band of a run ending at i + 1;
///  - checkpoints of earlier bands stay while they do no harm; the earliest of them is given up
///    when a target needs its slot or when the layout would not be valid if the run ended after
///    the next step.
/// So every run, whatever T, advances no step more than r(T + 1, c) times: the offline optimum
/// for the same memory (the tests check every T <= 5000 for c <= 30).
///
/// Never uses T before finish(); no cap on T. Memory: O(min(c, T)) integers, growing with the
/// checkpoints a run holds (so c = 10^9 costs nothing up front), plus one Revolve per segment
/// during the reverse sweep; for c <= 4096 it is all reserved at construction and nothing is
/// allocated after start(). Time per forward step: amortised O(1) (one comparison and a binary
/// search over the targets; O(min(c, T)) more when the band changes or an old checkpoint is
/// given up).
class OnlineRevolve final : public OnlineSchedule {
 public:
  /// `slots` >= 1 counts every slot, x_0's included, as for Revolve. Throws std::invalid_argument
  /// otherwise.
  explicit OnlineRevolve(std::int64_t slots);
  ~OnlineRevolve() override;
  OnlineRevolve(const OnlineRevolve&) = delete;
  OnlineRevolve& operator=(const OnlineRevolve&) = delete;

  /// Starts a run (again): the working state is x_0. Returns the action to take: store x_0.
  Action start() override;
  /// The working state has just become x_i, i = steps() (one more step was made). Returns what to
  /// do before the next step: `free` actions for checkpoints given up, then possibly a `store` of
  /// x_i (often nothing). The vector is reused: valid until the next call; nothing is allocated
  /// after start(). Throws std::logic_error outside a run.
  const std::vector<Action>& advanced() override;
  /// The run ended: T = steps(). From here next()/next_actions() give the reverse sweep, ending
  /// with `end`. Throws std::logic_error before any step or when called twice.
  void finish() override;

  /// The reverse sweep (after finish()); before finish() next() throws std::logic_error.
  Action next() override;
  /// Restarts the reverse sweep from its first action (after finish()).
  void reset() override;
  const char* name() const noexcept override { return "online"; }

  std::int64_t slots() const noexcept { return slots_; }
  /// Whether finish() was called for the current run.
  bool finished() const noexcept override { return finished_; }
  /// Steps made so far (T after finish()).
  std::int64_t steps() const noexcept override { return steps_; }
  /// slots + 1, as cairn.h promises (a bound: at most slots - 1 frees, x_0's slot is never
  /// given up, and one store).
  std::size_t max_advanced_actions() const noexcept override {
    return static_cast<std::size_t>(slots_) + 1;
  }
  /// Steps of the states held as checkpoints now, oldest first (x_0 first).
  std::vector<std::int64_t> checkpoint_steps() const;
  /// Whether the checkpoints held now would reverse a run ending at T = steps() with at most
  /// r(T + 1, c) advances of any step.
  bool layout_valid() const;

 private:
  struct Checkpoint {
    std::int64_t step;
    std::int64_t slot;
  };
  struct LimitCache {
    std::int64_t r = -1;
    std::int64_t band_low = 0;                 // beta(c, r - 1): runs with end + 1 above it ...
    std::int64_t band_high = 0;                // ... and at most beta(c, r) have this r
    mutable std::vector<std::int64_t> limits;  // beta(c - k, r - 1) for the k asked for so far
  };
  static constexpr std::int64_t kReserved = 4096;
  // The band (r = r(end + 1, c)) of a run ending at `end`; cached for the last two asked for.
  const LimitCache& limits(std::int64_t end) const;
  // Segment k's limit beta(c - k, r - 1) in that band.
  std::int64_t limit(const LimitCache& band, std::size_t k) const;
  bool valid(const std::vector<Checkpoint>& layout, std::int64_t end) const;
  // Target positions p_k of the band of runs ending at `end` (cached per band), known at least
  // up to the first one >= `reach` (or all c of them).
  const std::vector<std::int64_t>& targets(std::int64_t end, std::int64_t reach) const;
  void begin_segment();

  std::int64_t slots_;
  std::int64_t steps_ = 0;
  bool started_ = false;
  bool finished_ = false;
  std::vector<Checkpoint> checkpoints_;   // x_0 first, by step
  std::vector<Action> decision_;          // what advanced() returns
  std::vector<std::int64_t> free_slots_;  // slots given up, reused last given up first
  std::int64_t fresh_slot_ = 1;           // slots fresh_slot_..c-1 are not used yet in this run
  mutable LimitCache cache_[2];
  mutable std::int64_t target_r_ = -1;
  mutable std::int64_t target_low_ = 0;
  mutable std::int64_t target_high_ = 0;
  mutable std::vector<std::int64_t> targets_;
  mutable int cache_next_ = 0;

  // Reverse sweep: segment k starts at segments_[k] and ends where the next begins (or at T);
  // they are reversed from the last.
  std::vector<Checkpoint> segments_;
  std::int64_t segment_ = -1;  // the segment being reversed, -1 when done
  std::unique_ptr<Revolve> revolve_;
  std::vector<std::int64_t> slot_map_;  // Revolve's slot j -> our slot
  bool need_restore_ = false;
  std::int64_t final_state_slot_ = -1;  // x_T's slot if it was stored (freed first), else -1
  bool final_state_freed_ = true;
};

}  // namespace cairn
