// TwoLevelRevolve against the exact nested DP (MultilevelRevolve) in the same run: plan time,
// cost ratio, and the stream replayed through the checker.
//
// Usage: cairn_bench_two_level [--quick] [--with-exact-1e5]
//   part 1: T = 10^3 .. 10^8, 10 RAM slots, unlimited disk, write = read = 2 steps, ub = 1 (the
//           instance of issue 23); the exact DP where it runs (T <= 10^4; 10^5 takes ~100 s,
//           --with-exact-1e5 adds it); streams replayed for T <= 10^7 (10^8 in the full run).
//   part 2: finite disks (c0 = 10, c1 = 10 / 40 / 80 at T = 1000, c1 = 20 at T = 10^4).
//   part 3: the worst cost ratio to the exact DP over a grid of T, slot counts and prices.
//   part 4: dear disks (write = read = 20, 100, 1000 steps) at T = 10^6.
// Exit status 1 if a stream is illegal, costs other than planned, or a ratio is below 1.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cairn/check.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/two_level.hpp"

namespace {

using cairn::StepCosts;
using cairn::StorageLevel;
using cairn::unlimited_slots;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string slots_text(std::int64_t slots) {
  return slots == unlimited_slots ? "unlimited" : std::to_string(slots);
}

// Replays the stream; false if illegal or costing other than planned.
bool replay(cairn::TwoLevelRevolve& schedule, double& seconds, std::int64_t& actions) {
  const auto start = std::chrono::steady_clock::now();
  schedule.reset();
  const cairn::CheckResult result =
      cairn::check(schedule, schedule.steps(), schedule.slots_per_level(), INT64_MAX);
  seconds = seconds_since(start);
  actions = result.costs.actions;
  if (!result.legal) std::printf("ILLEGAL: %s\n", result.reason.c_str());
  return result.legal &&
         cairn::cost(result.costs, schedule.cost_model()) == schedule.optimal_cost();
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool exact_1e5 = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--with-exact-1e5") == 0) exact_1e5 = true;
  }
  bool ok = true;

  std::printf("part 1: c0 = 10, unlimited disk, write = read = 2, uf = 1, ub = 1\n");
  std::printf("%10s %10s %7s %7s %9s %16s %10s %16s %9s %10s %12s\n", "T", "plan_s", "M", "period",
              "disk", "cost", "exact_s", "exact_cost", "ratio", "replay_s", "actions/s");
  const std::int64_t longest_replay = quick ? 1000000 : 100000000;
  for (std::int64_t steps = 1000; steps <= 100000000; steps *= 10) {
    const StorageLevel ram{10, 0, 0};
    const StorageLevel disk{unlimited_slots, 2, 2};
    const StepCosts step{1, 1};
    const auto start = std::chrono::steady_clock::now();
    cairn::TwoLevelRevolve schedule(steps, ram, disk, step);
    const double plan_s = seconds_since(start);
    double exact_s = -1, exact_cost = -1;
    if (steps <= 10000 || (exact_1e5 && steps <= 100000)) {
      const auto exact_start = std::chrono::steady_clock::now();
      const cairn::MultilevelRevolve exact(steps, {ram, disk}, step);
      exact_s = seconds_since(exact_start);
      exact_cost = exact.optimal_cost();
      ok = ok && schedule.optimal_cost() >= exact_cost;
    }
    double replay_s = -1;
    std::int64_t actions = 0;
    if (steps <= longest_replay) ok = replay(schedule, replay_s, actions) && ok;
    const std::string ratio =
        exact_cost > 0 ? std::to_string(schedule.optimal_cost() / exact_cost) : "-";
    std::printf("%10lld %10.4f %7lld %7lld %9lld %16.0f %10.3f %16.0f %9s %10.2f %12.3g\n",
                static_cast<long long>(steps), plan_s,
                static_cast<long long>(schedule.longest_segment()),
                static_cast<long long>(schedule.period()),
                static_cast<long long>(schedule.disk_checkpoints()), schedule.optimal_cost(),
                exact_s, exact_cost, ratio.c_str(), replay_s,
                replay_s > 0 ? static_cast<double>(actions) / replay_s : 0.0);
  }

  std::printf("\npart 2: finite disks, c0 = 10, write = read = 2, uf = 1, ub = 1\n");
  std::printf("%8s %5s %5s %12s %12s %9s %14s %14s\n", "T", "c0", "c1", "plan_s", "exact_s",
              "speedup", "cost", "exact_cost");
  struct Finite {
    std::int64_t steps, c1;
  };
  for (const Finite f : {Finite{1000, 10}, Finite{1000, 40}, Finite{1000, 80}, Finite{10000, 20}}) {
    const StorageLevel ram{10, 0, 0};
    const StorageLevel disk{f.c1, 2, 2};
    const StepCosts step{1, 1};
    double plan_s = 1e300;
    for (int repeat = 0; repeat < 3; ++repeat) {
      const auto start = std::chrono::steady_clock::now();
      cairn::TwoLevelRevolve timed(f.steps, ram, disk, step);
      plan_s = std::min(plan_s, seconds_since(start));
    }
    cairn::TwoLevelRevolve schedule(f.steps, ram, disk, step);
    double replay_s = 0;
    std::int64_t actions = 0;
    ok = replay(schedule, replay_s, actions) && ok;
    double exact_s = -1, exact_cost = -1;
    if (!quick || f.steps <= 1000) {
      const auto start = std::chrono::steady_clock::now();
      const cairn::MultilevelRevolve exact(f.steps, {ram, disk}, step);
      exact_s = seconds_since(start);
      exact_cost = exact.optimal_cost();
      ok = ok && schedule.optimal_cost() >= exact_cost;
    }
    std::printf("%8lld %5d %5lld %12.4f %12.3f %9.1f %14.0f %14.0f\n",
                static_cast<long long>(f.steps), 10, static_cast<long long>(f.c1), plan_s, exact_s,
                exact_s > 0 ? exact_s / plan_s : 0.0, schedule.optimal_cost(), exact_cost);
  }

  std::printf("\npart 3: cost ratio to the exact nested DP over a grid\n");
  double worst = 1;
  std::string worst_case = "-";
  int instances = 0;
  const std::vector<std::int64_t> lengths = quick ? std::vector<std::int64_t>{100, 300, 1000}
                                                  : std::vector<std::int64_t>{100, 300, 1000, 2000};
  struct Price {
    double write, read, backward;
  };
  const Price prices[] = {{0.5, 0.5, 0}, {2, 2, 1}, {5, 1, 0}, {1, 10, 1}, {20, 20, 0}};
  for (const std::int64_t steps : lengths) {
    for (const std::int64_t c0 : {2, 5, 10}) {
      for (const std::int64_t c1 : {unlimited_slots, std::int64_t{5}, std::int64_t{20}}) {
        for (const Price& p : prices) {
          const StorageLevel ram{c0, 0, 0};
          const StorageLevel disk{c1, p.write, p.read};
          const StepCosts step{1, p.backward};
          cairn::TwoLevelRevolve schedule(steps, ram, disk, step);
          const cairn::MultilevelRevolve exact(steps, {ram, disk}, step);
          const double ratio = schedule.optimal_cost() / exact.optimal_cost();
          ++instances;
          if (ratio < 1) ok = false;
          if (ratio > worst) {
            worst = ratio;
            worst_case = "T = " + std::to_string(steps) + ", c0 = " + std::to_string(c0) +
                         ", c1 = " + slots_text(c1);
          }
        }
      }
    }
  }
  std::printf(
      "%d instances (T in {%s}, c0 in {2, 5, 10}, c1 in {unlimited, 5, 20}, "
      "(write, read, ub) in {(0.5,0.5,0), (2,2,1), (5,1,0), (1,10,1), (20,20,0)}): "
      "worst ratio %.9f (%s)\n",
      instances, quick ? "100, 300, 1000" : "100, 300, 1000, 2000", worst, worst_case.c_str());

  std::printf("\npart 4: dear disks, T = 10^6, c0 = 10, ub = 0\n");
  std::printf("%8s %10s %7s %7s %9s %8s %16s\n", "w=r", "plan_s", "M", "period", "disk", "proven",
              "cost");
  for (const double price : {20.0, 100.0, 1000.0}) {
    if (quick && price > 100) continue;
    const auto start = std::chrono::steady_clock::now();
    cairn::TwoLevelRevolve schedule(1000000, StorageLevel{10, 0, 0},
                                    StorageLevel{unlimited_slots, price, price}, StepCosts{1, 0});
    const double plan_s = seconds_since(start);
    std::printf("%8.0f %10.3f %7lld %7lld %9lld %8s %16.0f\n", price, plan_s,
                static_cast<long long>(schedule.longest_segment()),
                static_cast<long long>(schedule.period()),
                static_cast<long long>(schedule.disk_checkpoints()),
                schedule.proven_optimal() ? "yes" : "no", schedule.optimal_cost());
  }
  std::printf("\n%s\n", ok ? "all streams legal and as planned" : "FAILED");
  return ok ? 0 : 1;
}
