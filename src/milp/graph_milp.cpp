// plan_milp: the stage model of stage_model.hpp solved by CBC, its stream replayed by
// check_plan(), and the two compared.
#include "cairn/graph_milp.hpp"

#include <Cbc_C_Interface.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/graph_planners.hpp"
#include "graph/early_frees.hpp"
#include "milp/stage_model.hpp"

namespace cairn {

namespace {

using detail::StageModel;

std::size_t at(std::int64_t v) {
  return static_cast<std::size_t>(v);
}

struct CbcDeleter {
  void operator()(Cbc_Model* model) const { Cbc_deleteModel(model); }
};

struct Solved {
  std::vector<double> x;  // empty when CBC found no solution
  bool proven_optimal = false, proven_infeasible = false;
  double objective = 0, bound = 0;
};

// start: a MIP start (every column, as least_completion makes it), or empty. cutoff: CBC looks
// only for plans cheaper than this (in its objective's units), or +infinity.
Solved solve(const StageModel& m, const MilpOptions& options, const std::vector<double>& start,
             double cutoff = std::numeric_limits<double>::infinity()) {
  const int columns = m.columns();
  // Column-major copy of the triplets, as Cbc_loadProblem takes them.
  std::vector<int> starts(at(columns) + 1, 0);
  for (const int c : m.entry_column) ++starts[at(c) + 1];
  for (int c = 0; c < columns; ++c) starts[at(c) + 1] += starts[at(c)];
  std::vector<int> fill(starts.begin(), starts.end() - 1), index(m.entry_row.size());
  std::vector<double> value(m.entry_row.size());
  for (std::size_t e = 0; e < m.entry_row.size(); ++e) {
    const std::size_t slot = at(fill[at(m.entry_column[e])]++);
    index[slot] = m.entry_row[e];
    value[slot] = m.entry_value[e];
  }
  std::unique_ptr<Cbc_Model, CbcDeleter> model(Cbc_newModel());
  Cbc_loadProblem(model.get(), columns, m.rows(), starts.data(), index.data(), value.data(),
                  m.column_lower.data(), m.column_upper.data(), m.objective.data(),
                  m.row_lower.data(), m.row_upper.data());
  // Every column is declared integer, not only the choices R and C: with those integral, the
  // least S, T, A (and peak) are integral and feasible (least_completion), so the feasible
  // plans and the optimum are the same, and so is the LP relaxation. After its search CBC
  // solves the model again with the integers fixed and any continuous column free, an LP that
  // ignores the time limit: on DenseNet-121 (25,086 columns) it ran 2-8 s past the limit; with
  // no column free it takes about 0.5 s (docs/deep_networks.md).
  for (int c = 0; c < columns; ++c) Cbc_setInteger(model.get(), c);
  Cbc_setLogLevel(model.get(), options.log ? 1 : 0);
  Cbc_setMaximumSeconds(model.get(), options.time_limit_seconds);
  if (options.relative_gap > 0) Cbc_setAllowableFractionGap(model.get(), options.relative_gap);
  if (options.threads > 1) {
    Cbc_setParameter(model.get(), "threads", std::to_string(options.threads).c_str());
  }
  // CBC's preprocessing is left out: it does not watch the clock (on DenseNet-121 it alone ran
  // past the time limit several times over), and on the all-integer model it led CLP into a
  // failed assertion (an abort) on one of the random graphs of tests/test_graph_milp.cpp. Without
  // it the small models of the tests solve faster too (37 s against 41 s for the whole file).
  Cbc_setParameter(model.get(), "preprocess", "off");
  if (cutoff < std::numeric_limits<double>::infinity()) Cbc_setCutoff(model.get(), cutoff);
  if (!start.empty()) {  // every column, as least_completion makes it
    std::vector<int> ids(at(columns));
    std::iota(ids.begin(), ids.end(), 0);
    Cbc_setMIPStartI(model.get(), columns, ids.data(), start.data());
  }
  Cbc_solve(model.get());
  Solved result;
  result.proven_infeasible = Cbc_isProvenInfeasible(model.get()) != 0;
  result.bound = Cbc_getBestPossibleObjValue(model.get());
  const double* best = Cbc_bestSolution(model.get());
  if (best != nullptr && !result.proven_infeasible) {
    result.x.assign(best, best + columns);
    result.objective = Cbc_getObjValue(model.get());
    result.proven_optimal = Cbc_isProvenOptimal(model.get()) != 0;
  }
  return result;
}

void require_valid(const Graph& graph, const MilpOptions& options, const char* who) {
  graph.validate();
  if (!(options.time_limit_seconds > 0) || options.threads < 1 || !(options.relative_gap >= 0)) {
    throw std::invalid_argument(std::string(who) +
                                ": MilpOptions needs time_limit_seconds > 0, threads >= 1 and "
                                "relative_gap >= 0");
  }
}

double elapsed(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

MilpReport plan_milp_report(const Graph& graph, std::uint64_t budget_bytes,
                            const MilpOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  require_valid(graph, options, "plan_milp");
  const StageModel m = detail::build_stage_model(graph, budget_bytes, false, true);
  // The cheapest baseline that fits is the incumbent: CBC is asked only for cheaper plans (its
  // cutoff), and the baseline is the answer where it finds none. Handed to CBC as a MIP start
  // instead, it made CBC solve an LP over the model with the baseline's choices fixed, and again
  // after the search, neither watching the clock: DenseNet-121 under a 5 s limit took 10-25 s
  // and found nothing better, where the cutoff takes 5 s and finds 3.9% cheaper plans.
  std::vector<double> start;
  double cutoff = std::numeric_limits<double>::infinity();
  if (options.warm_start) {
    // The cheapest baseline that fits: each is a stage plan with the model's frees.
    double best = 0;
    std::vector<GraphPlan> baselines = {plan_store_all(graph), plan_structure_aware(graph),
                                        plan_segments(graph, 0),
                                        plan_segments(graph, graph.size())};
    for (const GraphPlan& p : baselines) {
      if (p.peak_bytes > budget_bytes || (!start.empty() && p.cost >= best)) continue;
      std::vector<GraphAction> stream;
      for (const GraphAction& a : p.actions) {
        if (a.kind != GraphActionKind::free) stream.push_back(a);
      }
      std::vector<double> x = detail::stage_choices(m, stream);
      if (x.empty()) continue;
      start = std::move(x);
      best = p.cost;
    }
    if (!start.empty()) {
      cutoff = 0;
      for (int c = 0; c < m.columns(); ++c) cutoff += m.objective[at(c)] * start[at(c)];
    }
  }
  const Solved solved = solve(m, options, {}, cutoff);
  // CBC's plan is cheaper than the incumbent; without one, the incumbent stands, proven the
  // cheapest of the class where CBC shows that nothing beats it.
  const bool incumbent_stands = solved.x.empty() && !start.empty();
  if (solved.x.empty() && start.empty()) {
    const double remaining = options.time_limit_seconds - elapsed(started);
    if (!solved.proven_infeasible) {
      throw std::runtime_error("plan_milp: CBC found no plan within " +
                               std::to_string(budget_bytes) + " bytes in the time limit of " +
                               std::to_string(options.time_limit_seconds) +
                               " s (raise MilpOptions::time_limit_seconds)");
    }
    MilpOptions rest = options;
    rest.time_limit_seconds = std::max(1.0, remaining);
    bool proven = false;
    const std::uint64_t least = milp_min_budget(graph, rest, &proven);
    throw std::invalid_argument(
        "plan_milp: no stage plan fits within " + std::to_string(budget_bytes) + " bytes; " +
        (proven ? "the least budget that does is " : "a plan was found at ") +
        std::to_string(least) + " bytes" + (proven ? "" : " (not proven least in the time limit)"));
  }
  const std::vector<double> x =
      detail::least_completion(graph, m, incumbent_stands ? start : solved.x);
  const detail::RowCheck rows = detail::check_rows(m, x);
  MilpReport report;
  report.plan = detail::checked_plan(
      graph, detail::with_early_frees(graph, detail::stage_stream(m, x)), "milp");
  // The model's cost of the rounded solution (CBC's objective carries its tolerances).
  report.model_cost = m.objective_offset;
  for (int c = 0; c < m.columns(); ++c) {
    report.model_cost += m.objective[at(c)] * x[at(c)] / m.objective_scale;
  }
  report.model_peak_bytes = rows.peak_bytes;
  // The solver's view and check_plan's must be the same plan.
  const double tolerance = 1e-9 * std::max(1.0, std::abs(report.plan.cost));
  if (rows.worst_violation > 1e-6 || report.model_peak_bytes != report.plan.peak_bytes ||
      std::abs(report.model_cost - report.plan.cost) > tolerance ||
      report.plan.peak_bytes > budget_bytes) {
    throw std::logic_error(
        "plan_milp: the model and check_plan disagree (a bug of the formulation): model cost " +
        std::to_string(report.model_cost) + ", peak " + std::to_string(report.model_peak_bytes) +
        " bytes, worst row violation " + std::to_string(rows.worst_violation) + " (row " +
        std::to_string(rows.worst_row) + "); check_plan cost " + std::to_string(report.plan.cost) +
        ", peak " + std::to_string(report.plan.peak_bytes) + " bytes; budget " +
        std::to_string(budget_bytes));
  }
  report.proven_optimal = incumbent_stands ? solved.proven_infeasible : solved.proven_optimal;
  report.best_bound = report.proven_optimal ? report.plan.cost
                                            : solved.bound / m.objective_scale + m.objective_offset;
  report.best_bound = std::min(report.best_bound, report.plan.cost);
  report.gap = report.plan.cost > 0 ? (report.plan.cost - report.best_bound) / report.plan.cost : 0;
  report.plan.optimal = report.proven_optimal;
  report.plan.lower_bound = report.best_bound;
  report.columns = m.columns();
  report.rows = m.rows();
  report.nonzeros = static_cast<std::int64_t>(m.entry_value.size());
  report.integer_columns = std::count(m.integer.begin(), m.integer.end(), 1);
  report.seconds = elapsed(started);
  return report;
}

GraphPlan plan_milp(const Graph& graph, std::uint64_t budget_bytes, const MilpOptions& options) {
  return plan_milp_report(graph, budget_bytes, options).plan;
}

std::uint64_t milp_min_budget(const Graph& graph, const MilpOptions& options, bool* proven) {
  require_valid(graph, options, "milp_min_budget");
  const StageModel m = detail::build_stage_model(graph, 0, true, true);
  // Store-all is a stage plan: a start that is always feasible.
  std::vector<GraphAction> stream;
  for (const GraphAction& a : plan_store_all(graph).actions) {
    if (a.kind != GraphActionKind::free) stream.push_back(a);
  }
  const Solved solved =
      solve(m, options, detail::least_completion(graph, m, detail::stage_choices(m, stream)));
  if (solved.x.empty()) {
    throw std::runtime_error("milp_min_budget: CBC found no plan in the time limit");
  }
  const std::vector<double> x = detail::least_completion(graph, m, solved.x);
  const GraphPlan plan = detail::checked_plan(
      graph, detail::with_early_frees(graph, detail::stage_stream(m, x)), "milp");
  const detail::RowCheck rows = detail::check_rows(m, x);
  if (rows.peak_bytes != plan.peak_bytes || rows.worst_violation > 1e-6) {
    throw std::logic_error("milp_min_budget: the model's peak " + std::to_string(rows.peak_bytes) +
                           " bytes and check_plan's " + std::to_string(plan.peak_bytes) +
                           " differ (a bug of the formulation)");
  }
  if (proven != nullptr) *proven = solved.proven_optimal;
  return plan.peak_bytes;
}

}  // namespace cairn
