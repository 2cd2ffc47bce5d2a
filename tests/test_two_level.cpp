// TwoLevelRevolve: every stream legal with the slots given and costing exactly what the plan says,
// the same optimum as MultilevelRevolve's wider nested class on a grid of instances, the periodic
// closed form equal to the direct dynamic program, and long runs in constant memory.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "burgers1d/burgers.hpp"
#include "burgers_runs.hpp"
#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/store_all.hpp"
#include "cairn/two_level.hpp"
#include "multilevel_prices.hpp"
#include "schedules/two_level_plan.hpp"

namespace {

using cairn::MultilevelRevolve;
using cairn::StepCosts;
using cairn::StorageLevel;
using cairn::TwoLevelRevolve;
using cairn::unlimited_slots;

using multilevel_prices::price_sets;
using multilevel_prices::Prices;

// Replays the stream through the checker and requires: legal with slots_per_level(), the
// checker's cost equal to optimal_cost() and its counts equal to expected_costs().
void require_stream_as_planned(TwoLevelRevolve& schedule) {
  schedule.reset();
  const cairn::CheckResult result =
      cairn::check(schedule, schedule.steps(), schedule.slots_per_level());
  INFO("T = " << schedule.steps() << ": " << result.reason);
  REQUIRE(result.legal);
  REQUIRE(cairn::cost(result.costs, schedule.cost_model()) == schedule.optimal_cost());
  const cairn::ScheduleCosts& expected = schedule.expected_costs();
  REQUIRE(result.costs.actions == expected.actions);
  REQUIRE(result.costs.forward_steps == expected.forward_steps);
  REQUIRE(result.costs.reverses == expected.reverses);
  for (std::size_t k = 0; k < 2; ++k) {
    REQUIRE(result.costs.levels[k].stores == expected.levels[k].stores);
    REQUIRE(result.costs.levels[k].restores == expected.levels[k].restores);
    REQUIRE(result.costs.levels[k].peak_slots == expected.levels[k].peak_slots);
  }
  REQUIRE(expected.levels[1].stores == schedule.disk_checkpoints());
}

TEST_CASE("two-level: the same optimum as the nested class on every small instance",
          "[two_level]") {
  // 6 price sets x 5 RAM counts x 6 disk counts x T = 1..45, less the 44 with no slot at all
  // (T >= 2, c0 = c1 = 0): 7836 instances, exact equality.
  int compared = 0;
  for (const Prices& p : price_sets) {
    for (const std::int64_t c0 : {0, 1, 2, 3, 5}) {
      for (const std::int64_t c1 : {std::int64_t{0}, std::int64_t{1}, std::int64_t{2},
                                    std::int64_t{3}, std::int64_t{6}, unlimited_slots}) {
        for (std::int64_t steps = 1; steps <= 45; ++steps) {
          if (steps >= 2 && c0 + (c1 == unlimited_slots ? 1 : c1) == 0) continue;
          const StorageLevel ram{c0, p.w0, p.r0};
          const StorageLevel disk{c1, p.w1, p.r1};
          const StepCosts step{p.uf, p.ub};
          TwoLevelRevolve schedule(steps, ram, disk, step);
          const MultilevelRevolve nested(steps, {ram, disk}, step);
          INFO("T = " << steps << ", c0 = " << c0 << ", c1 = " << c1 << ", disk prices " << p.w1
                      << "/" << p.r1);
          REQUIRE(schedule.proven_optimal());
          REQUIRE(schedule.optimal_cost() == nested.optimal_cost());
          require_stream_as_planned(schedule);
          ++compared;
        }
      }
    }
  }
  REQUIRE(compared == 6 * (5 * 6 * 45 - 44));
}

TEST_CASE("two-level: the same optimum as the nested class on larger instances", "[two_level]") {
  struct Case {
    std::int64_t steps, c0, c1;
  };
  const Case cases[] = {{300, 2, 4},  {500, 5, unlimited_slots},
                        {800, 3, 10}, {1000, 10, unlimited_slots},
                        {1200, 4, 6}, {700, 1, 25}};
  for (const Case& c : cases) {
    for (const std::size_t set : {std::size_t{1}, std::size_t{3}, std::size_t{4}}) {
      const Prices& p = price_sets[set];
      const StorageLevel ram{c.c0, p.w0, p.r0};
      const StorageLevel disk{c.c1, p.w1, p.r1};
      TwoLevelRevolve schedule(c.steps, ram, disk, StepCosts{p.uf, p.ub});
      const MultilevelRevolve nested(c.steps, {ram, disk}, StepCosts{p.uf, p.ub});
      INFO("T = " << c.steps << ", c0 = " << c.c0 << ", c1 = " << c.c1 << ", price set " << set);
      REQUIRE(schedule.optimal_cost() == nested.optimal_cost());
      require_stream_as_planned(schedule);
    }
  }
}

TEST_CASE("two-level: free storage is Revolve with c0 + c1 slots", "[two_level]") {
  for (const std::int64_t steps : {50, 333, 1000}) {
    for (const std::int64_t c0 : {0, 1, 3, 8}) {
      for (const std::int64_t c1 : {1, 2, 5}) {
        TwoLevelRevolve schedule(steps, StorageLevel{c0, 0, 0}, StorageLevel{c1, 0, 0});
        REQUIRE(schedule.expected_costs().forward_steps == cairn::forward_cost(steps, c0 + c1));
        require_stream_as_planned(schedule);
      }
    }
  }
}

TEST_CASE("two-level: the periodic closed form equals the direct program", "[two_level]") {
  using cairn::two_level_detail::plan_two_level;
  using cairn::two_level_detail::PlanOptions;
  using cairn::two_level_detail::SegmentTables;
  int periodic = 0;
  for (const std::size_t set : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{5}}) {
    const Prices& p = price_sets[set];
    const cairn::two_level_detail::Prices prices{p.uf, p.ub, p.w0, p.r0, p.w1, p.r1};
    for (const std::int64_t c0 : {1, 4, 10}) {
      for (std::int64_t steps = 2000; steps <= 2000 + 40 * 37; steps += 37) {
        SegmentTables tables(prices, c0);
        PlanOptions direct;
        direct.max_direct_work = std::numeric_limits<double>::infinity();
        PlanOptions closed_form;
        closed_form.max_direct_work = 0;
        const auto by_program = plan_two_level(steps, steps, tables, direct);
        const auto by_residues = plan_two_level(steps, steps, tables, closed_form);
        INFO("T = " << steps << ", c0 = " << c0 << ", price set " << set);
        REQUIRE(by_program.period == 0);
        REQUIRE(by_program.value == by_residues.value);
        periodic += by_residues.period > 0;
      }
    }
  }
  // The closed form needs T at least its longest residue path plus M; it did on most instances.
  REQUIRE(periodic >= 400);
}

TEST_CASE("two-level: a million steps plan at once and replay as planned", "[two_level]") {
  TwoLevelRevolve schedule(1000000, StorageLevel{10, 0, 0}, StorageLevel{unlimited_slots, 2, 2},
                           StepCosts{1, 1});
  REQUIRE(schedule.period() > 0);
  REQUIRE(schedule.proven_optimal());
  // The tables cover the longest useful segment, not the chain.
  REQUIRE(schedule.table_bytes() < (std::size_t{1} << 20));
  require_stream_as_planned(schedule);
  // Cost per step against the same plan for a tenth of the chain: periodic, so within a hair.
  TwoLevelRevolve tenth(100000, StorageLevel{10, 0, 0}, StorageLevel{unlimited_slots, 2, 2},
                        StepCosts{1, 1});
  REQUIRE(schedule.optimal_cost() / 1e6 == Approx(tenth.optimal_cost() / 1e5).epsilon(1e-4));
}

TEST_CASE("two-level: 10^9 steps plan in constant memory", "[two_level]") {
  TwoLevelRevolve schedule(1000000000, StorageLevel{20, 0, 0}, StorageLevel{unlimited_slots, 4, 4},
                           StepCosts{1, 0});
  REQUIRE(schedule.period() > 0);
  REQUIRE(schedule.table_bytes() < (std::size_t{4} << 20));
  // Its first actions: x_0 to disk, then the first forward sweep between disk checkpoints.
  const cairn::Action first = schedule.next();
  REQUIRE(first.kind == cairn::ActionKind::store);
  REQUIRE(first.level == 1);
  REQUIRE(schedule.expected_costs().reverses == 1000000000);
}

TEST_CASE("two-level: 10^18 steps plan, streams whose counts exceed 64 bits are refused",
          "[two_level]") {
  const StorageLevel ram{10, 0, 0};
  const StorageLevel disk{unlimited_slots, 2, 2};
  TwoLevelRevolve huge(1000000000000000000, ram, disk, StepCosts{1, 1});
  REQUIRE(huge.expected_costs().reverses == 1000000000000000000);
  REQUIRE(huge.period() == 11);
  REQUIRE_THROWS_AS(TwoLevelRevolve(4000000000000000000, ram, disk, StepCosts{1, 1}),
                    std::overflow_error);
  REQUIRE_THROWS_WITH(
      TwoLevelRevolve(std::numeric_limits<std::int64_t>::max(), ram, disk, StepCosts{1, 1}),
      Catch::Contains("exceed 2^63 - 1"));
  REQUIRE_THROWS_AS(TwoLevelRevolve(100, ram, disk, StepCosts{1, 1},
                                    std::numeric_limits<std::int64_t>::max() / 2),
                    std::overflow_error);
}

TEST_CASE("two-level: a finite disk is never overfilled", "[two_level]") {
  for (const std::int64_t c1 : {1, 2, 5, 20, 60}) {
    TwoLevelRevolve schedule(3000, StorageLevel{6, 0, 0}, StorageLevel{c1, 2, 2}, StepCosts{1, 1});
    REQUIRE(schedule.expected_costs().levels[1].peak_slots <= c1);
    require_stream_as_planned(schedule);
  }
}

TEST_CASE("two-level: reset replays the same stream, batches equal single actions", "[two_level]") {
  TwoLevelRevolve schedule(5000, StorageLevel{4, 0, 0}, StorageLevel{unlimited_slots, 3, 1});
  std::vector<cairn::Action> one_by_one;
  for (cairn::Action a = schedule.next();; a = schedule.next()) {
    one_by_one.push_back(a);
    if (a.kind == cairn::ActionKind::end) break;
  }
  REQUIRE(schedule.next().kind == cairn::ActionKind::end);
  schedule.reset();
  std::vector<cairn::Action> batched(one_by_one.size() + 10);
  std::size_t got = 0;
  while (got == 0 || batched[got - 1].kind != cairn::ActionKind::end) {
    got += schedule.next_actions(batched.data() + got, 7);
  }
  REQUIRE(got == one_by_one.size());
  for (std::size_t i = 0; i < got; ++i) {
    REQUIRE(batched[i].kind == one_by_one[i].kind);
    REQUIRE(batched[i].step == one_by_one[i].step);
    REQUIRE(batched[i].to == one_by_one[i].to);
    REQUIRE(batched[i].slot == one_by_one[i].slot);
    REQUIRE(batched[i].level == one_by_one[i].level);
  }
}

TEST_CASE("two-level: bad input is refused with a clear message", "[two_level]") {
  const StorageLevel ram{4, 0, 0};
  const StorageLevel disk{unlimited_slots, 2, 2};
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(TwoLevelRevolve(0, ram, disk), Contains("steps = 0 is not allowed"));
  REQUIRE_THROWS_WITH(TwoLevelRevolve(10, StorageLevel{-1, 0, 0}, disk),
                      Contains("-1 RAM slots is not allowed"));
  REQUIRE_THROWS_WITH(TwoLevelRevolve(10, StorageLevel{unlimited_slots, 0, 0}, disk),
                      Contains("only the disk may be unlimited"));
  REQUIRE_THROWS_WITH(TwoLevelRevolve(10, ram, StorageLevel{-2, 0, 0}),
                      Contains("-2 disk slots is not allowed"));
  REQUIRE_THROWS_WITH(TwoLevelRevolve(10, StorageLevel{0, 0, 0}, StorageLevel{0, 0, 0}),
                      Contains("need at least one slot"));
  REQUIRE_THROWS_WITH(TwoLevelRevolve(10, ram, disk, StepCosts{1, 0}, 0),
                      Contains("sweeps = 0 is not allowed"));
  REQUIRE_THROWS_WITH(TwoLevelRevolve(1, StorageLevel{0, 0, 0}, StorageLevel{0, 0, 0}, {}, 2),
                      Contains("need at least one slot"));
  REQUIRE_THROWS_WITH(TwoLevelRevolve(10, ram, disk, StepCosts{0, 0}),
                      Contains("forward step cost = 0.000000 is not allowed"));
  REQUIRE_THROWS_WITH(TwoLevelRevolve(10, ram, StorageLevel{3, -1, 0}),
                      Contains("disk write cost"));
  REQUIRE_THROWS_WITH(
      TwoLevelRevolve(10, ram, StorageLevel{3, 0, std::numeric_limits<double>::infinity()}),
      Contains("disk read cost"));
  // A finite disk too small for the periodic plan needs tables over the chain: refused with
  // their size when they exceed the limit.
  REQUIRE_THROWS_AS(
      TwoLevelRevolve(100000, ram, StorageLevel{3, 2, 2}, StepCosts{1, 1}, 1, 1 << 20),
      std::length_error);
  REQUIRE_THROWS_WITH(
      TwoLevelRevolve(100000, ram, StorageLevel{3, 2, 2}, StepCosts{1, 1}, 1, 1 << 20),
      Contains("bytes, more than the 1048576 allowed"));
}

TEST_CASE("two-level: one step, RAM only and disk only", "[two_level]") {
  TwoLevelRevolve one(1, StorageLevel{0, 0, 0}, StorageLevel{0, 0, 0}, StepCosts{1, 2});
  REQUIRE(one.optimal_cost() == 2);
  require_stream_as_planned(one);
  TwoLevelRevolve ram_only(200, StorageLevel{5, 0, 0}, StorageLevel{0, 1, 1});
  REQUIRE(ram_only.disk_checkpoints() == 0);
  REQUIRE(ram_only.expected_costs().forward_steps == cairn::forward_cost(200, 5));
  require_stream_as_planned(ram_only);
  TwoLevelRevolve disk_only(200, StorageLevel{0, 0, 0}, StorageLevel{5, 1, 1});
  REQUIRE(disk_only.expected_costs().levels[0].stores == 0);
  require_stream_as_planned(disk_only);
}

// The one-level recursions written directly from their definition (a map as memo): Q(l, free)
// from a RAM-held start, R(l) from a disk-held one (re-read it, split into RAM, or copy it to
// RAM first). With them, the cost of every cut of a chain into segments, for several sweeps.
class ReferenceSegments {
 public:
  ReferenceSegments(std::int64_t ram_slots, const Prices& p) : c0_(ram_slots), p_(p) {}

  double q(std::int64_t l, std::int64_t free) {
    const auto key = std::make_pair(l, free);
    if (const auto found = q_memo_.find(key); found != q_memo_.end()) return found->second;
    double best = p_.ub;
    if (l >= 2) {
      best = (l - 1) * p_.uf + p_.ub + p_.r0 + q(l - 1, free);
      for (std::int64_t j = 1; j < l && free >= 1; ++j) {
        best = std::min(best, j * p_.uf + p_.w0 + q(l - j, free - 1) + p_.r0 + q(j, free));
      }
    }
    return q_memo_[key] = best;
  }
  double r(std::int64_t l) {
    if (const auto found = r_memo_.find(l); found != r_memo_.end()) return found->second;
    double best = p_.ub;
    if (l >= 2) {
      best = (l - 1) * p_.uf + p_.ub + p_.r1 + r(l - 1);
      for (std::int64_t j = 1; j < l && c0_ >= 1; ++j) {
        best = std::min(best, j * p_.uf + p_.w0 + q(l - j, c0_ - 1) + p_.r1 + r(j));
      }
      if (c0_ >= 1) best = std::min(best, p_.w0 + q(l, c0_ - 1));
    }
    return r_memo_[l] = best;
  }

  // The cheapest cut of T steps into at most `most` segments, with `sweeps` reverse sweeps, by
  // trying every composition of T; also the all-in-RAM plan.
  double best_plan(std::int64_t steps, std::int64_t most, std::int64_t sweeps) {
    const double n = static_cast<double>(sweeps);
    double best = std::numeric_limits<double>::infinity();
    if (c0_ >= 1) best = p_.w0 + n * q(steps, c0_ - 1) + (n - 1) * p_.r0;
    if (most < 1) return best;
    for (std::uint64_t cuts = 0; cuts < (std::uint64_t{1} << (steps - 1)); ++cuts) {
      std::vector<std::int64_t> lengths;
      std::int64_t start = 0;
      for (std::int64_t i = 1; i < steps; ++i) {
        if (cuts >> (i - 1) & 1) lengths.push_back(i - start), start = i;
      }
      lengths.push_back(steps - start);
      const auto p = static_cast<std::int64_t>(lengths.size());
      if (p > most) continue;
      double cost = p * p_.w1 + (static_cast<double>(p - 1) + (n - 1) * p) * p_.r1;
      for (std::int64_t i = 0; i < p; ++i) {
        const auto m = lengths[static_cast<std::size_t>(i)];
        if (i + 1 < p) cost += m * p_.uf;
        cost += n * r(m);
      }
      best = std::min(best, cost);
    }
    return best;
  }

 private:
  std::int64_t c0_;
  Prices p_;
  std::map<std::pair<std::int64_t, std::int64_t>, double> q_memo_;
  std::map<std::int64_t, double> r_memo_;
};

TEST_CASE("two-level: several sweeps are the cheapest cut, checked against every cut",
          "[two_level][sweeps]") {
  int ram_only = 0;  // multi-sweep plans that keep x_0 in RAM, counted by another path
  for (const Prices& p : price_sets) {
    for (const std::int64_t c0 : {0, 1, 2, 4}) {
      ReferenceSegments reference(c0, p);
      for (const std::int64_t c1 : {std::int64_t{1}, std::int64_t{3}, unlimited_slots}) {
        for (const std::int64_t sweeps : {1, 2, 3, 5}) {
          for (std::int64_t steps = 1; steps <= 13; ++steps) {
            TwoLevelRevolve schedule(steps, StorageLevel{c0, p.w0, p.r0},
                                     StorageLevel{c1, p.w1, p.r1}, StepCosts{p.uf, p.ub}, sweeps);
            INFO("T = " << steps << ", c0 = " << c0 << ", c1 = " << c1 << ", sweeps = " << sweeps
                        << ", disk prices " << p.w1 << "/" << p.r1);
            REQUIRE(schedule.sweeps() == sweeps);
            // One sweep with a finite disk reuses freed disk slots (H-Revolve's recursion),
            // which no cut does; that case is compared with MultilevelRevolve above.
            if (sweeps > 1 || (steps > 1 && c1 == unlimited_slots)) {
              REQUIRE(schedule.optimal_cost() ==
                      reference.best_plan(steps, std::min(c1, steps), sweeps));
            }
            require_stream_as_planned(schedule);
            REQUIRE(schedule.expected_costs().reverses == sweeps * steps);
            ram_only += sweeps > 1 && steps > 1 && schedule.disk_checkpoints() == 0;
          }
        }
      }
    }
  }
  REQUIRE(ram_only > 0);
}

TEST_CASE("two-level: several sweeps of a long run replay as planned", "[two_level][sweeps]") {
  for (const std::int64_t sweeps : {2, 4}) {
    TwoLevelRevolve many(200000, StorageLevel{8, 0, 0}, StorageLevel{unlimited_slots, 2, 2},
                         StepCosts{1, 1}, sweeps);
    require_stream_as_planned(many);
    // Checkpoints are worth more when reused: denser than for one sweep, and each later sweep
    // costs less than the first (no forward sweep to the disk checkpoints).
    TwoLevelRevolve one(200000, StorageLevel{8, 0, 0}, StorageLevel{unlimited_slots, 2, 2},
                        StepCosts{1, 1});
    REQUIRE(many.disk_checkpoints() >= one.disk_checkpoints());
    REQUIRE(many.optimal_cost() < sweeps * one.optimal_cost());
  }
  TwoLevelRevolve finite(3000, StorageLevel{4, 0, 0}, StorageLevel{12, 2, 2}, StepCosts{1, 1}, 3);
  REQUIRE(finite.disk_checkpoints() <= 12);
  require_stream_as_planned(finite);
}

TEST_CASE("two-level: the Driver runs one forward sweep and several adjoints, bitwise equal",
          "[two_level][sweeps][driver]") {
  using burgers_runs::State;
  const burgers::Problem problem(16);
  const std::int64_t steps = 400;
  const std::int64_t sweeps = 3;
  TwoLevelRevolve schedule(steps, StorageLevel{3, 0, 0}, StorageLevel{unlimited_slots, 2, 2},
                           StepCosts{1, 1}, sweeps);
  const State x0 = problem.initial_state();
  const std::size_t bytes = x0.size() * sizeof(double);
  cairn::MemoryStorage ram(3, bytes);
  cairn::MemoryStorage disk(steps, bytes);
  std::int64_t step_calls = 0;
  const auto step = [&](std::int64_t, State& x) {
    ++step_calls;
    problem.step(x);
  };
  const auto adjoint = [&](std::int64_t, const State& x, State& lambda) {
    problem.adjoint_step(x, lambda);
  };
  cairn::Driver<State> driver(schedule, std::vector<cairn::Storage*>{&ram, &disk}, step, adjoint);
  const State xT = driver.forward(x0);
  // Three different adjoint seeds (e.g. three objectives, or a Hessian-vector product's parts).
  std::vector<State> seeds;
  for (int k = 0; k < sweeps; ++k) {
    State seed = problem.objective_gradient(xT);
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] *= 1.0 + k * 0.5 + 0.01 * i;
    seeds.push_back(seed);
  }
  std::vector<State> gradients;
  for (const State& seed : seeds) gradients.push_back(driver.backward(seed));
  REQUIRE_THROWS_WITH(driver.backward(seeds[0]), Catch::Contains("no forward sweep to reverse"));
  REQUIRE(ram.occupied() == 0);
  REQUIRE(disk.occupied() == 0);
  // One forward run for all three: step calls are the plan's forward steps plus one (x_T).
  REQUIRE(step_calls == schedule.expected_costs().forward_steps + 1);
  // Each equals the gradient of its own store-all run, bit for bit.
  for (int k = 0; k < sweeps; ++k) {
    cairn::StoreAll reference(steps);
    cairn::MemoryStorage all(reference.slots(), bytes);
    cairn::Driver<State> plain(reference, all, step, adjoint);
    plain.forward(x0);
    REQUIRE(burgers_runs::bitwise_equal(plain.backward(seeds[static_cast<std::size_t>(k)]),
                                        gradients[static_cast<std::size_t>(k)]));
  }
}

TEST_CASE("checker: a stream of several sweeps", "[checker][sweeps]") {
  using A = cairn::Action;
  // T = 2, x_0 kept in slot 0 for both sweeps.
  const std::vector<A> stream = {
      A::make_store(0, 0),   A::make_advance(0, 1), A::make_reverse(1),    A::make_restore(0, 0),
      A::make_reverse(0),    A::make_restore(0, 0), A::make_advance(0, 1), A::make_reverse(1),
      A::make_restore(0, 0), A::make_reverse(0),    A::make_free(0),       A::make_end()};
  cairn::ScheduleChecker two(2, {1}, true, 2);
  for (const A& a : stream) REQUIRE(two.feed(a));
  const cairn::CheckResult result = two.finish();
  REQUIRE(result.legal);
  REQUIRE(result.costs.reverses == 4);
  // The same stream is not one sweep: step 1 is reversed only once per sweep.
  cairn::ScheduleChecker one(2, {1});
  bool legal = true;
  for (const A& a : stream) legal = one.feed(a) && legal;
  REQUIRE_FALSE(legal);
  REQUIRE_THAT(one.finish().reason, Catch::Contains("every step is already reversed"));
  // Three sweeps asked for, two given: the end comes too early.
  cairn::ScheduleChecker three(2, {1}, true, 3);
  for (const A& a : stream) three.feed(a);
  REQUIRE_THAT(three.finish().reason, Catch::Contains("steps 0..1 are not reversed yet"));
  REQUIRE_THROWS_WITH(cairn::ScheduleChecker(2, {1}, true, 0), Catch::Contains("sweeps = 0"));
}

}  // namespace
