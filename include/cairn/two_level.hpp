// RAM + disk checkpointing for long runs (10^6 .. 10^9 steps and more): plans in milliseconds to
// seconds whatever T, streams generated as they are read, exactly optimal within the disk-first
// class of schedules (docs/multilevel.md, "Long runs").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cairn/check.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/schedule.hpp"

namespace cairn {

namespace two_level_detail {
class SegmentTables;
class DiskTier;
struct SegmentTask;
}  // namespace two_level_detail

/// The cheapest schedule for T steps with c0 RAM slots and c1 disk slots (or unlimited_slots)
/// within the disk-first class (docs/multilevel.md, "Long runs"): disk checkpoints are written
/// only while RAM is empty; between them, each segment is reversed from its disk-held start with
/// the RAM slots alone, by the optimal one-level schedule with these prices (re-reading the start
/// from disk, or copying it to RAM once). With an unlimited disk every disk checkpoint is written
/// in the first forward sweep (0 = d_0 < d_1 < ... < d_{p-1}, segment [d_i, d_{i+1}) reversed
/// last-first): Disk-Revolve's structure (Aupy, Herrmann, Hovland & Robert, SIAM J. Sci. Comput.
/// 38(3), 2016). With a finite disk the disk level recurses as in H-Revolve (Herrmann & Pallez,
/// ACM TOMS 46(2), 2020): store x_{s+j} on disk, reverse the right part, restore x_s and reverse
/// the left part with the freed slots again. A plan keeping everything in RAM is the one other
/// candidate. On every instance of the tests (7,836 small ones and 18 up to T = 1200, six price
/// sets) the optimum equals MultilevelRevolve's over its wider nested class exactly.
///
/// Planning, unlimited disk: the longest segment M that can pay is bounded by comparing Revolve's
/// lower bound t(m, c0 + 1) with what the best segments found so far cost, and the one-level
/// tables are built up to M only: O(M^2 c0) time, M about a hundred (disk I/O of a few steps) to
/// ten thousand (I/O of a hundred steps), independent of T. The cut into segments is then a
/// dynamic program over chain lengths when T M <= 4e7, and otherwise a shortest-path search over
/// residues modulo the best period, which gives the same optimum (the tests check both on the
/// same instances) in O(M^2) whatever T. A finite disk that the unlimited plan would overfill:
/// D(k, l) = min(R(l), min_j (wd + rd) + j uf + D(k - 1, l - j) + D(k, j)) over all lengths,
/// O(T^2 (c0 + c1)) time, O(T (c0 + c1)) memory (T = 10^4 with 10 + 20 slots: 0.34 s).
///
/// The stream: legal under ScheduleChecker with slots_per_level(); it costs optimal_cost()
/// (computed from the exact counts of what the stream does, so the checker's cost() equals it
/// bit for bit); generated on the fly from the tables (no per-action memory, so T = 10^9 streams
/// in constant memory). RAM slots are numbered 0..c0-1; with an unlimited disk, disk slot i holds
/// d_i.
class TwoLevelRevolve final : public Schedule {
 public:
  static constexpr std::size_t default_max_table_bytes = std::size_t{1} << 30;

  /// `ram` and `disk` are the two levels (level 0 and level 1 of the actions); disk.slots may be
  /// unlimited_slots. `sweeps` > 1 plans several adjoints from one forward run (an optimisation
  /// loop reusing a forward solve, Hessian-vector products): every checkpoint of the first
  /// forward sweep is kept until the last reverse sweep, each sweep reverses T-1..0 (the Driver
  /// runs them as forward() then one backward() per sweep), and the plan minimises the total:
  /// disk checkpoints are then worth more and come denser. A finite disk is then cut into at most
  /// c1 segments (no slot is reused). Throws std::invalid_argument for steps < 1, sweeps < 1,
  /// negative slot counts, no slot at all when steps >= 2 or sweeps >= 2, unlimited RAM, negative
  /// or non-finite prices or forward cost <= 0; std::length_error when the planning tables would
  /// exceed max_table_bytes (their size is said in the message); std::overflow_error when the
  /// stream's counts (actions, forward steps) would exceed 2^63 - 1 (T beyond about 10^18).
  TwoLevelRevolve(std::int64_t steps, StorageLevel ram, StorageLevel disk,
                  StepCosts step_costs = {}, std::int64_t sweeps = 1,
                  std::size_t max_table_bytes = default_max_table_bytes);
  ~TwoLevelRevolve() override;
  TwoLevelRevolve(const TwoLevelRevolve&) = delete;
  TwoLevelRevolve& operator=(const TwoLevelRevolve&) = delete;

  Action next() override;
  std::size_t next_actions(Action* out, std::size_t capacity) override;
  void reset() override;
  const char* name() const noexcept override { return "two-level"; }

  std::int64_t steps() const noexcept { return steps_; }
  /// Reverse sweeps of the stream (give the same number to ScheduleChecker / check()).
  std::int64_t sweeps() const noexcept override { return sweeps_; }
  /// What the stream costs under cost_model(): exact, from the counts.
  double optimal_cost() const noexcept { return optimal_cost_; }
  /// The counts of the whole stream (what the checker will count), without replaying it.
  const ScheduleCosts& expected_costs() const noexcept { return expected_; }
  CostModel cost_model() const;
  /// Slot counts to give ScheduleChecker: {c0, c1}, an unlimited disk counting as T.
  std::vector<std::int64_t> slots_per_level() const;
  /// Disk checkpoints the plan writes (x_0 included); 0 for a RAM-only plan.
  std::int64_t disk_checkpoints() const noexcept { return disk_checkpoints_; }
  /// The segment length repeated along a long chain (0 when the plan was found directly).
  std::int64_t period() const noexcept { return period_; }
  /// The longest segment the planner considered (its tables' length).
  std::int64_t longest_segment() const noexcept { return longest_segment_; }
  /// Whether the plan is proven optimal in the class. False only when disk prices are so high
  /// that the bound on useful segment lengths exceeds what the planner affords (segment tables
  /// of about 10^10 additions); the plan is then the best cut into segments of at most
  /// longest_segment() steps.
  bool proven_optimal() const noexcept { return proven_; }
  /// Bytes of the tables the schedule keeps to generate its stream.
  std::size_t table_bytes() const noexcept;

 private:
  void refill();
  // Pushes the reversal of the current segment (starting at position_, held in disk slot
  // segment_) of `length` steps.
  void reverse_segment(std::int64_t length);
  ScheduleCosts count_stream();

  std::int64_t steps_;
  StorageLevel ram_, disk_;
  StepCosts step_costs_;
  std::int64_t sweeps_;
  double optimal_cost_ = 0;
  ScheduleCosts expected_;
  std::int64_t disk_checkpoints_ = 0, period_ = 0, longest_segment_ = 0;
  std::unique_ptr<two_level_detail::SegmentTables> tables_;
  std::shared_ptr<two_level_detail::DiskTier> tier_;  // a finite disk's tree; null otherwise
  bool unplanned_ = false;  // T = 1 and one sweep: the stream is reverse(0), end
  bool ram_only_ = false;
  bool proven_ = true;
  std::vector<std::int64_t> run_lengths_, run_counts_;  // the segments, run-length encoded

  // Where the stream is.
  enum class Phase { start, forward, backward, ram_sweeps, finish, done } phase_ = Phase::start;
  std::int64_t sweep_ = 1;                            // 1 .. sweeps_
  std::int64_t last_position_ = 0, last_in_run_ = 0;  // the last segment, where sweeps start
  std::size_t last_run_ = 0;
  std::int64_t ram_root_ = 0;  // x_0's RAM slot in a RAM-only plan
  std::int64_t segment_ = 0;   // index of the current segment
  std::size_t run_ = 0;        // its run
  std::int64_t in_run_ = 0;    // its index inside the run
  std::int64_t position_ = 0;  // its start d_segment_
  std::vector<two_level_detail::SegmentTask> tasks_;
  std::vector<std::int64_t> free_ram_, free_disk_;
  std::vector<Action> pending_;
  std::size_t pending_next_ = 0;
};

}  // namespace cairn
