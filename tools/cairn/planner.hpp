// `cairn plan`'s model: which schedules fit a memory budget, and what each costs, before the run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct PlanInput {
  std::int64_t steps = -1;  // -1: unknown until the run ends
  double state_bytes = 0;
  double step_seconds = 0;          // one forward step
  double adjoint_seconds = 0;       // one adjoint step (its taped forward step included)
  double ram_bytes = 0;             // for checkpoints
  double disk_bytes = 0;            // 0: no disk level
  double disk_write_bandwidth = 0;  // bytes per second
  double disk_read_bandwidth = 0;
  double copy_bandwidth = 2e10;   // RAM checkpoint copies while the checkpoints fit in cache
  double memory_bandwidth = 3e9;  // the same beyond the cache (first touch of fresh pages included)
  double cache_bytes = 0;         // 0: the last-level cache the system reports, at most 32 MiB
};

struct PlanCandidate {
  std::string schedule;
  std::string detail;  // e.g. "c = 30" or "k = 45"
  bool fits = true;
  std::string why_not;
  std::int64_t ram_slots = 0;
  std::int64_t disk_slots = 0;
  double peak_bytes = 0;  // checkpoints plus the driver's two working states
  std::int64_t step_calls = -1;
  std::int64_t adjoint_calls = -1;
  std::int64_t ram_copies = 0;  // stores + restores in RAM
  std::int64_t disk_writes = 0;
  std::int64_t disk_reads = 0;
  double predicted_seconds = -1;  // -1: not predictable (T unknown)
};

/// The candidates (store-all, uniform with its best interval, Revolve, multilevel with the disk,
/// online), each counted exactly by running its stream through the checker, and priced:
///     seconds = step_calls F + adjoint_calls B + ram_copies S / bw
///               + disk_writes S / write_bw + disk_reads S / read_bw,
/// where bw is copy_bandwidth when the RAM checkpoints (slots x S) fit in cache_bytes and
/// memory_bandwidth when they do not.
/// Throws std::invalid_argument for bad input.
std::vector<PlanCandidate> plan_candidates(const PlanInput& input);

/// Index of the recommended candidate: the fastest prediction that fits; with T unknown, online.
std::size_t recommend(const std::vector<PlanCandidate>& candidates);
