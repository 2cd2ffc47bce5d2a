// MultilevelRevolve: legality, exact optimal cost against two independent references (a plain
// memoised recursion, and a shortest-path search over every legal stream), and the reduction to
// Revolve when storage is free.
#include <algorithm>
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
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/multilevel.hpp"

namespace {

using cairn::MultilevelRevolve;
using cairn::StepCosts;
using cairn::StorageLevel;

constexpr double inf = std::numeric_limits<double>::infinity();

// Cost sets (uf, ub, w0, r0, w1, r1). All are dyadic fractions, so every sum is exact and costs
// compare with ==.
struct Prices {
  double uf, ub, w0, r0, w1, r1;
};
const std::vector<Prices> price_sets = {
    {1, 0, 0, 0, 0, 0},       // free storage: Revolve with c0 + c1 slots
    {1, 1, 0, 0, 2, 2},       // a disk as slow as two steps
    {1, 0, 0, 0, 5, 1},       // expensive writes, cheap reads
    {2, 1, 0.5, 0.5, 3, 7},   // RAM not free, reads dearer than writes
    {1, 3, 0, 0, 0.25, 10},   // costly adjoint, very slow reads
    {1, 0, 0, 0, 1.5, 0.75},  // fractional prices
};

std::vector<StorageLevel> two_levels(std::int64_t c0, std::int64_t c1, const Prices& p) {
  return {StorageLevel{c0, p.w0, p.r0}, StorageLevel{c1, p.w1, p.r1}};
}

// The recursion of docs/multilevel.md, written directly from its definition: literal slot counts
// (no capping), a map as memo, and each option summed in its own order.
class ReferenceRecursion {
 public:
  ReferenceRecursion(std::int64_t c0, std::int64_t c1, bool unlimited_disk, const Prices& p)
      : c_{c0, c1}, unlimited_disk_(unlimited_disk), p_(p) {}

  double optimum(std::int64_t steps) {
    if (steps == 1) return p_.ub;
    double best = inf;
    for (int k = 0; k < 2; ++k) {
      if (!has(k, c_[0], c_[1])) continue;
      std::int64_t a = c_[0], b = c_[1];
      take(k, a, b);
      best = std::min(best, write(k) + solve(steps, a, b, k, true));
    }
    return best;
  }

 private:
  double write(int k) const { return k == 0 ? p_.w0 : p_.w1; }
  double read(int k) const { return k == 0 ? p_.r0 : p_.r1; }
  bool has(int k, std::int64_t a, std::int64_t b) const {
    return k == 0 ? a > 0 : (unlimited_disk_ || b > 0);
  }
  void take(int k, std::int64_t& a, std::int64_t& b) const {
    if (k == 0) {
      --a;
    } else if (!unlimited_disk_) {
      --b;
    }
  }
  void give(int k, std::int64_t& a, std::int64_t& b) const {
    if (k == 0) {
      ++a;
    } else if (!unlimited_disk_) {
      ++b;
    }
  }

  double solve(std::int64_t l, std::int64_t a, std::int64_t b, int level, bool may_move) {
    const auto key = std::make_tuple(l, a, b, level, may_move);
    const auto found = memo_.find(key);
    if (found != memo_.end()) return found->second;
    double best = inf;
    if (l == 1) {
      best = p_.ub;
    } else {
      // Advance to the last state, reverse it, come back to x_s.
      best = static_cast<double>(l - 1) * p_.uf + p_.ub + read(level) +
             solve(l - 1, a, b, level, true);
      for (std::int64_t j = 1; j < l; ++j) {
        for (int k = 0; k < 2; ++k) {
          if (!has(k, a, b)) continue;
          std::int64_t a2 = a, b2 = b;
          take(k, a2, b2);
          const double right = write(k) + solve(l - j, a2, b2, k, true);
          const double left = read(level) + solve(j, a, b, level, true);
          best = std::min(best, static_cast<double>(j) * p_.uf + right + left);
        }
      }
    }
    if (may_move) {
      const int other = 1 - level;
      if (has(other, a, b)) {
        std::int64_t a2 = a, b2 = b;
        take(other, a2, b2);
        give(level, a2, b2);
        best = std::min(best, write(other) + solve(l, a2, b2, other, false));
      }
    }
    memo_[key] = best;
    return best;
  }

  std::int64_t c_[2];
  bool unlimited_disk_;
  Prices p_;
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, int, bool>, double> memo_;
};

// Dijkstra over every legal stream: the state is (working state, steps not yet reversed, which
// states each level holds). Slots of a level are interchangeable, so a set of held states per
// level is enough; states at or beyond the unreversed ones are dropped (freeing costs nothing).
double brute_force_optimum(int steps, int c0, int c1, const Prices& p) {
  struct Node {
    int working;  // -1: undefined
    int unreversed;
    std::uint32_t held[2];
  };
  const auto encode = [](const Node& n) {
    return (static_cast<std::uint64_t>(n.working + 1) << 56) |
           (static_cast<std::uint64_t>(n.unreversed) << 48) |
           (static_cast<std::uint64_t>(n.held[0]) << 24) | n.held[1];
  };
  const int slots[2] = {c0, c1};
  const double write[2] = {p.w0, p.w1};
  const double read[2] = {p.r0, p.r1};
  std::unordered_map<std::uint64_t, double> distance;
  using Entry = std::pair<double, std::uint64_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  std::unordered_map<std::uint64_t, Node> nodes;
  const auto relax = [&](Node n, double d) {
    const std::uint32_t live = (n.unreversed >= 32) ? ~0u : ((1u << n.unreversed) - 1);
    n.held[0] &= live;
    n.held[1] &= live;
    const std::uint64_t key = encode(n);
    const auto it = distance.find(key);
    if (it != distance.end() && it->second <= d) return;
    distance[key] = d;
    nodes[key] = n;
    queue.push({d, key});
  };
  relax(Node{0, steps, {0, 0}}, 0);
  while (!queue.empty()) {
    const auto [d, key] = queue.top();
    queue.pop();
    if (distance[key] < d) continue;
    const Node n = nodes[key];
    if (n.unreversed == 0) return d;
    if (n.working >= 0 && n.working + 1 <= n.unreversed - 1) {
      Node m = n;
      ++m.working;
      relax(m, d + p.uf);
    }
    if (n.working == n.unreversed - 1) {
      Node m = n;
      m.working = -1;
      --m.unreversed;
      relax(m, d + p.ub);
    }
    for (int k = 0; k < 2; ++k) {
      const auto count = __builtin_popcount(n.held[k]);
      if (n.working >= 0 && !(n.held[k] >> n.working & 1u) && count < slots[k]) {
        Node m = n;
        m.held[k] |= 1u << n.working;
        relax(m, d + write[k]);
      }
      for (int i = 0; i < n.unreversed; ++i) {
        if (!(n.held[k] >> i & 1u)) continue;
        Node m = n;
        m.working = i;
        relax(m, d + read[k]);
        m = n;
        m.held[k] &= ~(1u << i);
        relax(m, d);
      }
    }
  }
  return inf;
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
  CHECK_THAT(message([] { MultilevelRevolve(10, {}); }), Contains("give one or two"));
  CHECK_THAT(message([] {
               MultilevelRevolve(10, {StorageLevel{1}, StorageLevel{1}, StorageLevel{1}});
             }),
             Contains("3 storage levels"));
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
