// Online checkpointing over two storage levels (RAM, then disk) for runs whose length T is learnt
// only when they end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/revolve.hpp"

namespace cairn {

/// Online checkpointing with RAM (level 0) and disk (level 1) slots, each with write and read
/// prices in forward steps (docs/online.md, "RAM and disk").
///
/// Two designs, chosen by the constructor from the prices alone (never from T):
///  - Shared mode, when disk I/O is cheap (disk write + read <= 2 forward steps, <= 10 with
///    c <= 1 RAM slots), the first spacing is automatic and the disk is finite: one OnlineRevolve
///    over all c + d slots, its slots 0..c-1 in RAM and the others on disk (slot - c). It advances
///    no step more than r(T + 1, c + d) times (OnlineRevolve's bound with every slot).
///  - Otherwise the disk spacing design, for c RAM and d disk slots:
///  - Disk checkpoints sit at the multiples of a spacing L. When the disk is full and the next
///    multiple is reached, L doubles and the checkpoints that are not multiples of the new L are
///    freed (thinning), so at most d disk slots are ever held and every segment between two disk
///    checkpoints is at most L long. The first spacing L0 is chosen from c and the prices
///    (first_spacing()); runs with T < L0 never touch the disk.
///  - x_0 stays in RAM slot 0 (when c >= 2, or c = 1 unless the disk is free and d >= 2); the steps
///    before the first disk checkpoint are placed online by an OnlineRevolve with all c RAM slots.
///    Otherwise (c = 0, or c = 1 with d >= 2 and free disk I/O) x_0 is the first disk checkpoint.
///  - Within each later segment an OnlineRevolve places RAM checkpoints as the run goes, so the
///    last segment is reversed without re-advancing it from its start more than OnlineRevolve
///    would. Its base (the disk checkpoint) is copied to a RAM slot when it is written if disk
///    reads cost anything and a segment has at least two RAM slots (otherwise the disk checkpoint
///    itself is its base).
///  - After finish(): the last segment is reversed by its OnlineRevolve; every earlier segment,
///    from the last, is read from disk once, copied to RAM, and reversed by Revolve in RAM (the
///    first segment straight from x_0's RAM slot).
///
/// Never uses T before finish(); no cap on T. Memory: O(c + d) integers (shared mode: one
/// OnlineRevolve and the step each disk slot holds; spacing design: the disk checkpoints held, the
/// RAM slots the current segment holds, one OnlineRevolve and one Revolve), whatever T; with an
/// unlimited disk nothing is ever thinned and the list of disk checkpoints grows as T / L0. Per
/// forward step: amortised O(1) (OnlineRevolve's, plus O(d) once per doubling of L and O(c) once
/// per segment).
class OnlineMultilevelRevolve final : public OnlineSchedule {
 public:
  /// `ram.slots` >= 1, or 0 when `disk.slots` >= 1 (every checkpoint is then on disk).
  /// `disk.slots` >= 0 or unlimited_slots; 0 gives exactly OnlineRevolve(ram.slots). Prices must be
  /// finite and >= 0, step_costs.forward > 0 and step_costs.backward >= 0 (they only choose the
  /// first spacing and the mode). `first_spacing` > 0 overrides the automatic first spacing (0:
  /// automatic) and keeps the disk spacing design whatever the prices.
  /// Throws std::invalid_argument otherwise, saying what is allowed.
  OnlineMultilevelRevolve(StorageLevel ram, StorageLevel disk, StepCosts step_costs = {},
                          std::int64_t first_spacing = 0);
  ~OnlineMultilevelRevolve() override;
  OnlineMultilevelRevolve(const OnlineMultilevelRevolve&) = delete;
  OnlineMultilevelRevolve& operator=(const OnlineMultilevelRevolve&) = delete;

  /// Starts a run (again): the working state is x_0. Returns the store of x_0 (RAM slot 0, or disk
  /// slot 0 when x_0 goes to disk: x0_on_disk()).
  Action start() override;
  /// The working state has just become x_i, i = steps(). Returns frees, then stores, to take
  /// before the next step (valid until the next call). Throws std::logic_error outside a run.
  const std::vector<Action>& advanced() override;
  /// The run ended: T = steps(). Throws std::logic_error before any step or when called twice.
  void finish() override;
  /// The reverse sweep (after finish()), ending with `end`; throws std::logic_error before.
  Action next() override;
  /// Restarts the reverse sweep from its first action (after finish()).
  void reset() override;
  const char* name() const noexcept override { return "online-multilevel"; }

  std::int64_t steps() const noexcept override { return steps_; }
  bool finished() const noexcept override { return finished_; }
  std::size_t max_advanced_actions() const noexcept override;

  const StorageLevel& ram() const noexcept { return ram_; }
  const StorageLevel& disk() const noexcept { return disk_; }
  const StepCosts& step_costs() const noexcept { return step_costs_; }
  /// Slot counts per level for ScheduleChecker ({ram, disk}; an unlimited disk counts as
  /// `steps` + 1 slots, more than a run of that length can hold).
  std::vector<std::int64_t> slots_per_level(std::int64_t steps) const;
  /// The cost model (prices per level, step costs) to price a checker's counts with.
  CostModel cost_model() const;
  /// The spacing of the first disk checkpoint: the one given, or
  /// max(beta(c', 2), ceil(4 (w1 + r1) / uf)) where c' is the number of RAM slots a segment
  /// gets (docs/online.md explains the choice). Computed in the shared mode too, which does not
  /// use it.
  std::int64_t first_spacing() const noexcept { return first_spacing_; }
  /// The current spacing of disk checkpoints (first_spacing() doubled once per thinning; always
  /// first_spacing() in the shared mode, which has no spacing).
  std::int64_t spacing() const noexcept { return spacing_; }
  /// Steps of the disk checkpoints held now, oldest first (during the forward sweep).
  std::vector<std::int64_t> disk_checkpoint_steps() const;
  /// Whether the shared mode runs: one OnlineRevolve over all c + d slots, chosen by the prices
  /// (docs/online.md), rather than the design of disk checkpoints at a doubling spacing.
  bool shared_mode() const noexcept { return shared_; }
  /// Whether x_0 is kept on disk (c = 0; or, in the spacing design, c = 1 with d >= 2 and free
  /// disk I/O) rather than in RAM slot 0.
  bool x0_on_disk() const noexcept { return x0_on_disk_; }

 private:
  struct Segment {
    std::int64_t step;       // its first state
    std::int64_t disk_slot;  // where that state is on disk, -1 for x_0 kept in RAM
    bool copy;               // its base is also in RAM slot first_ram_ (the inner's slot 0)
  };
  struct Slot {
    Level level;
    std::int64_t slot;
  };
  // Where the inner schedule's slot `inner` of a segment is.
  Slot map_slot(const Segment& segment, std::int64_t inner) const;
  Action translate(const Segment& segment, const Action& inner) const;
  void emit_forward(const Segment& segment, const Action& inner);
  void begin_segment(std::int64_t step);
  bool disk_slot_available() const noexcept;
  std::int64_t take_disk_slot();
  void thin();
  void begin_reverse_segment();
  std::int64_t segment_end(std::size_t k) const;
  // all_'s action on the levels: its slots below c are RAM slots, the others disk slots.
  Action shared_action(const Action& a);

  StorageLevel ram_;
  StorageLevel disk_;
  StepCosts step_costs_;
  bool x0_on_disk_ = false;
  bool disk_unlimited_ = false;
  std::int64_t usable_disk_ = 0;    // disk slots for checkpoints other than x_0
  std::int64_t segment_ram_ = 0;    // RAM slots a disk-based segment gets (its base copy's too)
  std::int64_t first_ram_ = 0;      // the lowest of them
  bool use_copy_ = false;           // disk-based segments copy their base to RAM
  bool shared_ = false;             // the shared mode: all_ over every slot, RAM ones first
  std::int64_t first_spacing_ = 1;  // L0
  std::int64_t spacing_ = 1;        // L

  std::int64_t steps_ = 0;
  bool started_ = false;
  bool finished_ = false;
  std::vector<Segment> segments_;          // by step; the last is the current one
  std::vector<std::int64_t> free_disk_;    // disk slots given back, taken from the back
  std::int64_t fresh_disk_ = 0;            // disk slots fresh_disk_..d-1 are not used yet
  std::vector<std::int64_t> ram_held_;     // RAM slots the current segment's OnlineRevolve holds
  std::vector<Action> decision_;           // what advanced() returns
  std::unique_ptr<OnlineRevolve> first_;   // segment 0 with x_0 in RAM: c slots
  std::unique_ptr<OnlineRevolve> copied_;  // disk-based segments with a RAM copy: segment_ram_
  std::unique_ptr<OnlineRevolve> direct_;  // disk-based segments without: segment_ram_ + 1
  OnlineRevolve* inner_ = nullptr;
  std::unique_ptr<OnlineRevolve> all_;           // the shared mode's: c + d slots
  std::vector<std::int64_t> shared_disk_steps_;  // ... its disk slot k holds this step, or -1 //
                                                 // the current segment's

  // Reverse sweep.
  std::vector<Action> prelude_;  // frees before anything else (a segment begun at x_T)
  std::size_t prelude_next_ = 0;
  bool has_inner_ = false;             // the last segment is reversed by inner_ (not empty)
  bool inner_active_ = false;          // ... and it is being reversed now
  std::int64_t reverse_segment_ = -1;  // completed segment being reversed by revolve_, or -1
  std::int64_t completed_ = 0;         // segments reversed by Revolve: 0..completed_-1
  std::unique_ptr<Revolve> revolve_;
  int revolve_phase_ = 0;  // 0: restore base, 1: store its RAM copy, 2: Revolve, 3..: frees
};

}  // namespace cairn
