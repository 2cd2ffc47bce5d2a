// The simplest baseline: keep every state, recompute nothing.
#pragma once

#include <cstdint>

#include "cairn/schedule.hpp"

namespace cairn {

/// Stores x_0..x_{T-2} during one forward sweep (x_{T-1} stays the working state), then reverses
/// every step after a single restore. Uses T - 1 slots on level 0 (c = T in Revolve's count, which
/// includes the working state x_{T-1}'s place), T - 1 forward steps, T - 1 stores, T - 1
/// restores, and no step is advanced more than once: Revolve(T, T) gives the same counts.
/// Memory O(1); every action is computed from a few integers.
///
/// `level` puts every checkpoint on that storage level: StoreAll(T, 1) with a RAM level and a
/// disk level below it (slots {0, T - 1}) is store-all on disk, for runs whose states fit on disk
/// but not in RAM; its cost is (T - 1) (uf + write + read) + T ub, the least of any schedule when
/// a disk write and read cost less than recomputing a step.
class StoreAll final : public Schedule {
 public:
  /// Throws std::invalid_argument unless steps >= 1 and level >= 0.
  explicit StoreAll(std::int64_t steps, Level level = 0);

  Action next() override;
  void reset() override;
  const char* name() const noexcept override { return "store-all"; }

  std::int64_t steps() const noexcept { return steps_; }
  /// The level every checkpoint goes to.
  Level level() const noexcept { return level_; }
  /// Slots the schedule uses: max(T - 1, 1).
  std::int64_t slots() const noexcept { return steps_ > 1 ? steps_ - 1 : 1; }

 private:
  std::int64_t steps_;
  Level level_;
  std::int64_t position_ = 0;    // working state, -1 if undefined
  std::int64_t unreversed_ = 0;  // steps 0..unreversed_-1 are not reversed yet
  bool stored_current_ = false;  // forward sweep: x_position_ already stored
};

}  // namespace cairn
