// Optimal training plans for chains of layers with real costs: forward and backward times,
// output sizes and autograd tapes (the deep-network relative of HeterogeneousRevolve).
//
// Model: graph.hpp's check_plan, on a chain (node i reads node i - 1). Write in(s) = a_{s-1} for
// the input of layer s (0 for s = 0: the network's input is the caller's), g(t) = a_t for the
// gradient buffer held while layers s..t are reversed (0 for the last layer, whose gradient the
// loss provides at its backward) and F(s, k) = f_s + ... + f_{k-1}. Opt(s, t, m) is the cheapest
// way to run layers t, t - 1, ..., s backward when in(s) and g(t) are held, nothing of s..t is,
// and the stream may hold m units beyond what the caller holds outside (in(s) and g(t) count
// against m). It ends with in(s) and the gradient of s - 1 held. The recursion (Rotor's, derived
// again for this model; Beaumont, Eyraud-Dubois, Herrmann, Joly & Shilova 2019):
//   Opt(t, t, m) = f_t + b_t                     if m >= single(t), else infinite
//       single(t) = max(in + 2 a_t + tp_t, 2 in + a_t + tp_t)      (record, free, backward)
//       single(L-1) = 2 in + 2 a + tp        (the loss reads the last output until its backward)
//   Opt(s, t, m) = min of
//     (a) record s and keep its tape: f_s + b_s + Opt(s + 1, t, m - in(s) - tp_s),
//         if m >= 2 in(s) + tp_s + a_s (backward(s) with its tape and the new gradient);
//     (b) for s < k <= t, sweep s..k-1 without tapes keeping in(s) and in(k), reverse k..t, free
//         in(k), reverse s..k-1: F(s, k) + Opt(k, t, m - in(s)) + Opt(s, k - 1, m),
//         if in(s) + g(t) + W(s, k) <= m, W(s, k) = max(a_s, max_{s<j<k} a_{j-1} + a_j).
// The plan is Opt(0, L - 1, budget). (a) repeated is a segment whose tapes are all held at once
// (as torch keeps one); (b) nests checkpoints as Revolve does (several recomputations). When the
// budget allows store-all, (a) everywhere costs sum f + sum b, the least any plan can.
//
// The class it is optimal in: the streams of this recursion, the nested ones, where a checkpoint
// in(k) taken while reversing s..t stays until k..t is reversed, checkpoints form a stack, tapes
// are held only on a run of layers recorded in a row ending where the reversal stands, and
// frees come as soon as allowed. Checked: tests/test_chain_plan.cpp compares plan_chain with
// plan_exhaustive (every legal stream of the vocabulary) on random chains; see
// docs/deep_networks.md for how often, with what result.
//
// Cost of planning: the decisions of every (s, t, m) are kept (2 bytes each, L (L + 1) / 2 (M + 1)
// for M units), the values of the last max(in + tp) + 1 planes (16 bytes per segment each).
// Time: the full split search is O(L^3 M / 6). By default the split of (s, t, m) is searched only
// between those of (s, t - 1, m) and (s + 1, t, m) (Knuth-Yao bounds) plus the longest feasible
// sweep, amortised O(L^2 M); that these bounds hold is NOT proven here: the tests compare the
// two searches plan for plan on random chains; exhaustive_splits forces the full search.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cairn/graph.hpp"

namespace cairn {

/// What plan_chain computed, beside the plan (for tests and benchmarks).
struct ChainPlanReport {
  double dp_cost = 0;               ///< Opt(0, L - 1, M) as the tables hold it
  std::uint64_t dp_peak_bytes = 0;  ///< the plan's peak by the recursion's own count, in bytes
  std::uint64_t memory_unit = 0;    ///< the unit used
  std::int64_t memory_units = 0;    ///< M: the planes filled (budget, capped at store-all's peak)
  std::size_t table_bytes = 0;      ///< what the tables took
  bool bounded_search = false;      ///< whether the plan came from the bounded split search
};

struct ChainPlanOptions {
  /// Memory is counted in units of this many bytes; 0 means the greatest common divisor of every
  /// size in the chain (exact). Another unit rounds sizes up and the budget down, so the plan's
  /// peak never exceeds the budget (but may miss plans that fit it exactly).
  std::uint64_t memory_unit = 0;
  /// The tables may not take more than this; std::length_error past it, saying how much.
  std::size_t max_table_bytes = std::size_t{1} << 30;
  /// Search every split (O(L^3 M)) whatever the size (see the header comment).
  bool exhaustive_splits = false;
  /// Otherwise every split is searched while L^3 M / 6 (about the full search's steps) is at
  /// most this, and the bounded search is used above it. 0: always the bounded search.
  double full_search_steps = 1e8;
  /// When not null, filled by plan_chain.
  ChainPlanReport* report = nullptr;
};

/// The cheapest plan of the class above for a chain (Graph::is_chain()) whose peak, as
/// check_plan() counts it, is at most `budget_bytes`. The stream is replayed by check_plan(),
/// which gives the plan's cost and peak. With the full search, optimal = true and lower_bound =
/// cost (within the class); with the bounded one, optimal = false and lower_bound = sum f + sum b.
/// Throws std::invalid_argument for a graph that is not a chain, and for a budget below
/// chain_min_budget() (saying what the least budget is); std::length_error past max_table_bytes.
GraphPlan plan_chain(const Graph& chain, std::uint64_t budget_bytes,
                     const ChainPlanOptions& options = {});

/// The least budget in bytes (a multiple of the options' memory unit) for which plan_chain()
/// finds a plan: the recursion above on memory alone, every split searched, O(L^3).
std::uint64_t chain_min_budget(const Graph& chain, const ChainPlanOptions& options = {});

}  // namespace cairn
