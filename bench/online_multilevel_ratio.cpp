// OnlineMultilevelRevolve against the offline optimum for the same run, in the same run.
//
// Usage: cairn_bench_online_multilevel [grid|large|tune|shared|all]   (default all)
//
// grid:  the worst ratio (online cost / offline optimum) over T, RAM slots c and disk slots d, for
//        disk write = read prices p = 0, 1, 5, 20 (forward step 1, adjoint 0, RAM free). The
//        online cost is the checker's counts of a whole online run (T learnt at the end) priced
//        with the cost model; the offline reference is MultilevelRevolve(T + 1, {c, d}) (it
//        computes x_T too), whose cost for p = 0 is t(T + 1, c + d) exactly (docs/multilevel.md),
//        which is what is used there. Exhaustive in T for T <= 1000 (p = 0, every c <= 10 and
//        d <= 20) and T <= 100 (p > 0, c in {1, 2, 3, 5, 10}, d in {1, 2, 5, 10, 20}); T in
//        {200, 500, 1000, 2000} for the same c, d and p > 0.
// large: T = 10^5, 10^6, 10^7 with c = 10, d = 100: forward steps, disk writes and reads, and the
//        cost against the lower bound t(T + 1, c + d) (free I/O; the offline plan cannot be
//        built there) and against OnlineRevolve on the c RAM slots alone.
// tune:  the worst and mean ratios of other first-spacing rules on a smaller grid.
// shared: for disk prices p = 0.25..20, the worst ratio of the two designs the schedule chooses
//        between by prices: the disk spacing design (forced by giving its automatic first spacing)
//        and the shared mode, one OnlineRevolve over all c + d slots (RAM ones first), emulated
//        here from OnlineRevolve's stream; the same grid as the T <= 100 and T >= 200 rows.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/online_multilevel.hpp"
#include "cairn/online_schedule.hpp"

namespace {

using cairn::StorageLevel;

struct Counts {
  bool legal = false;
  cairn::ScheduleCosts costs;
  double cost = 0;
};

Counts run_online(std::int64_t steps, std::int64_t c, std::int64_t d, double price,
                  std::int64_t first_spacing = 0) {
  auto online = std::make_unique<cairn::OnlineMultilevelRevolve>(
      StorageLevel{c, 0, 0}, StorageLevel{d, price, price}, cairn::StepCosts{1, 0}, first_spacing);
  const cairn::CostModel model = online->cost_model();
  const std::vector<std::int64_t> slots = online->slots_per_level(steps);
  cairn::SimulatedOnlineRun run(steps, std::move(online));
  cairn::ScheduleChecker checker(steps, slots, false);
  cairn::Action buffer[256];
  while (!checker.ended() && !checker.failed()) {
    const std::size_t n = run.next_actions(buffer, 256);
    for (std::size_t i = 0; i < n; ++i) checker.feed(buffer[i]);
  }
  const cairn::CheckResult r = checker.finish();
  Counts out;
  out.legal = r.legal;
  out.costs = r.costs;
  out.cost = cairn::cost(r.costs, model);
  return out;
}

double offline_optimum(std::int64_t steps, std::int64_t c, std::int64_t d, double price) {
  if (price == 0) return static_cast<double>(cairn::forward_cost(steps + 1, c + d));
  const cairn::MultilevelRevolve offline(
      steps + 1, {StorageLevel{c, 0, 0}, StorageLevel{d, price, price}}, cairn::StepCosts{1, 0});
  return offline.optimal_cost();
}

struct Worst {
  double ratio = 0;
  std::int64_t T = 0, c = 0, d = 0;
  double sum = 0;
  std::int64_t n = 0;
  bool illegal = false;
  void add(double r, std::int64_t steps, std::int64_t cc, std::int64_t dd) {
    sum += r;
    ++n;
    if (r > ratio) {
      ratio = r;
      T = steps;
      c = cc;
      d = dd;
    }
  }
};

void print_row(const char* range, double price, const Worst& w) {
  std::printf("| %-28s | %4g | %7lld | %8.4f | %5lld | %3lld | %3lld | %6.4f |%s\n", range, price,
              static_cast<long long>(w.n), w.ratio, static_cast<long long>(w.T),
              static_cast<long long>(w.c), static_cast<long long>(w.d),
              w.n > 0 ? w.sum / static_cast<double>(w.n) : 0.0, w.illegal ? " ILLEGAL" : "");
  std::fflush(stdout);
}

// One run of the grid: its ratio to the offline optimum, into `one` for c = 1 (segments reversed
// with one RAM slot) and into `more` for c >= 2.
void tally(Worst& one, Worst& more, std::int64_t T, std::int64_t c, std::int64_t d, double price) {
  const Counts on = run_online(T, c, d, price);
  Worst& w = c == 1 ? one : more;
  if (!on.legal) w.illegal = true;
  w.add(on.cost / offline_optimum(T, c, d, price), T, c, d);
}

void grid() {
  std::printf(
      "| T range, slots              |    p |    runs | worst ratio | at T |   c |   d | mean   "
      "|\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  {
    Worst one, more;
    for (std::int64_t c = 1; c <= 10; ++c) {
      for (std::int64_t d = 1; d <= 20; ++d) {
        for (std::int64_t T = 1; T <= 1000; ++T) {
          tally(one, more, T, c, d, 0);
        }
      }
    }
    print_row("1..1000, c = 1, d 1..20", 0, one);
    print_row("1..1000, c 2..10, d 1..20", 0, more);
  }
  const std::int64_t ram[] = {1, 2, 3, 5, 10};
  const std::int64_t disk[] = {1, 2, 5, 10, 20};
  for (const double price : {1.0, 5.0, 20.0}) {
    Worst one, more;
    for (const std::int64_t c : ram) {
      for (const std::int64_t d : disk) {
        for (std::int64_t T = 1; T <= 100; ++T) {
          tally(one, more, T, c, d, price);
        }
      }
    }
    print_row("1..100, c = 1, d {1,2,5,10,20}", price, one);
    print_row("1..100, c {2,3,5,10}, same d", price, more);
  }
  for (const double price : {0.0, 1.0, 5.0, 20.0}) {
    Worst one, more;
    for (const std::int64_t c : ram) {
      for (const std::int64_t d : disk) {
        for (const std::int64_t T : {200, 500, 1000, 2000}) {
          tally(one, more, T, c, d, price);
        }
      }
    }
    print_row("{200,500,1000,2000}, c = 1", price, one);
    print_row("{200,500,1000,2000}, c 2..10", price, more);
  }
}

void large() {
  std::printf(
      "|        T |    p | forward steps | disk writes | disk reads | cost | t(T+1,c+d) | "
      "cost / bound | RAM-only online steps | ours / RAM-only |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  const std::int64_t c = 10, d = 100;
  for (const std::int64_t T : {100000, 1000000, 10000000}) {
    cairn::SimulatedOnlineRun ram_only(T, c);
    const cairn::CheckResult ro = cairn::check(ram_only, T, {c});
    for (const double price : {0.0, 1.0, 20.0}) {
      const Counts on = run_online(T, c, d, price);
      const double bound = static_cast<double>(cairn::forward_cost(T + 1, c + d));
      std::printf(
          "| %8lld | %4g | %13lld | %11lld | %10lld | %.0f | %.0f | %.3f | %lld | %.3f |%s\n",
          static_cast<long long>(T), price, static_cast<long long>(on.costs.forward_steps),
          static_cast<long long>(on.costs.levels[1].stores),
          static_cast<long long>(on.costs.levels[1].restores), on.cost, bound, on.cost / bound,
          static_cast<long long>(ro.costs.forward_steps),
          on.cost / static_cast<double>(ro.costs.forward_steps), on.legal ? "" : " ILLEGAL");
      std::fflush(stdout);
    }
  }
}

// Other first-spacing rules: beta(c', k) for k = 1, 2, 3 and a price factor f in
// L0 = max(beta(c', k), ceil(f (w + r))).
void tune() {
  std::printf("| rule | p | worst ratio | at T | c | d | mean |\n|---|---|---|---|---|---|---|\n");
  const std::int64_t ram[] = {1, 2, 3, 5, 10};
  const std::int64_t disk[] = {1, 2, 5, 20};
  for (const int k : {1, 2, 3}) {
    for (const double f : {1.0, 4.0, 16.0}) {
      for (const double price : {0.0, 1.0, 5.0, 20.0}) {
        Worst w;
        for (const std::int64_t c : ram) {
          for (const std::int64_t d : disk) {
            const std::int64_t inner = std::max<std::int64_t>(price > 0 ? c - 1 : c, 1);
            const std::int64_t L0 = std::max<std::int64_t>(
                cairn::beta(inner, k), static_cast<std::int64_t>(std::ceil(f * 2 * price)));
            for (const std::int64_t T : {10, 30, 60, 100, 300, 1000}) {
              const Counts on = run_online(T, c, d, price, L0);
              w.add(on.cost / offline_optimum(T, c, d, price), T, c, d);
            }
          }
        }
        std::printf("| beta(c', %d), %g (w + r) | %g | %.4f | %lld | %lld | %lld | %.4f |\n", k, f,
                    price, w.ratio, static_cast<long long>(w.T), static_cast<long long>(w.c),
                    static_cast<long long>(w.d), w.sum / static_cast<double>(w.n));
        std::fflush(stdout);
      }
    }
  }
}

// OnlineRevolve(c + d)'s stream for a run of T steps, its slots below c on RAM and the others on
// disk: what the schedule's shared mode emits.
Counts run_shared(std::int64_t steps, std::int64_t c, std::int64_t d, double price) {
  cairn::SimulatedOnlineRun run(steps, c + d);
  cairn::ScheduleChecker checker(steps, {c, d}, false);
  while (!checker.ended() && !checker.failed()) {
    cairn::Action a = run.next();
    if (a.kind == cairn::ActionKind::store || a.kind == cairn::ActionKind::restore ||
        a.kind == cairn::ActionKind::free) {
      if (a.slot >= c) {
        a.level = 1;
        a.slot -= c;
      }
    }
    checker.feed(a);
  }
  const cairn::CheckResult r = checker.finish();
  Counts out;
  out.legal = r.legal;
  out.costs = r.costs;
  out.cost = cairn::cost(r.costs, cairn::CostModel{1, 0, {0, price}, {0, price}});
  return out;
}

void shared() {
  std::printf(
      "| p | c | spacing design, T <= 100 | shared, T <= 100 | spacing design, T >= 200 | shared, "
      "T >= 200 |\n|---|---|---|---|---|---|\n");
  const std::int64_t ram[] = {1, 2, 3, 5, 10};
  const std::int64_t disk[] = {1, 2, 5, 10, 20};
  for (const double price : {0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0}) {
    Worst spacing[2][2], all[2][2];  // [c == 1 ? 0 : 1][T <= 100 ? 0 : 1]
    for (const std::int64_t c : ram) {
      for (const std::int64_t d : disk) {
        const std::int64_t L0 =
            cairn::OnlineMultilevelRevolve(StorageLevel{c, 0, 0}, StorageLevel{d, price, price},
                                           cairn::StepCosts{1, 0})
                .first_spacing();
        std::vector<std::int64_t> runs;
        for (std::int64_t T = 1; T <= 100; ++T) runs.push_back(T);
        for (const std::int64_t T : {200, 500, 1000, 2000}) runs.push_back(T);
        for (const std::int64_t T : runs) {
          const double best = offline_optimum(T, c, d, price);
          const int row = c == 1 ? 0 : 1;
          const int col = T <= 100 ? 0 : 1;
          const Counts a = run_online(T, c, d, price, L0);
          const Counts b = run_shared(T, c, d, price);
          if (!a.legal) spacing[row][col].illegal = true;
          if (!b.legal) all[row][col].illegal = true;
          spacing[row][col].add(a.cost / best, T, c, d);
          all[row][col].add(b.cost / best, T, c, d);
        }
      }
    }
    for (int row = 0; row < 2; ++row) {
      std::printf(
          "| %g | %s | %.3f (T %lld, d %lld) | %.3f (T %lld, d %lld) | %.3f (T %lld, d %lld) "
          "| %.3f (T %lld, d %lld) |%s\n",
          price, row == 0 ? "1" : "2..10", spacing[row][0].ratio,
          static_cast<long long>(spacing[row][0].T), static_cast<long long>(spacing[row][0].d),
          all[row][0].ratio, static_cast<long long>(all[row][0].T),
          static_cast<long long>(all[row][0].d), spacing[row][1].ratio,
          static_cast<long long>(spacing[row][1].T), static_cast<long long>(spacing[row][1].d),
          all[row][1].ratio, static_cast<long long>(all[row][1].T),
          static_cast<long long>(all[row][1].d),
          spacing[row][0].illegal || spacing[row][1].illegal || all[row][0].illegal ||
                  all[row][1].illegal
              ? " ILLEGAL"
              : "");
    }
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "all";
  if (what == "tune") tune();
  if (what == "shared") shared();
  if (what == "grid" || what == "all") grid();
  if (what == "large" || what == "all") large();
  return 0;
}
