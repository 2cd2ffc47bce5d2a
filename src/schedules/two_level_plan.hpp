// TwoLevelRevolve's planner: which disk checkpoints to write in the first forward sweep, i.e. how
// to cut the chain into segments that are each reversed from their disk-held start with the RAM
// slots alone (two_level.hpp explains the class of schedules and why it is searched this way).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "schedules/two_level_tables.hpp"

namespace cairn::two_level_detail {

// `count` consecutive segments of `length` steps.
struct SegmentRun {
  std::int64_t length = 0;
  std::int64_t count = 0;
};

// A finite disk with fewer slots than the segment plan wants: H-Revolve's recursion at the disk
// level, D(k, l) = min(R(l), min_j (wd + rd) + j uf + D(k - 1, l - j) + D(k, j)), k the disk
// slots free besides the start's: store x_{s+j} on disk, reverse the right part, restore x_s and
// reverse the left part with the same slots again.
class DiskTier {
 public:
  // Tables over 1..steps for k < disk_slots; `tables` must cover `steps`.
  DiskTier(std::int64_t steps, std::int64_t disk_slots, const SegmentTables& tables);
  double d(std::int64_t free, std::int64_t l) const { return d_[index(free)][index(l)]; }
  // 0: reverse the whole part from its disk-held start with RAM alone (R); j >= 1: the split.
  std::int64_t choice(std::int64_t free, std::int64_t l);
  std::size_t bytes() const noexcept;

 private:
  static std::size_t index(std::int64_t i) { return static_cast<std::size_t>(i); }
  double split(std::int64_t free, std::int64_t l, std::int64_t j) const;

  const SegmentTables& tables_;
  std::vector<double> forward_;
  std::vector<std::vector<double>> d_;
  std::vector<std::vector<std::int64_t>> choice_;
};

struct Plan {
  // The finite-disk plan: a DiskTier tree from x_0 stored in disk slot 0, with disk_slots - 1
  // free. When set, `segments` is empty.
  std::shared_ptr<DiskTier> tier;
  // x_0 in RAM and no disk at all (the chain is one RAM-rooted segment, Q(T, c0 - 1)).
  bool ram_only = false;
  // Otherwise the disk-rooted segments from x_0 on, in chain order; they sum to T. The first
  // one starts at x_0 (stored on disk first), each later one at a disk checkpoint.
  std::vector<SegmentRun> segments;
  double value = 0;                   // the planner's optimum (the stream's cost, up to rounding)
  std::int64_t longest_segment = 0;   // segments up to this length were considered
  std::int64_t period = 0;            // the segment length repeated for long chains; 0: none
  std::int64_t disk_checkpoints = 0;  // disk stores of the plan (x_0 included)
  bool proven = true;                 // optimal in the class (no cap on segment lengths hit)
};

// How the planner chose; also what lets tests compare the periodic and the direct solution.
struct PlanOptions {
  std::size_t max_table_bytes = std::size_t{1} << 30;
  // The direct dynamic program over all chain lengths costs about T * longest_segment additions;
  // above this it switches to the closed form over residues (the answers agree, see the tests).
  double max_direct_work = 4e7;
  // The segment tables cost about M^2 (c0 + 1) / 2 additions. When the bound on useful segments
  // asks for more (disk reads dearer than hundreds of steps), M stops there and the plan is the
  // best cut into segments of at most M steps, no longer proven optimal in the class.
  double max_segment_work = 1e9;
  // Reverse sweeps from the one forward run (several adjoints): every disk checkpoint is kept
  // until the last, each sweep reverses every segment again.
  std::int64_t sweeps = 1;
};

// steps >= 2; disk_slots >= 0 (>= steps counts as unlimited); tables for the given RAM slots.
// Throws std::length_error when the tables would exceed options.max_table_bytes.
Plan plan_two_level(std::int64_t steps, std::int64_t disk_slots, SegmentTables& tables,
                    const PlanOptions& options);

}  // namespace cairn::two_level_detail
