// Optimal training plans for chains of layers with real costs: forward and backward times,
// output sizes and autograd tapes (the deep-network relative of HeterogeneousRevolve).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cairn/graph.hpp"

namespace cairn {

struct ChainPlanOptions {
  /// Memory is counted in units of this many bytes; 0 means the greatest common divisor of every
  /// size in the chain (exact). Another unit rounds sizes up and the budget down, so the plan's
  /// peak never exceeds the budget.
  std::uint64_t memory_unit = 0;
  /// The tables may not take more than this; std::length_error past it, saying how much.
  std::size_t max_table_bytes = std::size_t{1} << 30;
  /// Search every split even where a bounded search is used for speed (for tests).
  bool exhaustive_splits = false;
};

/// The cheapest plan for a chain (Graph::is_chain()) whose peak, as check_plan() counts it, is
/// at most `budget_bytes`. Throws std::invalid_argument for a graph that is not a chain, and for
/// a budget below chain_min_budget() (saying what the least budget is).
GraphPlan plan_chain(const Graph& chain, std::uint64_t budget_bytes,
                     const ChainPlanOptions& options = {});

/// The least budget for which plan_chain() finds a plan (in the options' memory unit).
std::uint64_t chain_min_budget(const Graph& chain, const ChainPlanOptions& options = {});

}  // namespace cairn
