#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <random>
#include <unordered_map>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/heterogeneous.hpp"

namespace {

using cairn::ChainStep;
using cairn::HeterogeneousRevolve;

constexpr double inf = std::numeric_limits<double>::infinity();

// Dijkstra over every legal stream of a small chain: the node is (working state, steps not yet
// reversed, which states are held); holding must stay within the budget; advances cost f, the
// rest nothing (the reverse costs are the same for every stream).
double brute_force(const std::vector<ChainStep>& chain, std::uint64_t budget) {
  const int T = static_cast<int>(chain.size());
  struct Node {
    int working;
    int unreversed;
    std::uint32_t held;
  };
  const auto key = [](const Node& n) {
    return (static_cast<std::uint64_t>(n.working + 1) << 40) |
           (static_cast<std::uint64_t>(n.unreversed) << 32) | n.held;
  };
  const auto bytes = [&](std::uint32_t held) {
    std::uint64_t b = 0;
    for (int i = 0; i < T; ++i) {
      if (held >> i & 1u) b += chain[static_cast<std::size_t>(i)].state_bytes;
    }
    return b;
  };
  std::unordered_map<std::uint64_t, double> distance;
  std::unordered_map<std::uint64_t, Node> nodes;
  using Entry = std::pair<double, std::uint64_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  const auto relax = [&](Node n, double d) {
    n.held &= (n.unreversed >= 32) ? ~0u : ((1u << n.unreversed) - 1);
    const auto k = key(n);
    const auto it = distance.find(k);
    if (it != distance.end() && it->second <= d) return;
    distance[k] = d;
    nodes[k] = n;
    queue.push({d, k});
  };
  relax(Node{0, T, 0}, 0);
  while (!queue.empty()) {
    const auto [d, k] = queue.top();
    queue.pop();
    if (distance[k] < d) continue;
    const Node n = nodes[k];
    if (n.unreversed == 0) return d;
    if (n.working >= 0 && n.working + 1 <= n.unreversed - 1) {
      relax(Node{n.working + 1, n.unreversed, n.held},
            d + chain[static_cast<std::size_t>(n.working)].forward_cost);
    }
    if (n.working == n.unreversed - 1) relax(Node{-1, n.unreversed - 1, n.held}, d);
    if (n.working >= 0 && !(n.held >> n.working & 1u)) {
      const std::uint32_t held = n.held | (1u << n.working);
      if (bytes(held) <= budget) relax(Node{n.working, n.unreversed, held}, d);
    }
    for (int i = 0; i < n.unreversed; ++i) {
      if (!(n.held >> i & 1u)) continue;
      relax(Node{i, n.unreversed, n.held}, d);
      relax(Node{n.working, n.unreversed, n.held & ~(1u << i)}, d);
    }
  }
  return inf;
}

// Replays a stream: the most bytes held at once (a free or an overwrite releases a slot's state).
std::uint64_t peak_bytes_of(HeterogeneousRevolve& schedule) {
  std::unordered_map<std::int64_t, std::uint64_t> slot_bytes;
  std::uint64_t held = 0, peak = 0;
  schedule.reset();
  for (cairn::Action a = schedule.next(); a.kind != cairn::ActionKind::end; a = schedule.next()) {
    if (a.kind == cairn::ActionKind::store) {
      held -= slot_bytes[a.slot];
      slot_bytes[a.slot] = schedule.chain()[static_cast<std::size_t>(a.step)].state_bytes;
      held += slot_bytes[a.slot];
      peak = std::max(peak, held);
    } else if (a.kind == cairn::ActionKind::free) {
      held -= slot_bytes[a.slot];
      slot_bytes[a.slot] = 0;
    }
  }
  schedule.reset();
  return peak;
}

}  // namespace

TEST_CASE("HeterogeneousRevolve with equal costs and sizes is Revolve: t(T c)", "[heterogeneous]") {
  for (std::int64_t T = 1; T <= 60; ++T) {
    for (std::int64_t c = 1; c <= 8; ++c) {
      std::vector<ChainStep> chain(static_cast<std::size_t>(T), ChainStep{1, 0, 8});
      HeterogeneousRevolve schedule(chain, static_cast<std::uint64_t>(8 * c));
      INFO("T = " << T << ", c = " << c);
      REQUIRE(schedule.optimal_cost() == static_cast<double>(cairn::forward_cost(T, c)));
      const auto result = cairn::check(schedule, T, {schedule.slots()});
      INFO(result.reason);
      REQUIRE(result.legal);
      REQUIRE(result.costs.forward_steps == cairn::forward_cost(T, c));
      REQUIRE(schedule.slots() <= c);
      REQUIRE(peak_bytes_of(schedule) <= static_cast<std::uint64_t>(8 * c));
    }
  }
}

namespace {

struct Comparison {
  int instances = 0;
  int above = 0;         // the nested optimum costs more than the best stream
  double worst_gap = 0;  // largest relative excess
};

// Random small chains against the search over all streams; sizes from {16, 32, 48} bytes, or all
// 16 when `equal_sizes`.
Comparison compare_with_brute_force(bool equal_sizes) {
  Comparison out;
  std::mt19937_64 random(2024);
  std::uniform_int_distribution<int> quarter(1, 16), size(1, 3);
  for (int T = 1; T <= 7; ++T) {
    for (int trial = 0; trial < 30; ++trial) {
      std::vector<ChainStep> chain(static_cast<std::size_t>(T));
      std::uint64_t total = 0;
      for (ChainStep& s : chain) {
        s.forward_cost = quarter(random) / 4.0;  // dyadic: sums are exact
        s.backward_cost = quarter(random) / 4.0;
        s.state_bytes = equal_sizes ? 16 : static_cast<std::uint64_t>(size(random)) * 16;
        total += s.state_bytes;
      }
      double backward = 0;
      for (const ChainStep& s : chain) backward += s.backward_cost;
      for (std::uint64_t budget = chain.front().state_bytes; budget <= total; budget += 16) {
        HeterogeneousRevolve schedule(chain, budget);
        const double best = brute_force(chain, budget);
        INFO("T = " << T << ", trial " << trial << ", budget " << budget);
        // No stream beats the search; the planner's may cost more only outside its nested class.
        REQUIRE(schedule.optimal_cost() >= best + backward);
        if (schedule.optimal_cost() > best + backward) {
          ++out.above;
          out.worst_gap = std::max(out.worst_gap, schedule.optimal_cost() / (best + backward) - 1);
        }
        const auto result = cairn::check(schedule, T, {schedule.slots()});
        INFO(result.reason);
        REQUIRE(result.legal);
        // The stream costs what the planner says, and holds no more than the budget.
        double cost = backward;
        schedule.reset();
        for (cairn::Action a = schedule.next(); a.kind != cairn::ActionKind::end;
             a = schedule.next()) {
          if (a.kind == cairn::ActionKind::advance) {
            for (std::int64_t i = a.from(); i < a.to; ++i)
              cost += chain[static_cast<std::size_t>(i)].forward_cost;
          }
        }
        REQUIRE(cost == schedule.optimal_cost());
        REQUIRE(peak_bytes_of(schedule) <= budget);
        REQUIRE(schedule.peak_bytes() == peak_bytes_of(schedule));
        ++out.instances;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("HeterogeneousRevolve with equal sizes is optimal among all streams on small chains",
          "[heterogeneous]") {
  const Comparison c = compare_with_brute_force(true);
  CHECK(c.instances > 500);
  CHECK(c.above == 0);
}

TEST_CASE("HeterogeneousRevolve with unequal sizes: how far the nested class is from all streams",
          "[heterogeneous]") {
  // Measured, not a theorem: with sizes 16/32/48 bytes, 1 instance of 1,476 has a stream outside
  // the nested class that is cheaper, by 0.6% (docs/schedules.md). The bounds below catch a
  // planner that gets worse.
  const Comparison c = compare_with_brute_force(false);
  CHECK(c.instances > 500);
  CHECK(c.above <= c.instances / 100);
  CHECK(c.worst_gap <= 0.01);
  WARN("unequal sizes: " << c.above << " of " << c.instances
                         << " instances above the best stream, worst by " << c.worst_gap * 100
                         << "%");
}

namespace {

// Every nested plan of steps i..j-1 with x_i held, as (advance cost, bytes held above x_i at the
// peak): reverse by recomputing from x_i, or advance to some x_k, store it, reverse k..j-1 under
// it, free it, reverse i..k-1. An enumeration of trees, independent of the planner's memory
// planes; it grows like the Catalan numbers (2,950 plans for 8 steps).
struct NestedPlan {
  double cost;
  std::uint64_t peak;
};
std::vector<NestedPlan> nested_plans(const std::vector<ChainStep>& chain, int i, int j) {
  const auto forward = [&](int a, int b) {
    double f = 0;
    for (int l = a; l < b; ++l) f += chain[static_cast<std::size_t>(l)].forward_cost;
    return f;
  };
  if (j == i + 1) return {{0.0, 0}};
  double recompute = 0;
  for (int l = i + 1; l < j; ++l) recompute += forward(i, l);
  std::vector<NestedPlan> plans{{recompute, 0}};
  for (int k = i + 1; k < j; ++k) {
    const std::uint64_t s_k = chain[static_cast<std::size_t>(k)].state_bytes;
    const auto right = nested_plans(chain, k, j);
    const auto left = nested_plans(chain, i, k);
    for (const NestedPlan& r : right) {
      for (const NestedPlan& l : left) {
        plans.push_back({forward(i, k) + r.cost + l.cost, std::max(s_k + r.peak, l.peak)});
      }
    }
  }
  return plans;
}

}  // namespace

TEST_CASE("HeterogeneousRevolve with unequal sizes is optimal among nested streams",
          "[heterogeneous]") {
  // The planner's model (the class comment): against every nested plan of random small chains
  // with sizes of 16, 32 or 48 bytes and every budget, the planner's cost is the cheapest.
  std::mt19937_64 random(7);
  std::uniform_int_distribution<int> quarter(1, 16), size(1, 3);
  int instances = 0;
  for (int T = 1; T <= 8; ++T) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<ChainStep> chain(static_cast<std::size_t>(T));
      std::uint64_t total = 0;
      double backward = 0;
      for (ChainStep& s : chain) {
        s = ChainStep{quarter(random) / 4.0, quarter(random) / 4.0,
                      static_cast<std::uint64_t>(size(random)) * 16};
        total += s.state_bytes;
        backward += s.backward_cost;
      }
      const auto plans = nested_plans(chain, 0, T);
      for (std::uint64_t budget = chain.front().state_bytes; budget <= total; budget += 16) {
        double best = inf;
        for (const NestedPlan& p : plans) {
          if (chain.front().state_bytes + p.peak <= budget) best = std::min(best, p.cost);
        }
        HeterogeneousRevolve schedule(chain, budget);
        INFO("T = " << T << ", trial " << trial << ", budget " << budget);
        REQUIRE(schedule.optimal_cost() == best + backward);
        REQUIRE(schedule.peak_bytes() <= budget);
        ++instances;
      }
    }
  }
  CHECK(instances > 1000);
}

TEST_CASE("HeterogeneousRevolve refuses bad input with a clear message", "[heterogeneous]") {
  const std::vector<ChainStep> chain{{1, 0, 100}, {1, 0, 50}};
  CHECK_THROWS_WITH(HeterogeneousRevolve({}, 10), Catch::Contains("the chain has no step"));
  CHECK_THROWS_WITH(HeterogeneousRevolve(chain, 99),
                    Catch::Contains("budget of 99 bytes cannot hold x_0 (100 bytes)"));
  CHECK_THROWS_WITH(HeterogeneousRevolve({{-1, 0, 8}}, 8),
                    Catch::Contains("step 0 has a negative or non-finite cost"));
  CHECK_THROWS_WITH(HeterogeneousRevolve({{1, 0, 0}}, 8), Catch::Contains("x_0 has size 0"));
  std::vector<ChainStep> long_chain(3000, ChainStep{1, 0, 1});
  CHECK_THROWS_AS(HeterogeneousRevolve(long_chain, 200, 1, 1 << 20), std::length_error);
}

TEST_CASE("HeterogeneousRevolve refuses costs whose plans would overflow to infinity",
          "[heterogeneous]") {
  using Catch::Matchers::Contains;
  // Sums of 1e308 overflow: T = 3 used to segfault, T = 2 to return an infinite optimal cost.
  for (const std::size_t T : {1, 2, 3, 5}) {
    INFO("T = " << T);
    const std::vector<ChainStep> huge(T, ChainStep{1e308, 0, 8});
    if (T == 1) {
      // One step is never recomputed: its cost is the plan's.
      const HeterogeneousRevolve one(huge, 16);
      CHECK(one.optimal_cost() == 0);
      continue;
    }
    CHECK_THROWS_WITH(HeterogeneousRevolve(huge, 16), Contains("costs are too large"));
  }
  CHECK_THROWS_WITH(HeterogeneousRevolve({{1, 1e308, 8}, {1, 1e308, 8}}, 16),
                    Contains("costs are too large"));
  // Large but safe costs still plan, with a finite cost equal to the unit plan's times the scale.
  const std::vector<ChainStep> scaled(4, ChainStep{1e300, 0, 8});
  const std::vector<ChainStep> unit(4, ChainStep{1, 0, 8});
  const HeterogeneousRevolve big(scaled, 16), small(unit, 16);
  REQUIRE(std::isfinite(big.optimal_cost()));
  CHECK(big.optimal_cost() == Approx(small.optimal_cost() * 1e300));
  // Sizes near 2^64 and budgets above 2^63 do not wrap: in units of the sizes' divisor they plan;
  // a size beyond 2^63 - 1 units is refused.
  const std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  const std::vector<ChainStep> wide_chain{{1, 0, top / 2}, {1, 0, top / 2}};
  const HeterogeneousRevolve wide(wide_chain, top);
  CHECK(wide.optimal_cost() == 1);  // both states kept: the forward sweep's one advance
  CHECK(wide.slots() == 2);
  CHECK_THROWS_WITH(HeterogeneousRevolve({{1, 0, top}, {1, 0, 8}}, top, 1),
                    Contains("more than 2^63 - 1 memory units of 1 bytes"));
}

TEST_CASE("HeterogeneousRevolve's bounded split search equals the full search for equal sizes",
          "[heterogeneous]") {
  // The bounds (Knuth-Yao: the split of (i, j) lies between those of (i, j - 1) and (i + 1, j))
  // are not proven for this recursion; this compares the two searches stream for stream.
  std::mt19937_64 random(99);
  std::uniform_real_distribution<double> real_cost(0.1, 3.0);
  std::uniform_int_distribution<int> small_cost(1, 3);
  int compared = 0;
  for (int T : {2, 3, 5, 8, 13, 40, 90, 150}) {
    for (int trial = 0; trial < 6; ++trial) {
      std::vector<ChainStep> chain(static_cast<std::size_t>(T));
      for (ChainStep& s : chain) {
        // Integer costs make ties common, which is where a tie rule could break the bounds.
        s.forward_cost = trial % 2 == 0 ? real_cost(random) : small_cost(random);
        s.state_bytes = 8;
      }
      for (std::uint64_t c : {1u, 2u, 3u, 5u, 9u, 20u}) {
        HeterogeneousRevolve bounded(chain, 8 * c);
        HeterogeneousRevolve full(chain, 8 * c, 0, HeterogeneousRevolve::default_max_table_bytes,
                                  true);
        INFO("T = " << T << ", trial " << trial << ", c = " << c);
        REQUIRE(bounded.bounded_search());
        REQUIRE_FALSE(full.bounded_search());
        REQUIRE(bounded.optimal_cost() == full.optimal_cost());
        REQUIRE(bounded.action_count() == full.action_count());
        for (cairn::Action a = bounded.next(), b = full.next(); a.kind != cairn::ActionKind::end;
             a = bounded.next(), b = full.next()) {
          REQUIRE(a == b);
        }
        ++compared;
      }
    }
  }
  CHECK(compared == 8 * 6 * 6);
}

TEST_CASE("HeterogeneousRevolve on longer chains (the planes filled by several threads)",
          "[heterogeneous]") {
  // From T = 200 the planner fills its memory planes on up to 4 threads; the result must not
  // depend on it: Revolve's t(T, c) for equal costs, and the full search for random costs.
  for (std::int64_t T : {200, 257}) {
    for (std::int64_t c : {2, 7, 30}) {
      std::vector<ChainStep> equal(static_cast<std::size_t>(T), ChainStep{1, 0, 4});
      HeterogeneousRevolve plan(equal, static_cast<std::uint64_t>(4 * c));
      INFO("T = " << T << ", c = " << c);
      REQUIRE(plan.optimal_cost() == static_cast<double>(cairn::forward_cost(T, c)));
      const auto result = cairn::check(plan, T, {plan.slots()});
      REQUIRE(result.legal);
      REQUIRE(result.costs.forward_steps == cairn::forward_cost(T, c));
    }
  }
  std::mt19937_64 random(5);
  std::uniform_real_distribution<double> cost(0.2, 2.0);
  std::vector<ChainStep> chain(230);
  for (ChainStep& s : chain) s = ChainStep{cost(random), 0.5, 16};
  for (std::uint64_t c : {3u, 12u}) {
    HeterogeneousRevolve bounded(chain, 16 * c);
    HeterogeneousRevolve full(chain, 16 * c, 0, HeterogeneousRevolve::default_max_table_bytes,
                              true);
    REQUIRE(bounded.optimal_cost() == full.optimal_cost());
    REQUIRE(bounded.action_count() == full.action_count());
  }
}

TEST_CASE("HeterogeneousRevolve with unequal sizes on a longer chain equals a plain recursion",
          "[heterogeneous]") {
  // The threaded, two-layout fill against the recursion of the class comment written out
  // directly (memoised, one thread), on a chain long enough for the planner to use threads.
  const int T = 210;
  const std::int64_t budget_units = 24;
  std::mt19937_64 random(11);
  std::uniform_int_distribution<int> quarter(1, 16), size(1, 3);
  std::vector<ChainStep> chain(static_cast<std::size_t>(T));
  std::vector<double> prefix(static_cast<std::size_t>(T) + 1, 0.0);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    chain[i] = ChainStep{quarter(random) / 4.0, 0.0, static_cast<std::uint64_t>(size(random))};
    prefix[i + 1] = prefix[i] + chain[i].forward_cost;
  }
  chain.front().state_bytes = 1;
  const auto M = budget_units - 1;  // after x_0
  std::vector<double> memo(static_cast<std::size_t>(T + 1) * (T + 1) * (M + 1), -1.0);
  std::function<double(int, int, std::int64_t)> opt = [&](int i, int j, std::int64_t m) {
    if (j == i + 1) return 0.0;
    double& slot = memo[(static_cast<std::size_t>(i) * (T + 1) + j) * (M + 1) + m];
    if (slot >= 0) return slot;
    double best = 0;
    for (int l = i + 1; l < j; ++l) best += prefix[l] - prefix[i];
    for (int k = i + 1; k < j; ++k) {
      const auto u = static_cast<std::int64_t>(chain[static_cast<std::size_t>(k)].state_bytes);
      if (u > m) continue;
      best = std::min(best, (prefix[k] - prefix[i]) + opt(k, j, m - u) + opt(i, k, m));
    }
    return slot = best;
  };
  HeterogeneousRevolve plan(chain, static_cast<std::uint64_t>(budget_units));
  REQUIRE_FALSE(plan.bounded_search());
  // Dyadic costs: every sum is exact, so the two agree to the last bit whatever the order.
  REQUIRE(plan.optimal_cost() == opt(0, T, M));
  const auto result = cairn::check(plan, T, {plan.slots()});
  INFO(result.reason);
  REQUIRE(result.legal);
  double stream_cost = 0;  // the stream's advances cost what the planner says
  plan.reset();
  for (cairn::Action a = plan.next(); a.kind != cairn::ActionKind::end; a = plan.next()) {
    if (a.kind != cairn::ActionKind::advance) continue;
    stream_cost +=
        prefix[static_cast<std::size_t>(a.to)] - prefix[static_cast<std::size_t>(a.from())];
  }
  plan.reset();
  REQUIRE(stream_cost == plan.optimal_cost());
  REQUIRE(peak_bytes_of(plan) <= static_cast<std::uint64_t>(budget_units));
}

TEST_CASE("HeterogeneousRevolve: planning time follows the sizes that occur, not the largest",
          "[heterogeneous]") {
  // Found by the C API fuzzer: three states of 2, 255 and 65535 bytes under a 65535-byte budget
  // (M = 65535 planes of one byte) took 9 s, as every plane waited on and pointed at each of the
  // 65535 smaller planes. It now reads only the planes m - 2, m - 255, m - 65535.
  const HeterogeneousRevolve h({{1, 0, 2}, {1, 0, 255}, {1, 0, 65535}}, 65535);
  CHECK(h.optimal_cost() == 2);  // x_0 and x_1 (257 bytes) fit: store-all but x_2
  CHECK(h.peak_bytes() <= 65535);
  const HeterogeneousRevolve all({{1, 0, 2}, {1, 0, 255}, {1, 0, 65535}}, 65535 + 257);
  CHECK(all.optimal_cost() == 2);
}
