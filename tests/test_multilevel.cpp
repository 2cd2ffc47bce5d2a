// MultilevelRevolve: legality, exact optimal cost against two independent references (a plain
// memoised recursion, and a shortest-path search over every legal stream), and the reduction to
// Revolve when storage is free.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <queue>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/multilevel.hpp"
#include "multilevel_prices.hpp"

namespace {

using cairn::MultilevelRevolve;
using cairn::StepCosts;
using cairn::StorageLevel;

constexpr double inf = std::numeric_limits<double>::infinity();

using multilevel_prices::price_sets;
using multilevel_prices::Prices;

std::vector<StorageLevel> two_levels(std::int64_t c0, std::int64_t c1, const Prices& p) {
  return {StorageLevel{c0, p.w0, p.r0}, StorageLevel{c1, p.w1, p.r1}};
}

// Prices of any number of levels (the fastest first), for the references below.
struct Costs {
  double uf, ub;
  std::vector<double> write, read;
};
Costs costs_of(const Prices& p) {
  return {p.uf, p.ub, {p.w0, p.w1}, {p.r0, p.r1}};
}

// The recursion of docs/multilevel.md, written directly from its definition: literal slot counts
// (no capping), a map as memo, and each option summed in its own order. Up to three levels; the
// last one may be unlimited.
class ReferenceRecursion {
 public:
  ReferenceRecursion(std::vector<std::int64_t> slots, bool unlimited_last, Costs costs)
      : n_(static_cast<int>(slots.size())), unlimited_last_(unlimited_last), p_(std::move(costs)) {
    for (int k = 0; k < n_; ++k) c_[k] = slots[static_cast<std::size_t>(k)];
  }
  ReferenceRecursion(std::int64_t c0, std::int64_t c1, bool unlimited_disk, const Prices& p)
      : ReferenceRecursion({c0, c1}, unlimited_disk, costs_of(p)) {}

  double optimum(std::int64_t steps) {
    if (steps == 1) return p_.ub;
    double best = inf;
    for (int k = 0; k < n_; ++k) {
      if (!has(k, c_)) continue;
      Counts f = c_;
      take(k, f);
      best = std::min(best, write(k) + solve(steps, f, k, true));
    }
    return best;
  }

 private:
  using Counts = std::array<std::int64_t, 3>;
  double write(int k) const { return p_.write[static_cast<std::size_t>(k)]; }
  double read(int k) const { return p_.read[static_cast<std::size_t>(k)]; }
  bool unlimited(int k) const { return unlimited_last_ && k == n_ - 1; }
  bool has(int k, const Counts& f) const {
    return unlimited(k) || f[static_cast<std::size_t>(k)] > 0;
  }
  void take(int k, Counts& f) const {
    if (!unlimited(k)) --f[static_cast<std::size_t>(k)];
  }
  void give(int k, Counts& f) const {
    if (!unlimited(k)) ++f[static_cast<std::size_t>(k)];
  }

  double solve(std::int64_t l, const Counts& f, int level, bool may_move) {
    const auto key = std::make_tuple(l, f, level, may_move);
    const auto found = memo_.find(key);
    if (found != memo_.end()) return found->second;
    double best = inf;
    if (l == 1) {
      best = p_.ub;
    } else {
      // Advance to the last state, reverse it, come back to x_s.
      best =
          static_cast<double>(l - 1) * p_.uf + p_.ub + read(level) + solve(l - 1, f, level, true);
      for (std::int64_t j = 1; j < l; ++j) {
        for (int k = 0; k < n_; ++k) {
          if (!has(k, f)) continue;
          Counts g = f;
          take(k, g);
          const double right = write(k) + solve(l - j, g, k, true);
          const double left = read(level) + solve(j, f, level, true);
          best = std::min(best, static_cast<double>(j) * p_.uf + right + left);
        }
      }
    }
    if (may_move) {
      for (int other = 0; other < n_; ++other) {
        if (other == level || !has(other, f)) continue;
        Counts g = f;
        take(other, g);
        give(level, g);
        best = std::min(best, write(other) + solve(l, g, other, false));
      }
    }
    memo_[key] = best;
    return best;
  }

  int n_;
  Counts c_{};
  bool unlimited_last_;
  Costs p_;
  std::map<std::tuple<std::int64_t, Counts, int, bool>, double> memo_;
};

// Dijkstra over every legal stream: the state is (working state, steps not yet reversed, which
// states each level holds). Slots of a level are interchangeable, so a set of held states per
// level is enough; states at or beyond the unreversed ones are dropped (freeing costs nothing).
// Up to three levels and T <= 15.
double brute_force_optimum(int steps, const std::vector<int>& slots, const Costs& p) {
  const int n = static_cast<int>(slots.size());
  struct Node {
    int working;  // -1: undefined
    int unreversed;
    std::uint32_t held[3];
  };
  const auto encode = [](const Node& node) {
    return (static_cast<std::uint64_t>(node.working + 1) << 56) |
           (static_cast<std::uint64_t>(node.unreversed) << 48) |
           (static_cast<std::uint64_t>(node.held[0]) << 32) |
           (static_cast<std::uint64_t>(node.held[1]) << 16) | node.held[2];
  };
  std::unordered_map<std::uint64_t, double> distance;
  using Entry = std::pair<double, std::uint64_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  std::unordered_map<std::uint64_t, Node> nodes;
  const auto relax = [&](Node node, double d) {
    const std::uint32_t live = (1u << node.unreversed) - 1;
    for (std::uint32_t& held : node.held) held &= live;
    const std::uint64_t key = encode(node);
    const auto it = distance.find(key);
    if (it != distance.end() && it->second <= d) return;
    distance[key] = d;
    nodes[key] = node;
    queue.push({d, key});
  };
  relax(Node{0, steps, {0, 0, 0}}, 0);
  while (!queue.empty()) {
    const auto [d, key] = queue.top();
    queue.pop();
    if (distance[key] < d) continue;
    const Node node = nodes[key];
    if (node.unreversed == 0) return d;
    if (node.working >= 0 && node.working + 1 <= node.unreversed - 1) {
      Node m = node;
      ++m.working;
      relax(m, d + p.uf);
    }
    if (node.working == node.unreversed - 1) {
      Node m = node;
      m.working = -1;
      --m.unreversed;
      relax(m, d + p.ub);
    }
    for (int k = 0; k < n; ++k) {
      const std::size_t index = static_cast<std::size_t>(k);
      const auto count = __builtin_popcount(node.held[k]);
      if (node.working >= 0 && !(node.held[k] >> node.working & 1u) && count < slots[index]) {
        Node m = node;
        m.held[k] |= 1u << node.working;
        relax(m, d + p.write[index]);
      }
      for (int i = 0; i < node.unreversed; ++i) {
        if (!(node.held[k] >> i & 1u)) continue;
        Node m = node;
        m.working = i;
        relax(m, d + p.read[index]);
        m = node;
        m.held[k] &= ~(1u << i);
        relax(m, d);
      }
    }
  }
  return inf;
}

double brute_force_optimum(int steps, int c0, int c1, const Prices& p) {
  return brute_force_optimum(steps, {c0, c1}, costs_of(p));
}

struct Verdict {
  bool legal;
  std::string reason;
  double checked_cost;
  cairn::ScheduleCosts costs;
};

Verdict check_stream(MultilevelRevolve& schedule) {
  const cairn::CheckResult result =
      cairn::check(schedule, schedule.steps(), schedule.slots_per_level());
  return {result.legal, result.reason, cairn::cost(result.costs, schedule.cost_model()),
          result.costs};
}

}  // namespace

TEST_CASE(
    "multilevel: exhaustive over T up to 60 with up to 4 RAM and 6 or unlimited disk slots equals "
    "the reference",
    "[multilevel]") {
  std::int64_t instances = 0;
  for (const Prices& p : price_sets) {
    for (std::int64_t c0 = 0; c0 <= 4; ++c0) {
      for (std::int64_t c1 = 0; c1 <= 7; ++c1) {  // 7 stands for an unlimited disk
        const bool unlimited = c1 == 7;
        if (c0 + c1 == 0) continue;
        ReferenceRecursion reference(c0, unlimited ? 0 : c1, unlimited, p);
        for (std::int64_t steps = 1; steps <= 60; ++steps) {
          MultilevelRevolve schedule(steps,
                                     two_levels(c0, unlimited ? cairn::unlimited_slots : c1, p),
                                     StepCosts{p.uf, p.ub});
          const Verdict verdict = check_stream(schedule);
          INFO("T = " << steps << ", c0 = " << c0 << ", c1 = " << (unlimited ? -1 : c1)
                      << ", prices (" << p.uf << ", " << p.ub << ", " << p.w0 << ", " << p.r0
                      << ", " << p.w1 << ", " << p.r1 << "): " << verdict.reason);
          REQUIRE(verdict.legal);
          REQUIRE(verdict.checked_cost == schedule.optimal_cost());
          REQUIRE(schedule.optimal_cost() == reference.optimum(steps));
          ++instances;
        }
      }
    }
  }
  CHECK(instances == 6 * (5 * 8 - 1) * 60);
}

TEST_CASE("multilevel: the nested class is optimal among all legal streams on small instances",
          "[multilevel]") {
  // Every legal stream, searched exhaustively: T <= 9, up to 3 RAM and 3 disk slots.
  for (const Prices& p : price_sets) {
    for (int c0 = 0; c0 <= 3; ++c0) {
      for (int c1 = 0; c1 <= 3; ++c1) {
        if (c0 + c1 == 0) continue;
        for (int steps = 1; steps <= 9; ++steps) {
          MultilevelRevolve schedule(steps, two_levels(c0, c1, p), StepCosts{p.uf, p.ub});
          INFO("T = " << steps << ", c0 = " << c0 << ", c1 = " << c1 << ", prices (" << p.uf << ", "
                      << p.ub << ", " << p.w0 << ", " << p.r0 << ", " << p.w1 << ", " << p.r1
                      << ")");
          REQUIRE(schedule.optimal_cost() == brute_force_optimum(steps, c0, c1, p));
        }
      }
    }
  }
}

TEST_CASE("multilevel: free storage reduces to Revolve with c0 + c1 slots", "[multilevel]") {
  for (std::int64_t c0 = 0; c0 <= 5; ++c0) {
    for (std::int64_t c1 = 0; c1 <= 6; ++c1) {
      if (c0 + c1 == 0) continue;
      for (std::int64_t steps = 1; steps <= 200; ++steps) {
        MultilevelRevolve schedule(steps, two_levels(c0, c1, Prices{1, 0, 0, 0, 0, 0}));
        const Verdict verdict = check_stream(schedule);
        INFO("T = " << steps << ", c0 = " << c0 << ", c1 = " << c1 << ": " << verdict.reason);
        REQUIRE(verdict.legal);
        REQUIRE(verdict.costs.forward_steps == cairn::forward_cost(steps, c0 + c1));
        REQUIRE(schedule.optimal_cost() == static_cast<double>(verdict.costs.forward_steps));
      }
    }
  }
  // One level only, with free storage: exactly Revolve.
  for (std::int64_t c = 1; c <= 8; ++c) {
    for (std::int64_t steps = 1; steps <= 300; ++steps) {
      MultilevelRevolve schedule(steps, {StorageLevel{c, 0, 0}});
      const Verdict verdict = check_stream(schedule);
      REQUIRE(verdict.legal);
      REQUIRE(verdict.costs.forward_steps == cairn::forward_cost(steps, c));
    }
  }
}

TEST_CASE("multilevel: a level with as many slots as steps is the same as an unlimited one",
          "[multilevel]") {
  const Prices p{1, 1, 0, 0, 2, 3};
  for (std::int64_t steps = 1; steps <= 40; ++steps) {
    MultilevelRevolve unlimited(steps, two_levels(2, cairn::unlimited_slots, p),
                                StepCosts{p.uf, p.ub});
    MultilevelRevolve plenty(steps, two_levels(2, steps, p), StepCosts{p.uf, p.ub});
    REQUIRE(unlimited.optimal_cost() == plenty.optimal_cost());
    REQUIRE(check_stream(plenty).legal);
  }
}

TEST_CASE("multilevel: a finite disk the unlimited plan fits in is planned as unlimited",
          "[multilevel]") {
  // 2000 disk slots for 3000 steps: a table with a disk dimension would take about 2000 times
  // the memory; the unlimited plan needs far fewer disk slots, so it is used, exactly.
  const Prices p{1, 2, 0, 0, 3, 2};
  MultilevelRevolve unlimited(3000, two_levels(6, cairn::unlimited_slots, p),
                              StepCosts{p.uf, p.ub});
  MultilevelRevolve finite(3000, two_levels(6, 2000, p), StepCosts{p.uf, p.ub},
                           std::size_t{64} << 20);
  CHECK(finite.optimal_cost() == unlimited.optimal_cost());
  CHECK(finite.table_bytes() == unlimited.table_bytes());
  const Verdict verdict = check_stream(finite);
  REQUIRE(verdict.legal);
  CHECK(verdict.costs.levels[1].peak_slots <= 2000);
  CHECK(verdict.checked_cost == finite.optimal_cost());
}

TEST_CASE("multilevel: slow disk is used only where it pays", "[multilevel]") {
  // Few RAM slots, a disk whose I/O costs a fraction of a step: the disk takes checkpoints.
  MultilevelRevolve cheap_disk(1000,
                               two_levels(2, cairn::unlimited_slots, Prices{1, 0, 0, 0, 0.5, 0.5}));
  const Verdict cheap = check_stream(cheap_disk);
  REQUIRE(cheap.legal);
  CHECK(cheap.costs.levels[1].stores > 0);
  CHECK(cheap.costs.forward_steps < cairn::forward_cost(1000, 2));
  // A disk dearer than recomputing everything from RAM checkpoints is never touched.
  MultilevelRevolve dear_disk(50, two_levels(10, 10, Prices{1, 0, 0, 0, 1e6, 1e6}));
  const Verdict dear = check_stream(dear_disk);
  REQUIRE(dear.legal);
  CHECK(dear.costs.levels[1].stores == 0);
  CHECK(dear.costs.forward_steps == cairn::forward_cost(50, 10));
}

TEST_CASE("multilevel: a large instance is legal and costs what the plan says", "[multilevel]") {
  const Prices p{1, 2, 0, 0, 3, 2};
  MultilevelRevolve schedule(3000, two_levels(6, cairn::unlimited_slots, p), StepCosts{p.uf, p.ub});
  const Verdict verdict = check_stream(schedule);
  REQUIRE(verdict.legal);
  CHECK(verdict.checked_cost == schedule.optimal_cost());
  CHECK(schedule.table_bytes() > 0);
  // reset() replays the same stream.
  schedule.reset();
  const Verdict again = check_stream(schedule);
  CHECK(again.checked_cost == verdict.checked_cost);
}

TEST_CASE("multilevel: bad input is refused with a clear message", "[multilevel]") {
  const auto message = [](auto&& make) {
    try {
      make();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  using Catch::Matchers::Contains;
  CHECK_THAT(message([] { MultilevelRevolve(0, {StorageLevel{3}}); }),
             Contains("steps = 0 is not allowed"));
  CHECK_THAT(message([] { MultilevelRevolve(10, {}); }), Contains("give one, two or three"));
  CHECK_THAT(message([] {
               MultilevelRevolve(10, {StorageLevel{0}, StorageLevel{0}});
             }),
             Contains("at least one slot"));
  CHECK_THAT(message([] { MultilevelRevolve(10, {StorageLevel{-2}}); }),
             Contains("level 0 has -2 slots"));
  CHECK_THAT(message([] {
               MultilevelRevolve(10, {StorageLevel{cairn::unlimited_slots}, StorageLevel{1}});
             }),
             Contains("only the last level may be unlimited"));
  CHECK_THAT(message([] {
               MultilevelRevolve(10, {StorageLevel{2, 0, -1}});
             }),
             Contains("level 0 read cost"));
  CHECK_THAT(message([] {
               MultilevelRevolve(10, {StorageLevel{2}}, StepCosts{std::nan(""), 0});
             }),
             Contains("forward step cost"));
  CHECK_THAT(message([] {
               MultilevelRevolve(100000, {StorageLevel{1000}, StorageLevel{1000}}, StepCosts{},
                                 std::size_t{1} << 20);
             }),
             Contains("planning tables"));
  // One step needs no slot at all.
  MultilevelRevolve one(1, {StorageLevel{0}});
  CHECK(check_stream(one).legal);
}

TEST_CASE("multilevel: tables above max_table_bytes are refused with the bytes they need",
          "[multilevel]") {
  REQUIRE_THROWS_WITH(cairn::MultilevelRevolve(
                          100000, {cairn::StorageLevel{100, 0, 0}, cairn::StorageLevel{100, 1, 1}},
                          cairn::StepCosts{1, 0}, 1000),
                      Catch::Contains("would take 404804048 bytes") &&
                          Catch::Contains("or a max_table_bytes of at least 404804048"));
  REQUIRE_THROWS_AS(cairn::MultilevelRevolve(100000, {cairn::StorageLevel{100, 0, 0}},
                                             cairn::StepCosts{1, 0}, 1000),
                    std::length_error);
}

TEST_CASE("multilevel: slot counts near 2^63 do not overflow (found by the C API fuzzer)",
          "[multilevel]") {
  // Summing the levels' slots overflowed for T and slots near 2^63 (UBSan: signed overflow).
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  REQUIRE_THROWS_AS(cairn::MultilevelRevolve(kMax - 1, {cairn::StorageLevel{kMax - 1, 0, 0},
                                                        cairn::StorageLevel{4, 1, 1}}),
                    std::length_error);
  // With as many slots as steps on the first level it is store-all, T = 3.
  const cairn::MultilevelRevolve small(
      3, {cairn::StorageLevel{kMax - 1, 0, 0}, cairn::StorageLevel{kMax, 1, 1}});
  REQUIRE(small.optimal_cost() == 2);
}

TEST_CASE(
    "multilevel: costs whose cheapest plan overflows a double are refused (found by the "
    "C API fuzzer)",
    "[multilevel]") {
  // Every plan of 10 steps at 1e308 per forward step costs more than the largest double.
  REQUIRE_THROWS_WITH(
      cairn::MultilevelRevolve(10, {cairn::StorageLevel{2, 0, 0}}, cairn::StepCosts{1e308, 0}),
      Catch::Contains("exceeds the largest double"));
  // A dear disk that the cheapest plan avoids is fine: that plan's cost is finite.
  const cairn::MultilevelRevolve avoids(
      10,
      {cairn::StorageLevel{3, 0, 0}, cairn::StorageLevel{cairn::unlimited_slots, 1e308, 1e308}});
  REQUIRE(avoids.optimal_cost() == cairn::forward_cost(10, 3));
}

// Three levels: device memory, pinned host memory, disk.
namespace {

// Cost sets (uf, ub, then write and read of each level), all dyadic.
const std::vector<Costs> three_level_prices = {
    {1, 0, {0, 0, 0}, {0, 0, 0}},            // free storage: Revolve with c0 + c1 + c2 slots
    {1, 1, {0, 1, 4}, {0, 1, 4}},            // each level dearer than the one above
    {1, 0, {0.5, 2, 8}, {0.5, 1, 2}},        // writes dearer than reads
    {2, 1, {0, 3, 1}, {0, 0.5, 6}},          // the last level writes cheaper than the middle one
    {1, 3, {0.25, 0.5, 5}, {0.25, 2, 10}},   // costly adjoint, slow reads
    {1, 0, {0, 1.5, 0.75}, {0, 0.75, 1.5}},  // fractional prices, crossed
};

std::vector<StorageLevel> three_levels(std::int64_t c0, std::int64_t c1, std::int64_t c2,
                                       const Costs& p) {
  return {StorageLevel{c0, p.write[0], p.read[0]}, StorageLevel{c1, p.write[1], p.read[1]},
          StorageLevel{c2, p.write[2], p.read[2]}};
}

std::string describe(const Costs& p) {
  std::string text = "uf " + std::to_string(p.uf) + ", ub " + std::to_string(p.ub);
  for (std::size_t k = 0; k < p.write.size(); ++k) {
    text += ", level " + std::to_string(k) + " w " + std::to_string(p.write[k]) + " r " +
            std::to_string(p.read[k]);
  }
  return text;
}

}  // namespace

TEST_CASE(
    "multilevel: three levels, exhaustive over T up to 7 with up to 2 slots per level: the plan "
    "is the cheapest nested stream and the cheapest of all legal streams",
    "[multilevel]") {
  std::int64_t instances = 0;
  std::int64_t beaten = 0;
  for (const Costs& p : three_level_prices) {
    for (int c0 = 0; c0 <= 2; ++c0) {
      for (int c1 = 0; c1 <= 2; ++c1) {
        for (int c2 = 0; c2 <= 2; ++c2) {
          if (c0 + c1 + c2 == 0) continue;
          ReferenceRecursion nested({c0, c1, c2}, false, p);
          for (int steps = 1; steps <= 7; ++steps) {
            MultilevelRevolve schedule(steps, three_levels(c0, c1, c2, p), StepCosts{p.uf, p.ub});
            const Verdict verdict = check_stream(schedule);
            INFO("T = " << steps << ", slots " << c0 << "/" << c1 << "/" << c2 << ", "
                        << describe(p) << ": " << verdict.reason);
            REQUIRE(verdict.legal);
            REQUIRE(verdict.costs.levels.size() == 3);
            REQUIRE(verdict.costs.levels[0].peak_slots <= c0);
            REQUIRE(verdict.costs.levels[1].peak_slots <= c1);
            REQUIRE(verdict.costs.levels[2].peak_slots <= c2);
            REQUIRE(verdict.checked_cost == schedule.optimal_cost());
            REQUIRE(schedule.optimal_cost() == nested.optimum(steps));
            const double best = brute_force_optimum(steps, {c0, c1, c2}, p);
            REQUIRE(best <= schedule.optimal_cost());
            if (best < schedule.optimal_cost()) ++beaten;
            ++instances;
          }
        }
      }
    }
  }
  CHECK(instances == 6 * 26 * 7);
  // No instance is beaten: the nested class holds an optimal stream on every one of them.
  CHECK(beaten == 0);
}

TEST_CASE("multilevel: three levels with an unlimited last level equal the nested reference",
          "[multilevel]") {
  for (const Costs& p : three_level_prices) {
    for (std::int64_t c0 = 0; c0 <= 3; ++c0) {
      for (std::int64_t c1 = 0; c1 <= 3; ++c1) {
        ReferenceRecursion nested({c0, c1, 0}, true, p);
        for (std::int64_t steps = 1; steps <= 40; ++steps) {
          MultilevelRevolve schedule(steps, three_levels(c0, c1, cairn::unlimited_slots, p),
                                     StepCosts{p.uf, p.ub});
          const Verdict verdict = check_stream(schedule);
          INFO("T = " << steps << ", slots " << c0 << "/" << c1 << "/unlimited, " << describe(p)
                      << ": " << verdict.reason);
          REQUIRE(verdict.legal);
          REQUIRE(verdict.costs.levels[0].peak_slots <= c0);
          REQUIRE(verdict.costs.levels[1].peak_slots <= c1);
          REQUIRE(verdict.checked_cost == schedule.optimal_cost());
          REQUIRE(schedule.optimal_cost() == nested.optimum(steps));
        }
      }
    }
  }
}

TEST_CASE("multilevel: three levels with free storage are Revolve with c0 + c1 + c2 slots",
          "[multilevel]") {
  const Costs free_io{1, 0, {0, 0, 0}, {0, 0, 0}};
  std::int64_t instances = 0;
  for (std::int64_t c0 = 0; c0 <= 2; ++c0) {
    for (std::int64_t c1 = 0; c1 <= 2; ++c1) {
      for (std::int64_t c2 = 0; c2 <= 2; ++c2) {
        if (c0 + c1 + c2 == 0) continue;
        for (std::int64_t steps = 1; steps <= 80; ++steps) {
          MultilevelRevolve schedule(steps, three_levels(c0, c1, c2, free_io));
          const Verdict verdict = check_stream(schedule);
          INFO("T = " << steps << ", slots " << c0 << "/" << c1 << "/" << c2 << ": "
                      << verdict.reason);
          REQUIRE(verdict.legal);
          REQUIRE(verdict.costs.forward_steps == cairn::forward_cost(steps, c0 + c1 + c2));
          REQUIRE(schedule.optimal_cost() == static_cast<double>(verdict.costs.forward_steps));
          ++instances;
        }
      }
    }
  }
  CHECK(instances == 26 * 80);
  // Larger T with uneven splits.
  const std::int64_t splits[][3] = {{1, 2, 3}, {3, 0, 4}, {2, 5, 1}, {0, 1, 6}, {4, 4, 4}};
  for (const auto& c : splits) {
    for (const std::int64_t steps : {100, 257, 500}) {
      MultilevelRevolve schedule(steps, three_levels(c[0], c[1], c[2], free_io));
      const Verdict verdict = check_stream(schedule);
      INFO("T = " << steps << ", slots " << c[0] << "/" << c[1] << "/" << c[2]);
      REQUIRE(verdict.legal);
      REQUIRE(verdict.costs.forward_steps == cairn::forward_cost(steps, c[0] + c[1] + c[2]));
    }
  }
}

TEST_CASE("multilevel: a third level with no slot plans as the two levels above it",
          "[multilevel]") {
  for (const Costs& p : three_level_prices) {
    for (std::int64_t steps = 1; steps <= 60; ++steps) {
      const std::vector<StorageLevel> three = three_levels(2, 3, 0, p);
      MultilevelRevolve with_empty(steps, three, StepCosts{p.uf, p.ub});
      MultilevelRevolve two(steps, {three[0], three[1]}, StepCosts{p.uf, p.ub});
      REQUIRE(with_empty.optimal_cost() == two.optimal_cost());
    }
  }
}

TEST_CASE(
    "multilevel: three levels at T = 2000 (4 device, 8 host slots, unlimited disk) are legal, "
    "within their slots and cost what the plan says",
    "[multilevel]") {
  for (const Costs& p : {three_level_prices[1], three_level_prices[3], three_level_prices[5]}) {
    MultilevelRevolve schedule(2000, three_levels(4, 8, cairn::unlimited_slots, p),
                               StepCosts{p.uf, p.ub});
    const Verdict verdict = check_stream(schedule);
    INFO(describe(p) << ": " << verdict.reason);
    REQUIRE(verdict.legal);
    CHECK(verdict.costs.levels[0].peak_slots <= 4);
    CHECK(verdict.costs.levels[1].peak_slots <= 8);
    CHECK(verdict.checked_cost == schedule.optimal_cost());
    // Slower levels only add options: never dearer than the device and host alone.
    MultilevelRevolve two(
        2000, {StorageLevel{4, p.write[0], p.read[0]}, StorageLevel{8, p.write[1], p.read[1]}},
        StepCosts{p.uf, p.ub});
    CHECK(schedule.optimal_cost() <= two.optimal_cost());
  }
  // A finite disk that binds: the table gets its third dimension.
  const Costs& p = three_level_prices[1];
  MultilevelRevolve finite(1000, three_levels(2, 3, 4, p), StepCosts{p.uf, p.ub});
  const Verdict verdict = check_stream(finite);
  REQUIRE(verdict.legal);
  CHECK(verdict.costs.levels[0].peak_slots <= 2);
  CHECK(verdict.costs.levels[1].peak_slots <= 3);
  CHECK(verdict.costs.levels[2].peak_slots <= 4);
  CHECK(verdict.checked_cost == finite.optimal_cost());
  CHECK(finite.table_bytes() == (7u * 3u * 4u * 5u + 1u) * 1001u * sizeof(double));
}

TEST_CASE("multilevel: three-level errors name what is wrong", "[multilevel]") {
  const StorageLevel one{1, 0, 0};
  REQUIRE_THROWS_WITH(MultilevelRevolve(10, {one, one, one, one}),
                      Catch::Contains("4 storage levels given; give one, two or three"));
  REQUIRE_THROWS_AS(MultilevelRevolve(10, {one, one, one, one}), std::invalid_argument);
  REQUIRE_THROWS_WITH(MultilevelRevolve(10, {one, StorageLevel{cairn::unlimited_slots, 1, 1}, one}),
                      Catch::Contains("only the last level may be unlimited"));
  REQUIRE_THROWS_WITH(MultilevelRevolve(10, {one, one, StorageLevel{2, -1, 0}}),
                      Catch::Contains("level 2 write cost = -1.000000 is not allowed"));
  REQUIRE_THROWS_WITH(MultilevelRevolve(10, {one, StorageLevel{2, 0, -0.5}, one}),
                      Catch::Contains("level 1 read cost = -0.500000 is not allowed"));
  REQUIRE_THROWS_AS(MultilevelRevolve(10, {one, one, StorageLevel{2, -1, 0}}),
                    std::invalid_argument);
  // The unlimited plan of the last level is tried first: 7 tables of 101 x 101 cells.
  REQUIRE_THROWS_WITH(
      MultilevelRevolve(100000,
                        {StorageLevel{100, 0, 0}, StorageLevel{100, 1, 1}, StorageLevel{100, 2, 2}},
                        StepCosts{1, 0}, 1000),
      Catch::Contains("would take 57126971264 bytes (71408 x 100001 doubles)"));
  REQUIRE_THROWS_AS(
      MultilevelRevolve(100000,
                        {StorageLevel{100, 0, 0}, StorageLevel{100, 1, 1}, StorageLevel{100, 2, 2}},
                        StepCosts{1, 0}, 1000),
      std::length_error);
  // Unlimited on the last of three is fine, and so is a first level of 0 slots.
  MultilevelRevolve fine(30, {StorageLevel{0}, one, StorageLevel{cairn::unlimited_slots, 1, 1}});
  CHECK(check_stream(fine).legal);
}
