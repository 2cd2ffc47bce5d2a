// plan_milp (cairn::milp) against the exhaustive search over every legal stream.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <random>
#include <stdexcept>
#include <vector>

#include "cairn/graph.hpp"
#include "cairn/graph_milp.hpp"
#include "cairn/graph_planners.hpp"
#include "cairn/graph_shapes.hpp"
#include "graph_testing.hpp"

using cairn::Graph;
using cairn::GraphPlan;

namespace {

// A DAG with parallel branches: node v reads a random nonempty subset of the earlier nodes (or
// the network input alone, with probability 1/6), and every node without a consumer is then
// read by the last one, so that all reach it. Its topological order is not unique.
Graph branching_dag(std::mt19937_64& random, std::int64_t n) {
  std::uniform_int_distribution<int> size(1, 3), tape(0, 4), cost(1, 4), coin(0, 2), source(0, 5);
  std::vector<std::vector<std::int64_t>> inputs(static_cast<std::size_t>(n));
  std::vector<char> read(static_cast<std::size_t>(n), 0);
  for (std::int64_t v = 1; v < n; ++v) {
    auto& in = inputs[static_cast<std::size_t>(v)];
    if (source(random) == 0 && v + 1 < n) continue;
    for (std::int64_t u = 0; u < v; ++u) {
      if (coin(random) == 0) in.push_back(u);
    }
    if (in.empty()) in.push_back(std::uniform_int_distribution<std::int64_t>(0, v - 1)(random));
    for (const std::int64_t u : in) read[static_cast<std::size_t>(u)] = 1;
  }
  for (std::int64_t u = 0; u + 1 < n; ++u) {
    if (read[static_cast<std::size_t>(u)] == 0)
      inputs[static_cast<std::size_t>(n - 1)].push_back(u);
  }
  Graph graph;
  for (std::int64_t v = 0; v < n; ++v) {
    auto in = inputs[static_cast<std::size_t>(v)];
    std::sort(in.begin(), in.end());
    graph.add(cairn::GraphNode{static_cast<double>(cost(random)), static_cast<double>(cost(random)),
                               static_cast<std::uint64_t>(size(random)),
                               static_cast<std::uint64_t>(tape(random)), ""},
              in);
  }
  return graph;
}

bool exhaustive_feasible(const Graph& graph, std::uint64_t budget) {
  try {
    cairn::plan_exhaustive(graph, budget);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

struct Tally {
  int graphs = 0, instances = 0, cheaper_exhaustive = 0, class_budget_above = 0;
  double worst_ratio = 1;
};

// plan_milp against plan_exhaustive at the class's least budget and at 1/3 and 2/3 of the way to
// store-all's peak. Every MILP plan is checked (legal, within the budget, the model's cost and peak
// equal to check_plan's: plan_milp throws otherwise) and never cheaper than the exhaustive optimum.
void compare(const Graph& graph, Tally& tally) {
  ++tally.graphs;
  const std::uint64_t store_all = cairn::plan_store_all(graph).peak_bytes;
  bool proven = false;
  const std::uint64_t least = cairn::milp_min_budget(graph, {}, &proven);
  REQUIRE(proven);
  REQUIRE(least <= store_all);
  // The class's least budget is no less than that of all streams.
  if (least > 1 && exhaustive_feasible(graph, least - 1)) ++tally.class_budget_above;
  CHECK_THROWS_WITH(cairn::plan_milp(graph, least - 1), Catch::Contains("the least budget"));
  // (At store-all's peak every planner returns store-all's cost; it is tested elsewhere.)
  for (int j = 0; j < 3; ++j) {
    const std::uint64_t budget = least + (store_all - least) * static_cast<std::uint64_t>(j) / 3;
    const cairn::MilpReport report = cairn::plan_milp_report(graph, budget);
    const GraphPlan exhaustive = cairn::plan_exhaustive(graph, budget);
    ++tally.instances;
    const auto costs = cairn::check_plan(graph, report.plan.actions);
    REQUIRE(costs.legal);
    CHECK(costs.peak_bytes <= budget);
    CHECK(report.model_peak_bytes == costs.peak_bytes);
    CHECK(report.model_cost == Approx(costs.cost).epsilon(1e-12));
    CHECK(report.plan.cost == costs.cost);
    CHECK(report.plan.optimal);
    CHECK(report.plan.lower_bound == report.plan.cost);
    CHECK(report.plan.cost >= exhaustive.cost);
    if (report.plan.cost > exhaustive.cost) {
      ++tally.cheaper_exhaustive;
      tally.worst_ratio = std::max(tally.worst_ratio, report.plan.cost / exhaustive.cost);
    }
  }
}

void print(const char* what, const Tally& t) {
  std::cout << what << ": " << t.graphs << " graphs, " << t.instances
            << " budgets; exhaustive cheaper in " << t.cheaper_exhaustive
            << " (worst MILP / exhaustive cost " << t.worst_ratio
            << "); class least budget above the true least in " << t.class_budget_above
            << " graphs\n";
}

}  // namespace

// The measured limits of the class (stage plans) on these seeds; a change of the generators or the
// formulation changes them, and the docs quote them.
// The same 200 graphs for both cases (split for ctest's parallel runs), each case taking its sizes.
Tally one_order(std::int64_t smallest, std::int64_t largest) {
  std::mt19937_64 random(2121);
  Tally tally;
  for (int trial = 0; trial < 200; ++trial) {
    const Graph graph = cairn::testing::random_dag(random, 2 + trial % 8);
    if (graph.size() >= smallest && graph.size() <= largest) compare(graph, tally);
  }
  return tally;
}

TEST_CASE("plan_milp equals the exhaustive optimum on DAGs with one topological order, 2-6 nodes",
          "[graph_milp]") {
  const Tally tally = one_order(2, 6);
  print("one topological order (2..6 nodes)", tally);
  CHECK(tally.cheaper_exhaustive == 0);
  CHECK(tally.class_budget_above == 0);
}

TEST_CASE("plan_milp equals the exhaustive optimum on DAGs with one topological order, 7-9 nodes",
          "[graph_milp]") {
  const Tally tally = one_order(7, 9);
  print("one topological order (7..9 nodes)", tally);
  // Equal cost at every budget the class fits.
  CHECK(tally.cheaper_exhaustive == 0);
  // One graph (8 nodes) needs a byte less than the class's least budget (19 instead of 20): its
  // best stream evaluates an input again later in a stage, after the outputs computed in between
  // were freed.
  CHECK(tally.class_budget_above == 1);
}

TEST_CASE("plan_milp equals the exhaustive optimum on chains and small U-Nets", "[graph_milp]") {
  std::mt19937_64 random(2123);
  Tally tally;
  for (int trial = 0; trial < 40; ++trial) {
    compare(cairn::testing::random_chain(random, 1 + trial % 10), tally);
  }
  for (int levels = 1; levels <= 2; ++levels) compare(cairn::unet({levels, 4, 16, 3, 2, 1}), tally);
  print("chains and U-Nets", tally);
  CHECK(tally.cheaper_exhaustive == 0);
  CHECK(tally.class_budget_above == 0);
}

// Random chains and one-order DAGs with random workspaces, and (outputs_in_tapes) tapes that
// keep their node's output, against the exhaustive optimum.
Tally with_scratch(std::uint64_t seed, bool outputs_in_tapes, bool gradient_held = false) {
  std::mt19937_64 random(seed);
  Tally tally;
  for (int trial = 0; trial < 60; ++trial) {
    const Graph base = trial % 2 == 0 ? cairn::testing::random_chain(random, 1 + trial % 8)
                                      : cairn::testing::random_dag(random, 2 + trial % 6);
    Graph graph = cairn::testing::with_workspaces(random, base);
    if (outputs_in_tapes) graph = cairn::testing::with_outputs_in_tapes(random, graph);
    graph.set_output_gradient_held(gradient_held);
    compare(graph, tally);
  }
  return tally;
}

// Workspaces enter the evaluation rows (compute, record) and the stage's backward row
// (backward); a tape that keeps its node's output keeps it held at the stage's start and through
// it, and at the node's own backward. The model's peak must still be check_plan's (compare()
// requires it of every plan), and the optimum the exhaustive one.
TEST_CASE("plan_milp with workspaces and tapes that keep outputs, against the exhaustive optimum",
          "[graph_milp]") {
  for (const bool outputs_in_tapes : {false, true}) {
    const Tally tally = with_scratch(outputs_in_tapes ? 2125 : 2124, outputs_in_tapes);
    print(outputs_in_tapes ? "with workspaces and tapes that keep outputs" : "with workspaces",
          tally);
    CHECK(tally.cheaper_exhaustive == 0);
    CHECK(tally.class_budget_above == 0);
  }
}

// A caller that keeps the network output's gradient to the end (Graph::output_gradient_held):
// every stage after the first holds it, in each of its rows.
TEST_CASE("plan_milp with the output gradient held to the end, against the exhaustive optimum",
          "[graph_milp]") {
  const Tally tally = with_scratch(2126, true, true);
  print("with workspaces, tapes that keep outputs and the output gradient held", tally);
  CHECK(tally.cheaper_exhaustive == 0);
  CHECK(tally.class_budget_above == 0);
}

TEST_CASE("plan_milp on random DAGs with parallel branches, against the exhaustive optimum",
          "[graph_milp]") {
  std::mt19937_64 random(2122);
  Tally tally;
  for (int trial = 0; trial < 100; ++trial) compare(branching_dag(random, 3 + trial % 6), tally);
  print("parallel branches (3..8 nodes)", tally);
  // The fixed backward order (decreasing node numbers) and in-order stages cost more on some
  // graphs whose branches could be interleaved otherwise: measured 23 of 400 budgets (worst
  // 1.19 times the optimum) and 5 of 100 graphs with a higher least budget.
  CHECK(tally.cheaper_exhaustive == 23);
  CHECK(tally.worst_ratio < 1.2);
  CHECK(tally.class_budget_above == 5);
}

TEST_CASE("plan_milp on U-Net and DenseNet shapes: legal, checked, no costlier than the baselines",
          "[graph_milp]") {
  const Graph u = cairn::unet({4, 64, 256, 3, 2, 1});
  for (const GraphPlan& baseline : {cairn::plan_structure_aware(u), cairn::plan_segments(u)}) {
    const cairn::MilpReport r = cairn::plan_milp_report(u, baseline.peak_bytes);
    CHECK(r.proven_optimal);
    CHECK(r.plan.cost <= baseline.cost);
    CHECK(r.plan.peak_bytes <= baseline.peak_bytes);
  }
  // At store-all's peak the incumbent (store-all, the cheapest baseline that fits) is optimal:
  // CBC, asked for a cheaper plan, proves there is none, and the incumbent is the answer; without
  // the warm start CBC finds the same cost itself.
  const GraphPlan all = cairn::plan_store_all(u);
  for (const bool warm : {true, false}) {
    cairn::MilpOptions options;
    options.warm_start = warm;
    const cairn::MilpReport r = cairn::plan_milp_report(u, all.peak_bytes, options);
    CAPTURE(warm);
    CHECK(r.proven_optimal);
    CHECK(r.plan.optimal);
    CHECK(r.plan.cost == all.cost);
    CHECK(r.plan.lower_bound == r.plan.cost);
    CHECK(r.gap == 0);
  }
  // DenseNet with two small blocks (13 nodes) is proven.
  const Graph small = cairn::densenet({{4, 6}, 32, 4, 64, 224, 1000, 1});
  const GraphPlan structure = cairn::plan_structure_aware(small);
  const cairn::MilpReport r = cairn::plan_milp_report(small, structure.peak_bytes);
  CHECK(r.proven_optimal);
  CHECK(r.plan.cost <= structure.cost);
  CHECK_THROWS_AS(cairn::plan_milp(u, 1000), std::invalid_argument);
  CHECK_THROWS_AS(cairn::plan_milp(u, structure.peak_bytes, {0, 1, 0, true, false}),
                  std::invalid_argument);
}

TEST_CASE("plan_milp on DenseNet-121 under a short time limit returns its best plan and bound",
          "[graph_milp]") {
  // Tests never wait for proofs of that size (25,086 columns): the plan is legal and checked, no
  // costlier than the incumbent (the cheapest baseline that fits), and CBC's bound is below it.
  cairn::MilpOptions quick;
  quick.time_limit_seconds = 2;
  const Graph d = cairn::densenet();
  const GraphPlan segments = cairn::plan_segments(d);
  const cairn::MilpReport big = cairn::plan_milp_report(d, segments.peak_bytes, quick);
  CHECK(big.plan.cost <= segments.cost);
  CHECK(big.plan.lower_bound <= big.plan.cost);
  CHECK(big.plan.optimal == big.proven_optimal);
  // The bound is CBC's, not the plan's cost: the root relaxation is below every plan here.
  CHECK(big.best_bound < big.plan.cost);
  CHECK(big.best_bound > 0.8 * big.plan.cost);
  CHECK(big.gap > 0);
}
