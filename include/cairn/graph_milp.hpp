// The cheapest plan for a general graph under a memory budget, as an integer linear program
// solved by CBC (the optional component cairn::milp; docs/deep_networks.md).
//
// The formulation is Checkmate's (Jain et al., MLSys 2020) adapted to graph.hpp's model. The
// plan is cut into n stages, stage s ending with backward(n - 1 - s) (the backward runs in
// decreasing node order). Within a stage, nodes are evaluated in increasing order, each at most
// once, with compute (no tape) or record (tape held until its backward); every node is recorded
// exactly once. Outputs are freed as early as the model allows (a later read, a pinning tape, or
// being kept into the next stage hold them), so the memory after every action is a linear
// expression of the 0/1 choices, and every such point is bounded by the budget.
//
// Exactly optimal within that class ("stage plans"): backwards in decreasing node order, and
// between two backwards each node evaluated at most once, in increasing order, and not while its
// output is held from before. Checked against the exhaustive search (tests/test_graph_milp.cpp):
// on 200 random DAGs with one topological order (every v > 0 reads v - 1, as in chains, U-Net
// and DenseNet), 40 chains and 2 small U-Nets, the cost equals the optimum over all streams at
// every budget the class fits (726 budgets); in 1 of those 242 graphs the least budget of any
// stream is lower (19 bytes, the class needs 20: the optimum evaluates an input again later in a
// stage). On DAGs with parallel branches the fixed backward order costs more on some: 23 of 300
// budgets (worst 1.19 times the optimum), and 5 of 100 graphs need a larger least budget.
#pragma once

#include <cstdint>

#include "cairn/graph.hpp"

namespace cairn {

struct MilpOptions {
  /// CBC's limit on its search. Past it, the best plan found is returned with optimal = false
  /// and lower_bound = CBC's best bound (std::runtime_error when there is none: no plan found and
  /// no baseline fits). CBC does not watch the clock in its root LP, before the search:
  /// DenseNet-121 (25,086 columns), whose root LP takes about 4 s here, returns in 10.9-11.6 s
  /// under a 10 s limit, 5.1-5.9 s under 5 s and 3.7-5.2 s under 3 s (docs/deep_networks.md).
  double time_limit_seconds = 60;
  int threads = 1;  ///< CBC's threads (1: deterministic)
  /// Stop when (cost - bound) / cost is below this (0: prove optimality).
  double relative_gap = 0;
  /// The cheapest baseline that fits (store-all, structure-aware, segments) is the incumbent:
  /// CBC searches only for cheaper plans (its cutoff), and the baseline is returned where it
  /// finds none (optimal = true where CBC proves that none exists).
  bool warm_start = true;
  bool log = false;  ///< print CBC's log to stdout
};

/// What plan_milp_report() found, beyond the plan.
struct MilpReport {
  GraphPlan plan;                      ///< method "milp"; cost and peak from check_plan()
  double model_cost = 0;               ///< the objective of CBC's solution
  std::uint64_t model_peak_bytes = 0;  ///< the largest memory row at the solution
  double best_bound = 0;               ///< CBC's bound on the class's least cost
  double gap = 0;                      ///< (cost - best_bound) / cost
  bool proven_optimal = false;
  double seconds = 0;  ///< building, solving and checking
  std::int64_t columns = 0, integer_columns = 0, rows = 0, nonzeros = 0;
};

/// The cheapest stage plan whose peak (check_plan()'s) is at most `budget_bytes`. The stream is
/// replayed with check_plan(), and the solver's cost and memory must agree with it exactly
/// (std::logic_error if not: a bug of the formulation). Throws std::invalid_argument when no
/// stage plan fits the budget, saying the least budget that does (or a lower bound on it when
/// CBC could not prove it in time).
GraphPlan plan_milp(const Graph& graph, std::uint64_t budget_bytes,
                    const MilpOptions& options = {});
MilpReport plan_milp_report(const Graph& graph, std::uint64_t budget_bytes,
                            const MilpOptions& options = {});

/// The least peak of any stage plan (CBC minimises the peak; the cost is ignored). `proven` says
/// whether CBC proved it in the time limit; if not, the value is the best plan's peak.
std::uint64_t milp_min_budget(const Graph& graph, const MilpOptions& options = {},
                              bool* proven = nullptr);

}  // namespace cairn
