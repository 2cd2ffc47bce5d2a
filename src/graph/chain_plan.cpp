// plan_chain and chain_min_budget: the chain's sizes in memory units, the dynamic program of
// chain_tables.cpp, and the stream its decisions describe, replayed by check_plan.
#include "cairn/chain_plan.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "chain_tables.hpp"
#include "plan_rules.hpp"

namespace cairn {

namespace {

using detail::ChainUnits;

std::size_t at(std::int64_t i) {
  return static_cast<std::size_t>(i);
}

void require_chain(const Graph& chain, const char* who) {
  chain.validate();
  if (!chain.is_chain()) {
    throw std::invalid_argument(std::string(who) +
                                ": the graph is not a chain (node i must read exactly node i - 1, "
                                "node 0 nothing); plan graphs with skip connections with the "
                                "graph planners");
  }
}

std::uint64_t unit_of(const Graph& chain, const ChainPlanOptions& options) {
  return options.memory_unit != 0 ? options.memory_unit : exact_memory_unit(chain);
}

std::int64_t units(std::uint64_t bytes, std::uint64_t unit) {
  return static_cast<std::int64_t>(bytes / unit + (bytes % unit != 0 ? 1 : 0));
}

}  // namespace

ChainUnits detail::chain_units(const Graph& chain, std::uint64_t unit) {
  ChainUnits c;
  for (std::int64_t v = 0; v < chain.size(); ++v) {
    const GraphNode& node = chain.node(v);
    c.forward.push_back(node.forward_cost);
    c.backward.push_back(node.backward_cost);
    c.output.push_back(units(node.output_bytes, unit));
    c.tape.push_back(units(node.tape_bytes, unit));
    c.compute_workspace.push_back(units(node.compute_workspace_bytes, unit));
    c.record_workspace.push_back(units(node.record_workspace_bytes, unit));
    c.backward_workspace.push_back(units(node.backward_workspace_bytes, unit));
    c.holds_output.push_back(node.tape_holds_output ? 1 : 0);
  }
  if (chain.output_gradient_held()) c.held_gradient = c.output.back();
  return c;
}

namespace {

// Writes the stream of Opt(s, t, m)'s decisions and returns its peak beyond what the caller
// holds, counting in(s) and g(t) (the recursion of chain_plan.hpp, read backwards).
class Emitter {
 public:
  Emitter(const ChainUnits& chain, const detail::ChainTables& tables,
          std::vector<GraphAction>& actions)
      : chain_(chain), tables_(tables), actions_(actions) {}

  std::int64_t emit(std::int64_t s, std::int64_t t, std::int64_t m) {
    const std::int64_t L = chain_.size();
    const std::int64_t in = chain_.input(s), g = chain_.gradient(t);
    if (s == t) {
      // The output goes before the backward, unless the loss or the node's own tape keeps it.
      const bool kept = t + 1 == L || chain_.holds_output[at(t)] != 0;
      push(GraphActionKind::record, t);
      if (!kept) push(GraphActionKind::free, t);
      push(GraphActionKind::backward, t);
      if (kept && t > 0) push(GraphActionKind::free, t);  // (node 0's backward ends the stream)
      return chain_.single_need(t);
    }
    const std::uint16_t code = tables_.decision(s, t, m);
    if (code == 0) {
      const std::int64_t tp = chain_.tape[at(s)];
      push(GraphActionKind::record, s);
      const std::int64_t inner = emit(s + 1, t, m - in - tp);
      if (chain_.holds_output[at(s)] != 0) {
        push(GraphActionKind::backward, s);
        if (s > 0) push(GraphActionKind::free, s);  // (node 0's backward ends the stream)
      } else {
        push(GraphActionKind::free, s);
        push(GraphActionKind::backward, s);
      }
      return std::max({chain_.record_peak(s, t), in + tp + inner,
                       chain_.record_need(s) + chain_.kept_gradient(t)});
    }
    const std::int64_t k = s + code;
    std::int64_t sweep = chain_.sweep_step(s, s);
    push(GraphActionKind::compute, s);
    for (std::int64_t j = s + 1; j < k; ++j) {
      sweep = std::max(sweep, chain_.sweep_step(s, j));
      push(GraphActionKind::compute, j);
      push(GraphActionKind::free, j - 1);
    }
    const std::int64_t right = emit(k, t, m - in);
    push(GraphActionKind::free, k - 1);
    const std::int64_t kept = chain_.kept_gradient(t);
    const std::int64_t left = emit(s, k - 1, m - kept) + kept;
    return std::max({in + g + sweep, in + right, left});
  }

 private:
  void push(GraphActionKind kind, std::int64_t v) { actions_.push_back(GraphAction{kind, v}); }

  const ChainUnits& chain_;
  const detail::ChainTables& tables_;
  std::vector<GraphAction>& actions_;
};

[[noreturn]] void below_least(const ChainUnits& c, std::uint64_t budget_bytes, std::uint64_t unit,
                              std::size_t max_bytes) {
  const auto least = static_cast<std::uint64_t>(detail::least_memory(c, max_bytes)) * unit;
  throw std::invalid_argument("plan_chain: a budget of " + std::to_string(budget_bytes) +
                              " bytes is below the least this chain can be trained in, " +
                              std::to_string(least) + " bytes (chain_min_budget, in units of " +
                              std::to_string(unit) + " bytes)");
}

}  // namespace

std::uint64_t chain_min_budget(const Graph& chain, const ChainPlanOptions& options) {
  require_chain(chain, "chain_min_budget");
  const std::uint64_t unit = unit_of(chain, options);
  return static_cast<std::uint64_t>(
             detail::least_memory(detail::chain_units(chain, unit), options.max_table_bytes)) *
         unit;
}

GraphPlan plan_chain(const Graph& chain, std::uint64_t budget_bytes,
                     const ChainPlanOptions& options) {
  require_chain(chain, "plan_chain");
  const std::uint64_t unit = unit_of(chain, options);
  const ChainUnits c = detail::chain_units(chain, unit);
  const auto budget = static_cast<std::int64_t>(
      std::min<std::uint64_t>(budget_bytes / unit, std::uint64_t{1} << 62));
  // Opt is constant from the store-all peak on: no plane above it is needed.
  const std::int64_t store_all = detail::store_all_memory(c);
  const std::int64_t memory = std::min(budget, store_all);
  if (store_all > budget) {
    // A coarser unit rounds sizes up: store-all may fit the budget in bytes but not in units.
    // Its cost, sum f + sum b, is the least of any plan, so it is the plan then.
    GraphPlan all = plan_store_all(chain);
    if (all.peak_bytes <= budget_bytes) {
      all.method = "chain_dp";
      if (options.report != nullptr) {
        *options.report = ChainPlanReport{all.cost, all.peak_bytes, unit, memory, 0, false, 0};
      }
      return all;
    }
  }
  // A cheap necessary condition first (the tables of an infeasible budget are wasted time): any
  // stream records every node with its input held, and runs it backward with its input, tape and
  // gradient held (the last node's gradient appears there) and its input's gradient created.
  std::int64_t necessary = 0;
  for (std::int64_t t = 0; t < c.size(); ++t) {
    const std::int64_t in = c.input(t), a = c.output[at(t)], tp = c.tape[at(t)];
    // The output is held at the backward too when it is the network's or the tape keeps it.
    const std::int64_t held_output = t + 1 == c.size() || c.holds_output[at(t)] != 0 ? a : 0;
    // Every backward but the last node's comes after that one, beside the kept gradient.
    const std::int64_t kept = t + 1 < c.size() ? c.held_gradient : 0;
    necessary = std::max({necessary, in + a + tp + c.record_workspace[at(t)],
                          2 * in + a + tp + held_output + c.backward_workspace[at(t)] + kept});
  }
  if (memory < necessary) below_least(c, budget_bytes, unit, options.max_table_bytes);

  GraphPlan plan;
  std::vector<GraphAction> actions;
  double optimum = 0;
  std::int64_t predicted = 0;
  std::size_t table_bytes = 0;
  bool bounded_used = false;
  unsigned threads = 1;
  const double L = static_cast<double>(c.size());
  const bool small = L * L * L * static_cast<double>(memory + 1) / 6 <= options.full_search_steps;
  for (const bool bounded : {!options.exhaustive_splits && !small, false}) {
    detail::ChainTables tables(c, memory, options.max_table_bytes, bounded, options.threads);
    tables.fill();
    optimum = tables.optimum();
    table_bytes = tables.bytes();
    bounded_used = bounded;
    threads = tables.threads();
    if (optimum < std::numeric_limits<double>::infinity()) {
      actions.clear();
      predicted = Emitter(c, tables, actions).emit(0, c.size() - 1, memory);
      break;
    }
    // Infeasible: below the least budget, or (never seen) the bounded search lost a split that
    // the full search finds.
    if (memory < detail::least_memory(c, options.max_table_bytes))
      below_least(c, budget_bytes, unit, options.max_table_bytes);
    if (!bounded) throw std::logic_error("plan_chain: no plan within a feasible budget");
  }
  const GraphPlanCosts costs = check_plan(chain, actions);
  if (!costs.legal || costs.peak_bytes > budget_bytes ||
      costs.peak_bytes > static_cast<std::uint64_t>(predicted) * unit) {
    throw std::logic_error("plan_chain: internal error, check_plan rejects the plan (" +
                           costs.reason + "; peak " + std::to_string(costs.peak_bytes) +
                           " bytes, predicted " + std::to_string(predicted) + " units of " +
                           std::to_string(unit) + ")");
  }
  plan.actions = std::move(actions);
  plan.cost = costs.cost;
  plan.peak_bytes = costs.peak_bytes;
  plan.method = "chain_dp";
  plan.optimal = !bounded_used;
  if (plan.optimal) {
    plan.lower_bound = plan.cost;
  } else {
    plan.lower_bound = 0;  // store-all's cost: no plan costs less
    for (std::int64_t v = 0; v < c.size(); ++v) {
      plan.lower_bound += c.forward[at(v)] + c.backward[at(v)];
    }
  }
  if (options.report != nullptr) {
    *options.report = ChainPlanReport{optimum,     static_cast<std::uint64_t>(predicted) * unit,
                                      unit,        memory,
                                      table_bytes, bounded_used,
                                      threads};
  }
  return plan;
}

}  // namespace cairn
