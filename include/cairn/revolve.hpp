// Offline binomial checkpointing (Revolve): the fewest forward steps for T steps and c slots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cairn/schedule.hpp"

namespace cairn {

/// The Revolve schedule of Griewank & Walther (ACM TOMS 26(1), 2000) for a known number of steps.
///
/// Guarantees, for every steps T >= 1 and slots c >= 1 (c counts the slot that holds x_0):
///  - the stream is legal (see check.hpp) and ends with `end`;
///  - the advances add up to exactly t(T, c) = forward_cost(T, c) forward steps;
///  - no step is advanced more than r(T, c) = repetitions(T, c) times;
///  - only slots 0..min(c, T)-1 on level 0 are used; slots are overwritten, never freed;
///  - among schedules with those properties built by binomial splitting, it makes the fewest
///    stores: Revolve::store_count(T, c), e.g. 28 for (50, 7), 714 for (1000, 10) and 657,800 for
///    (10^6, 20) -- the counts of the original revolve.
///
/// Cost: memory O(min(c, T)) integers plus a lookup table of beta(s, j), s <= c, j < r(T, c),
/// allocated by the constructor when it fits in `table_bytes` (default 1 MiB). `next()` and
/// `next_actions()` allocate nothing. With the table, each action is amortised O(1) work; without
/// it (huge c, or tiny c with huge T), a split computes its four binomials in O(min(s, r))
/// multiplications instead. About 3 ns per action through next_actions() and 4.3 ns per next() call
/// for (10^7, 50) (docs/benchmarks.md). Any T up to 2^63 - 1 is accepted.
class Revolve final : public Schedule {
 public:
  /// Upper bound on the lookup table that makes each split decision a few memory reads.
  static constexpr std::size_t default_table_bytes = std::size_t{1} << 20;

  /// Throws std::invalid_argument unless steps >= 1 and slots >= 1.
  Revolve(std::int64_t steps, std::int64_t slots, std::size_t table_bytes = default_table_bytes);

  Action next() override;
  std::size_t next_actions(Action* out, std::size_t capacity) override;
  void reset() override;
  const char* name() const noexcept override { return "revolve"; }

  std::int64_t steps() const noexcept { return steps_; }
  std::int64_t slots() const noexcept { return slots_; }
  /// r(T, c): the most times any single step is advanced.
  std::int64_t repetitions() const noexcept { return repetitions_; }
  /// t(T, c): the total number of forward steps. Throws std::overflow_error if it exceeds int64.
  std::int64_t forward_steps() const;
  /// Whether split decisions read a precomputed table (true unless it would exceed table_bytes).
  bool uses_lookup_table() const noexcept { return !table_.empty(); }

  /// Number of store actions that Revolve(T, c) emits, in closed form (exact for any T).
  static std::int64_t store_count(std::int64_t steps, std::int64_t slots);

 private:
  // Where the stream stands; copied to a local while actions are produced (see next()).
  struct Cursor {
    std::int64_t top;         // highest occupied slot, -1 if none
    std::int64_t top_state;   // the state slot `top` holds, -1 if none
    std::int64_t current;     // index of the working state, -1 if undefined
    std::int64_t unreversed;  // steps 0..unreversed-1 are not reversed yet
  };
  template <typename Emit>
  auto produce(Cursor& cursor, const Emit& emit) noexcept;
  std::int64_t binomial(std::int64_t s, std::int64_t j) const noexcept;
  static std::int64_t computed_binomial(std::int64_t s, std::int64_t j) noexcept;
  std::int64_t split(std::int64_t length, std::int64_t free_slots,
                     std::int64_t& reps) const noexcept;

  std::int64_t steps_;
  std::int64_t slots_;
  std::int64_t repetitions_;
  std::int64_t columns_ = 0;            // slots_ + 1, the row length of table_
  std::vector<std::int64_t> table_;     // table_[j * columns_ + s] = beta(s, j), j < repetitions_
  std::vector<std::int64_t> position_;  // position_[k]: the state slot k holds (a stack)
  std::vector<std::int64_t> reps_;      // reps_[k]: repetition bound of the range above slot k
  Cursor cursor_{-1, -1, 0, 0};
};

}  // namespace cairn
