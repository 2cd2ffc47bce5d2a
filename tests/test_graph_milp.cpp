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

// plan_milp against plan_exhaustive at the class's least budget and at budgets up to store-all's
// peak. Every MILP plan is checked (legal, within the budget, the model's cost and peak equal to
// check_plan's: plan_milp throws otherwise) and never cheaper than the exhaustive optimum.
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
  for (int j = 0; j <= 3; ++j) {
    const std::uint64_t budget = least + (store_all - least) * static_cast<std::uint64_t>(j) / 3;
    const cairn::MilpReport report = cairn::plan_milp_report(graph, budget);
    const GraphPlan exhaustive = cairn::plan_exhaustive(graph, budget);
    ++tally.instances;
    const auto costs = cairn::check_plan(graph, report.plan.actions);
    REQUIRE(costs.legal);
    CHECK(costs.peak_bytes <= budget);
    CHECK(report.model_peak_bytes == costs.peak_bytes);
    CHECK(report.model_cost == costs.cost);
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

TEST_CASE("plan_milp equals the exhaustive optimum on random DAGs with one topological order",
          "[graph_milp]") {
  std::mt19937_64 random(2121);
  Tally tally;
  for (int trial = 0; trial < 200; ++trial) {
    const Graph graph = cairn::testing::random_dag(random, 2 + trial % 8);
    compare(graph, tally);
  }
  print("one topological order", tally);
  CHECK(tally.cheaper_exhaustive == 0);
  CHECK(tally.class_budget_above == 0);
}

TEST_CASE("plan_milp on random DAGs with parallel branches, against the exhaustive optimum",
          "[graph_milp]") {
  std::mt19937_64 random(2122);
  Tally tally;
  for (int trial = 0; trial < 100; ++trial) {
    const Graph graph = branching_dag(random, 3 + trial % 6);
    compare(graph, tally);
  }
  print("parallel branches", tally);
}
