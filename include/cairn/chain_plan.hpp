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
// With cw_i, fw_i, bw_i the compute, record and backward workspaces of layer i (0 unless given):
//   Opt(t, t, m) = f_t + b_t                     if m >= single(t), else infinite
//       single(t) = max(in + 2 a_t + tp_t + fw_t, 2 in + a_t + tp_t + bw_t)  (record, free,
//                   backward)
//       single(L-1) = max(in + a + tp + fw, 2 in + 2 a + tp + bw)   (the loss reads the last
//                   output until its backward)
//   Opt(s, t, m) = min of
//     (a) record s and keep its tape: f_s + b_s + Opt(s + 1, t, m - in(s) - tp_s),
//         if m >= 2 in(s) + tp_s + a_s + bw_s (backward(s) with its tape, workspace and the new
//         gradient) and m >= in(s) + g(t) + a_s + tp_s + fw_s (record(s) itself);
//     (b) for s < k <= t, sweep s..k-1 without tapes keeping in(s) and in(k), reverse k..t, free
//         in(k), reverse s..k-1: F(s, k) + Opt(k, t, m - in(s)) + Opt(s, k - 1, m),
//         if in(s) + g(t) + W(s, k) <= m,
//         W(s, k) = max(a_s + cw_s, max_{s<j<k} a_{j-1} + a_j + cw_j).
// A layer whose tape keeps its output (tape_holds_output, h = 1) frees that output after its
// backward rather than before: the backward parts of single(t) and of (a) gain h a (2 in + a +
// tp + bw + h a), tp leaving the output out.
// Where the caller keeps the output's gradient to the end (Graph::output_gradient_held, h_g =
// a_{L-1}): every segment ending before L - 1 is reversed after backward(L - 1), beside it, so a
// segment ending at L - 1 reads its left parts as Opt(s, k - 1, m - h_g) and needs m >= 2 in(s) +
// tp_s + a_s + bw_s + h_g for (a)'s backward(s); nothing else changes.
// The plan is Opt(0, L - 1, budget). (a) repeated is a segment whose tapes are all held at once
// (as torch keeps one); (b) nests checkpoints as Revolve does (several recomputations). When the
// budget allows store-all, (a) everywhere costs sum f + sum b, the least any plan can.
//
// The class it is exactly optimal in: the streams of this recursion (the nested ones). A
// checkpoint in(k) taken while reversing s..t stays until k..t is reversed and checkpoints form a
// stack; tapes are held on a run of layers recorded in a row, up to where the reversal stands;
// every free comes as soon as the rules allow. The memory formulas above are check_plan's rules
// on these streams, not a bound: the plan's peak is the recursion's, byte for byte.
//
// How exact (tests/test_chain_plan.cpp, random chains of 1..7 layers, outputs 1..3, tapes 0..4,
// integer costs, every budget from chain_min_budget to store-all's peak; the same again with
// random workspaces, 2,595 instances of 240 chains against the class and 855 of 100 against
// every legal stream, 5 of them cheaper outside the class; with workspaces and tapes that keep
// outputs, 2,111 and 599, 8 cheaper outside; with both and the output gradient held, 1,864
// and 536, 8 cheaper outside):
//  - Within the class, checked by enumeration: every stream of the class (all choices of (a) or
//    (b) and k at every level) is judged by check_plan; the full search's cost is the cheapest
//    that fits, in all 2,805 instances of 240 chains, and chain_min_budget is the least peak.
//  - Against every legal stream (plan_exhaustive): equal in 1,487 of 1,504 instances (150
//    chains; 3,031 of 3,061 on 300); in the others a stream outside the class is cheaper, by up
//    to 19.6%: it frees a checkpoint before the
//    segment it serves is reversed (to make room for a large tape) and recomputes it later from
//    an earlier one. No stream at all fits below chain_min_budget.
//  - Store-all: with its peak as budget the cost is sum f + sum b, and the peak store-all's.
//
// Cost of planning, for M units (budget / unit, capped at store-all's peak): decisions of every
// (s, t, m), 2 bytes each, L (L + 1) / 2 (M + 1) in all; the values of the last max(in + tp) +
// threads planes, 8 bytes per segment each (twice that for the full search); a plane of splits
// per thread and one more.
//  - Full split search: O(L^3 M / 6) steps, exact. Used while L^3 M / 6 <= full_search_steps
//    (default 1e8, about 0.03-0.06 s here) or when exhaustive_splits is set. Its inner loop takes
//    four splits per instruction (AVX2 where the processor has it), the same plan as one at a
//    time. At L = 1000, M = 500 that is 8.3e10 steps: 23 s on two threads here, in 586 MiB.
//  - Bounded split search, above that: the split of (s, t, m) is searched only between those of
//    (s, t - 1, m), (s + 1, t, m) and (s, t, m - 1), plus the longest sweep that fits (the
//    least memory, so far always feasible where the full search is; plan_chain falls back to the
//    full search if not): 2.7 candidates per state (and the longest sweep) at L = 600, M = 500.
//    NOT exact with unequal sizes, only tested: against the full search on random chains
//    (L <= 38), the same cost in 92% of instances, at worst 34.7% dearer; on the benchmark's
//    chains (L = 300, M = 50..500) 0.003-0.064% dearer, and at L = 1000, M = 500 0.0064%
//    (4881.618 against 4881.305). Its plans say optimal = false.
//  - Threads: from 200 layers, up to 4 (one per core) fill the memory planes in a pipeline, a
//    plane a row behind the one below; the plan is the same for any number.
//  - Measured (bench/chain_planning.cpp, 2 cores; docs/benchmarks.md): L = 1000, M = 500 takes
//    2.0-3.7 s in 540 MiB, against a target of 1 s: NOT met. There are 2.5e8 states (s, t, m)
//    and each reads Opt(k, t, m - in(s)) from a plane the cache no longer holds. Nor can bounds
//    prune the exact search enough: 4.5 splits per state lie within one time unit of the state's
//    least at L = 300, M = 500 (bench/chain_split_landscape.cpp).
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
  unsigned threads = 1;             ///< the threads that filled the tables (0: none filled)
};

struct ChainPlanOptions {
  /// Memory is counted in units of this many bytes; 0 means the greatest common divisor of every
  /// size in the chain (exact). Another unit rounds sizes up and the budget down, so the plan's
  /// peak never exceeds the budget (but may miss plans that fit it exactly; where store-all fits
  /// the budget in bytes but not in rounded units, store-all is the plan, without tables).
  std::uint64_t memory_unit = 0;
  /// The tables may not take more than this; std::length_error past it, saying how much.
  std::size_t max_table_bytes = std::size_t{1} << 30;
  /// Search every split (O(L^3 M)) whatever the size (see the header comment).
  bool exhaustive_splits = false;
  /// Otherwise every split is searched while L^3 M / 6 (about the full search's steps) is at
  /// most this, and the bounded search is used above it. 0: always the bounded search.
  double full_search_steps = 1e8;
  /// Threads that fill the tables (memory planes in a pipeline, each a row behind the one below);
  /// 0: one per core, at most 4, from 200 layers on. The plan does not depend on it.
  unsigned threads = 0;
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
